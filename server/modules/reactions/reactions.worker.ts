import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { Interaction } from '../../../entities/interaction.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import type { Metrics } from '../../adapters/metrics';
import { currentRequestId, runOutsideRequest } from '../../adapters/request-context';
import { LeaseQueue, type Claim } from '../../db/lease-queue';
import type { Transactor } from '../../db/transaction';
import type { ContactsService } from '../contacts/contacts.service';
import { handles, ReactionBatch, type Reaction, type ReactionWrite } from './reaction';

export interface ReactionsWorkerDeps {
  dataSource: DataSource;
  transactor: Transactor;
  contacts: ContactsService;
  /** In the order they run; each is given the interactions it handles (`Reaction.handles`). */
  reactions: Reaction[];
  clock: Clock;
  logger: Logger;
  /** This instance's id, for leases. */
  holder: string;
  /** How long a claim holds before another instance may take its rows (renewed while a batch runs). */
  leaseMs?: number;
  maxAttempts?: number;
  /** How long a kick waits before its pass; see kick(). */
  batchDelayMs?: number;
  /** Rows per batch (one transaction), and rows per pass before the pass yields to the next. */
  batchSize?: number;
  passLimit?: number;
  /** Counts failed attempts (flywheel_reactions_failed_total). */
  metrics?: Pick<Metrics, 'reactionsFailed'>;
}

/** Reactions show up this much later; the callbacks' answers do not wait for them. */
const DEFAULT_BATCH_DELAY_MS = 50;
const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_PASS_LIMIT = 10_000;
/** Short, and renewed while a batch runs: after a crash (kill -9) its rows wait this long at most. */
const DEFAULT_LEASE_MS = 15_000;

/**
 * A row of the batch with the writes its reactions prepared: the input of every try of the batch's
 * transaction, never changed by one (a try that rolled back must leave nothing for the next).
 */
interface PreparedRow {
  readonly workId: number;
  readonly interaction: Interaction;
  readonly writes: readonly ReactionWrite[];
}

/** The batch's claim was taken over (this instance stalled past its lease): its writes must not commit. */
class LeaseLostError extends Error {}

/**
 * Runs the reactions of new interactions from their work rows (reaction_work). Platform
 * lookups happen row by row before the transaction, yielding to the event loop in between (under
 * a burst the callbacks, which must answer within 5 s, come first); then the whole batch is
 * written in one transaction with the rows marked done under the claim's token. If that fails, the
 * rows are written one by one, so a bad row only fails (and is retried) alone. Every write is
 * idempotent, so a replay after a crash changes nothing.
 */
export class ReactionsWorker {
  readonly queue: LeaseQueue;
  private running: Promise<number> | null = null;
  private again = false;
  private stopping = false;
  /** The last pass stopped at its limit, not because nothing was due. */
  private moreDue = false;

  /** The registered reactions, in order (what they handle decides which interactions get a work row). */
  get reactions(): readonly Reaction[] {
    return this.deps.reactions;
  }

  constructor(private readonly deps: ReactionsWorkerDeps) {
    this.queue = new LeaseQueue({
      dataSource: deps.dataSource,
      clock: deps.clock,
      holder: deps.holder,
      table: 'reaction_work',
      leaseMs: deps.leaseMs ?? DEFAULT_LEASE_MS,
      maxAttempts: deps.maxAttempts ?? 10,
    });
  }

  /**
   * Asks for a pass soon, after the HTTP reply has gone; overlapping asks coalesce. The pass
   * starts `batchDelayMs` later, so that under load it finds a batch rather than the last group
   * of callbacks: each batch costs a dozen statements whatever its size.
   */
  kick(): void {
    // A pass serves every callback of its batch: its log lines carry no one request's id.
    if (currentRequestId() !== undefined) return runOutsideRequest(() => this.kick());
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const delayMs = this.deps.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS;
    this.running = new Promise((resolve) => setTimeout(resolve, delayMs))
      .then(() => this.processDue())
      .catch((error: unknown) => {
        this.deps.logger.error('reactions pass failed', { error });
        return 0;
      })
      .finally(() => {
        this.running = null;
        // A pass that stopped at its limit left rows due, and after a burst nothing may come to
        // kick again: go on.
        if (this.again || this.moreDue) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** At shutdown: finish the batch in hand and take no more (what is left waits in the table). */
  stop(): void {
    this.stopping = true;
  }

  /** Resolves when the current pass (if any) is over; for shutdown and tests. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Processes due rows until a claim comes back short or the pass limit is reached; returns how many were done. */
  async processDue(): Promise<number> {
    const batchSize = this.deps.batchSize ?? DEFAULT_BATCH_SIZE;
    const maxBatches = Math.ceil((this.deps.passLimit ?? DEFAULT_PASS_LIMIT) / batchSize);
    let done = 0;
    this.moreDue = false;
    for (let i = 0; i < maxBatches && !this.stopping; i += 1) {
      const claim = await this.queue.claim({ limit: batchSize });
      if (!claim) return done;
      done += await this.runClaim(claim);
      // A partial batch was everything due: what arrives next waits for the next kick and comes
      // as a batch, instead of a trickle of small ones.
      if (claim.ids.length < batchSize) return done;
    }
    this.moreDue = !this.stopping;
    return done;
  }

  private async runClaim(claim: Claim): Promise<number> {
    // Renewed while the batch runs: platform lookups can be slow, and a lease that lapsed would
    // let another instance run the same rows.
    const renewal = setInterval(
      () => {
        this.queue.renew(claim).catch((error: unknown) => this.deps.logger.warn('lease renewal failed', { error }));
      },
      Math.max(1_000, Math.floor(this.queue.leaseMs / 3)),
    );
    try {
      const prepared = await this.prepareClaim(claim);
      return prepared.length > 0 ? await this.writePrepared(claim, prepared) : 0;
    } finally {
      clearInterval(renewal);
    }
  }

  private async prepareClaim(claim: Claim): Promise<PreparedRow[]> {
    const m = this.deps.dataSource.manager;
    const work = await m.find(ReactionWork, { where: { id: In(claim.ids) }, order: { id: 'ASC' } });
    const keys = work.map((w) => w.dedupeKey);
    const interactions = keys.length > 0 ? await m.findBy(Interaction, { dedupeKey: In(keys) }) : [];
    const byKey = new Map(interactions.map((i) => [i.dedupeKey, i]));

    const batched = await this.prepareBatches(interactions);
    const prepared: PreparedRow[] = [];
    for (const w of work) {
      await new Promise((resolve) => setImmediate(resolve));
      const interaction = byKey.get(w.dedupeKey);
      try {
        if (!interaction) throw new Error(`work row ${w.id} has no interaction (${w.dedupeKey})`);
        const writes: ReactionWrite[] = [];
        for (const [index, reaction] of this.deps.reactions.entries()) {
          // A row is here because some reaction asked for it; the others are not given it.
          if (!handles(reaction, interaction.type, interaction.direction)) continue;
          const fromBatch = batched[index];
          const write = fromBatch?.has(interaction.id) ? fromBatch.get(interaction.id) : await reaction.prepare(interaction);
          if (write) writes.push(write);
        }
        prepared.push({ workId: w.id, interaction, writes });
      } catch (error) {
        await this.fail(claim, w.id, error);
      }
    }
    return prepared;
  }

  /** Per reaction (by index), the writes its prepareBatch made; a failed batch falls back to prepare. */
  private async prepareBatches(interactions: Interaction[]): Promise<(Map<number, ReactionWrite | null> | null)[]> {
    return Promise.all(
      this.deps.reactions.map(async (reaction) => {
        const handled = interactions.filter((i) => handles(reaction, i.type, i.direction));
        if (!reaction.prepareBatch || handled.length === 0) return null;
        try {
          return await reaction.prepareBatch(handled);
        } catch (error) {
          this.deps.logger.warn('batch preparation failed; preparing row by row', { reaction: reaction.name, error });
          return null;
        }
      }),
    );
  }

  /** One transaction for the batch; if it fails, row by row, so a bad row fails alone. */
  private async writePrepared(claim: Claim, prepared: readonly PreparedRow[]): Promise<number> {
    try {
      await this.deps.transactor.runRetrying((m) => this.writeBatch(m, claim, prepared));
      return prepared.length;
    } catch (error) {
      if (error instanceof LeaseLostError) return this.lostLease(claim, prepared.length);
      this.deps.logger.warn('reaction batch failed; writing its rows one by one', { rows: prepared.length, error });
      let done = 0;
      for (const p of prepared) {
        try {
          await this.deps.transactor.runRetrying((m) => this.writeBatch(m, claim, [p]));
          done += 1;
        } catch (single) {
          if (single instanceof LeaseLostError) this.lostLease(claim, 1);
          else await this.fail(claim, p.workId, single);
        }
      }
      return done;
    }
  }

  /**
   * One try of the batch's transaction. It starts from the prepared rows and the database alone:
   * each contact's survivor is read and locked here (a merge made meanwhile by another pass or
   * instance is followed; one that starts now waits for this commit, then moves what it wrote),
   * and the batch's state is new, so a try after a rollback redoes the merges the rolled-back
   * one had made.
   */
  private async writeBatch(m: EntityManager, claim: Claim, rows: readonly PreparedRow[]): Promise<void> {
    const batch = new ReactionBatch();
    const contactIds = rows.flatMap((p) => (p.interaction.contactId === null ? [] : [p.interaction.contactId]));
    for (const [id, survivor] of await this.deps.contacts.lockSurvivors(m, contactIds)) batch.recordMerge(id, survivor);
    // A late interaction (stored while its contact was being merged) moves to the survivor.
    for (const p of rows) {
      const survivor = batch.survivorOf(p.interaction.contactId);
      if (survivor !== p.interaction.contactId)
        await m.query('UPDATE interactions SET contact_id = ? WHERE id = ?', [survivor, p.interaction.id]);
    }
    for (const p of rows) {
      // Each write sees the contact as the writes before it left it (merged, perhaps).
      for (const write of p.writes)
        await write(m, { interaction: p.interaction, contactId: batch.survivorOf(p.interaction.contactId) }, batch);
    }
    for (const reaction of this.deps.reactions) await reaction.finish?.(m, batch);
    const ids = rows.map((p) => p.workId);
    if ((await this.queue.complete(claim, ids, m)) !== ids.length) throw new LeaseLostError();
  }

  private lostLease(claim: Claim, rows: number): number {
    this.deps.logger.warn('reaction lease was taken over before the batch committed; another instance runs it', {
      rows,
      token: claim.token,
    });
    return 0;
  }

  private async fail(claim: Claim, workId: number, error: unknown): Promise<void> {
    const text = error instanceof Error ? error.message || error.name : String(error);
    const outcome = await this.queue.fail({ claim, id: workId, error: text });
    if (outcome !== 'not-held') this.deps.metrics?.reactionsFailed.inc({ outcome });
    this.deps.logger.warn(outcome === 'failed' ? 'interaction reactions failed for good' : 'interaction reactions failed; will retry', {
      workId,
      outcome,
      error,
    });
  }
}
