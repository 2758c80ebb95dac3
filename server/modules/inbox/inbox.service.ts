import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { In, LessThan } from 'typeorm';
import { CallbackInbox, type InboxSource } from '../../../entities/callback-inbox.entity';
import type { Clock } from '../../adapters/clock';
import { isUniqueViolation } from '../../db/migrate';
import { executeCountingRows, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { identityKey, type ContactsService } from '../contacts/contacts.service';
import type { InteractionDraft } from '../interactions/interaction-mapping';

export interface AcceptCallbackParams {
  source: InboxSource;
  /** The decrypted XML, kept so the work after the reply can run (or re-run) from it. */
  payload: string;
  draft: InteractionDraft;
}

export interface AcceptResult {
  duplicate: boolean;
  contactId: number | null;
}

const DUPLICATE: AcceptResult = { duplicate: true, contactId: null };

/** The first callback of each dedupe key; later ones in the same group are duplicates. */
function firstOfEachKey(group: AcceptCallbackParams[]): AcceptCallbackParams[] {
  const seen = new Set<string>();
  return group.filter((p) => !seen.has(p.draft.dedupeKey) && seen.add(p.draft.dedupeKey));
}

/** Callbacks committed together at most; bounds one transaction's size and lock time. */
const MAX_GROUP_COMMIT = 200;

const INSERT_INTERACTIONS = 'INSERT INTO interactions (contact_id, type, channel, occurred_at, detail, dedupe_key, created_at) VALUES';
const INTERACTION_ROW = '(?, ?, ?, ?, ?, ?, ?)';
const interactionValues = (p: AcceptCallbackParams, contactId: number | null, now: string): unknown[] => [
  contactId,
  p.draft.type,
  p.draft.channel,
  toSqlDate(p.draft.occurredAt),
  JSON.stringify(p.draft.detail),
  p.draft.dedupeKey,
  now,
];

// The inbox row finds its interaction by the dedupe key both carry (unique on both tables), so
// storing a group needs no read-back of the interactions' ids.
const INSERT_INBOX = 'INSERT INTO callback_inbox (source, dedupe_key, payload, status, attempts, next_attempt_at, received_at) VALUES';
const INBOX_ROW = "(?, ?, ?, 'pending', 0, ?, ?)";
const inboxValues = (p: AcceptCallbackParams, now: string): unknown[] => [p.source, p.draft.dedupeKey, p.payload, now, now];

interface WaitingCallback {
  params: AcceptCallbackParams;
  resolve: (result: AcceptResult) => void;
  reject: (error: unknown) => void;
}

export interface InboxServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  contacts: ContactsService;
  clock: Clock;
  /** This instance's id, written into leases. */
  holder: string;
  leaseMs?: number;
  maxAttempts?: number;
}

/**
 * The callback inbox: a callback is acknowledged only after its interaction and inbox row are
 * committed together. The dedupe key is unique on both, so WeChat's retries change nothing.
 */
export class InboxService {
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly waiting: WaitingCallback[] = [];
  private flushScheduled = false;

  constructor(private readonly deps: InboxServiceDeps) {
    this.leaseMs = deps.leaseMs ?? 60_000;
    this.maxAttempts = deps.maxAttempts ?? 10;
  }

  /**
   * Stores a callback; resolves once it is committed. Callbacks arriving together share one
   * transaction (group commit): each commit is a log write, and on SQLite the single writer
   * makes it the bottleneck. If the shared transaction fails, each callback is retried on its
   * own, so one bad callback never fails its neighbours.
   */
  accept(p: AcceptCallbackParams): Promise<AcceptResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ params: p, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * One group commit in flight per process: while it commits, the next callbacks gather into the
   * next group. Concurrent small transactions would each pay a log flush and contend for the
   * same index pages instead.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.waiting.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.waiting.splice(0, MAX_GROUP_COMMIT);
    try {
      await this.commitGroup(batch);
    } finally {
      this.flushScheduled = false;
      this.scheduleFlush();
    }
  }

  private async commitGroup(batch: WaitingCallback[]): Promise<void> {
    try {
      const results = await this.deps.transactor.run((m) => this.insertGroup(m, batch.map((item) => item.params)));
      batch.forEach((item, i) => item.resolve(results[i]));
    } catch {
      for (const item of batch) {
        try {
          item.resolve(await this.deps.transactor.runRetryingOnConflict((m) => this.insertCallback(m, item.params)));
        } catch (error) {
          item.reject(error);
        }
      }
    }
  }

  /**
   * A group of callbacks in a constant number of statements (multi-row INSERTs), whatever its
   * size: on MySQL every statement is a round trip, and under load each one waits its turn on
   * the event loop too. Duplicates are rare (WeChat retries only unanswered callbacks), so the
   * group is inserted without looking first: a stored duplicate fails the INSERT, which both
   * databases undo alone (statement-level rollback), and only then are stored keys read and
   * left out. A duplicate inserted concurrently by another instance fails the group, which then
   * falls back to one by one.
   */
  private async insertGroup(m: EntityManager, group: AcceptCallbackParams[]): Promise<AcceptResult[]> {
    if (group.length === 1) return [await this.insertCallback(m, group[0])];
    const now = toSqlDate(this.deps.clock.now());
    const identities = group.flatMap((p) => (p.draft.identity ? [p.draft.identity] : []));
    const contacts = identities.length > 0 ? await this.deps.contacts.resolveContacts(m, identities) : new Map<string, number>();
    const contactOf = (p: AcceptCallbackParams): number | null => (p.draft.identity ? (contacts.get(identityKey(p.draft.identity)) ?? null) : null);

    let fresh = firstOfEachKey(group);
    const insertInteractions = (rows: AcceptCallbackParams[]) =>
      m.query(`${INSERT_INTERACTIONS} ${rows.map(() => INTERACTION_ROW).join(',')}`, rows.flatMap((p) => interactionValues(p, contactOf(p), now)));
    try {
      await insertInteractions(fresh);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const keys = fresh.map((p) => p.draft.dedupeKey);
      const stored: { dedupe_key: string }[] = await m.query(`SELECT dedupe_key FROM interactions WHERE dedupe_key IN (${placeholders(keys.length)})`, keys);
      const taken = new Set(stored.map((r) => r.dedupe_key));
      fresh = fresh.filter((p) => !taken.has(p.draft.dedupeKey));
      if (fresh.length > 0) await insertInteractions(fresh);
    }
    if (fresh.length > 0) await m.query(`${INSERT_INBOX} ${fresh.map(() => INBOX_ROW).join(',')}`, fresh.flatMap((p) => inboxValues(p, now)));
    const stored = new Set(fresh);
    return group.map((p) => (stored.has(p) ? { duplicate: false, contactId: contactOf(p) } : DUPLICATE));
  }

  /**
   * Raw SQL on purpose: this is the callback's hot path. The interaction's unique dedupe key is
   * the duplicate check, so a first delivery costs no extra read. A duplicate has written
   * nothing (its contact already existed when the first delivery was stored).
   */
  private async insertCallback(m: EntityManager, p: AcceptCallbackParams): Promise<AcceptResult> {
    const now = toSqlDate(this.deps.clock.now());
    const contactId = p.draft.identity ? (await this.deps.contacts.resolveContact(m, p.draft.identity)).contactId : null;
    try {
      await m.query(`${INSERT_INTERACTIONS} ${INTERACTION_ROW}`, interactionValues(p, contactId, now));
    } catch (error) {
      if (isUniqueViolation(error)) return DUPLICATE;
      throw error;
    }
    await m.query(`${INSERT_INBOX} ${INBOX_ROW}`, inboxValues(p, now));
    return { duplicate: false, contactId };
  }

  /**
   * Leases due rows: pending ones whose next attempt is due and that no live lease holds (a
   * worker that died mid-way leaves a lease that simply expires). One guarded UPDATE claims the
   * batch under a fresh claim token (written as the lease holder), and only rows still due are
   * taken, so two instances never work on the same row at once.
   *
   * A claimed row stays `pending`: only unindexed lease columns change, and the candidates are
   * read in the order of the (status, next_attempt_at) index, so a claim costs the same with a
   * backlog of a million rows as with ten.
   */
  async claimDue(limit: number): Promise<CallbackInbox[]> {
    const now = toSqlDate(this.deps.clock.now());
    const manager = this.deps.dataSource.manager;
    const due = "status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)";
    const candidates: { id: number | string }[] = await manager.query(
      `SELECT id FROM callback_inbox WHERE ${due} ORDER BY next_attempt_at, id LIMIT ${Math.max(1, Math.floor(limit))}`,
      [now, now],
    );
    if (candidates.length === 0) return [];
    const ids = candidates.map((c) => Number(c.id));
    const token = `${this.deps.holder.slice(0, 48)}#${randomBytes(6).toString('hex')}`;
    const leaseUntil = toSqlDate(new Date(this.deps.clock.now().getTime() + this.leaseMs));
    const claimed = await executeCountingRows(
      manager,
      `UPDATE callback_inbox SET lease_holder = ?, lease_until = ?, attempts = attempts + 1 WHERE id IN (${placeholders(ids.length)}) AND ${due}`,
      [token, leaseUntil, ...ids, now, now],
    );
    if (claimed === 0) return [];
    return this.deps.dataSource.getRepository(CallbackInbox).find({ where: { id: In(ids), leaseHolder: token }, order: { id: 'ASC' } });
  }

  /** Only the claimer (its claim token) can finish a row; a worker whose lease was taken over cannot. */
  async markDone(manager: EntityManager, rows: CallbackInbox[]): Promise<void> {
    const byHolder = new Map<string, number[]>();
    for (const row of rows) byHolder.set(row.leaseHolder ?? '', [...(byHolder.get(row.leaseHolder ?? '') ?? []), row.id]);
    for (const [holder, ids] of byHolder) {
      await manager.query(
        `UPDATE callback_inbox SET status = 'done', processed_at = ?, lease_until = NULL, last_error = NULL WHERE lease_holder = ? AND id IN (${placeholders(ids.length)})`,
        [toSqlDate(this.deps.clock.now()), holder, ...ids],
      );
    }
  }

  /** Backs off 5 s, 10 s, 20 s ... (capped at 10 min); after maxAttempts the row is parked as failed. */
  async markFailed(row: CallbackInbox, error: string): Promise<void> {
    const now = this.deps.clock.now();
    const giveUp = row.attempts >= this.maxAttempts;
    const delay = Math.min(5_000 * 2 ** (row.attempts - 1), 600_000);
    await this.deps.dataSource.manager.query(
      'UPDATE callback_inbox SET status = ?, next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE id = ? AND lease_holder = ?',
      [giveUp ? 'failed' : 'pending', toSqlDate(new Date(now.getTime() + delay)), error.slice(0, 1024), row.id, row.leaseHolder],
    );
  }

  /**
   * Processed rows are kept 7 days at least, then pruned; interactions keep their dedupe key for
   * good. By next_attempt_at, to use the (status, next_attempt_at) index: a done row's next attempt
   * time is its arrival or a later retry, never earlier than received_at.
   */
  async pruneProcessed(olderThan: Date): Promise<number> {
    const result = await this.deps.dataSource.manager.delete(CallbackInbox, { status: 'done', nextAttemptAt: LessThan(olderThan) });
    return result.affected ?? 0;
  }
}
