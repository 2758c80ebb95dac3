import type { DataSource, EntityManager } from 'typeorm';
import { LessThan } from 'typeorm';
import { CallbackInbox, type InboxSource } from '../../../entities/callback-inbox.entity';
import { Interaction } from '../../../entities/interaction.entity';
import type { Clock } from '../../adapters/clock';
import type { Transactor } from '../../db/transaction';
import { insertedId, type ContactsService } from '../contacts/contacts.service';
import type { InteractionDraft } from '../interactions/interaction-mapping';

export interface AcceptCallbackParams {
  source: InboxSource;
  /** The decrypted XML, kept so the work after the reply can run (or re-run) from it. */
  payload: string;
  draft: InteractionDraft;
}

export interface AcceptResult {
  duplicate: boolean;
  interactionId: number | null;
  contactId: number | null;
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

  constructor(private readonly deps: InboxServiceDeps) {
    this.leaseMs = deps.leaseMs ?? 60_000;
    this.maxAttempts = deps.maxAttempts ?? 10;
  }

  accept(p: AcceptCallbackParams): Promise<AcceptResult> {
    return this.deps.transactor.runRetryingOnConflict(async (m) => {
      const seen = await m.findOne(CallbackInbox, { where: { dedupeKey: p.draft.dedupeKey }, select: { id: true, interactionId: true } });
      if (seen) return { duplicate: true, interactionId: seen.interactionId, contactId: null };
      const now = this.deps.clock.now();
      const contactId = p.draft.identity ? (await this.deps.contacts.resolveContact(m, p.draft.identity)).contactId : null;
      const inserted = await m.insert(Interaction, {
        contactId,
        type: p.draft.type,
        channel: p.draft.channel,
        occurredAt: p.draft.occurredAt,
        detail: p.draft.detail,
        dedupeKey: p.draft.dedupeKey,
        createdAt: now,
      });
      const interactionId = insertedId(inserted.identifiers);
      await m.insert(CallbackInbox, {
        source: p.source,
        dedupeKey: p.draft.dedupeKey,
        payload: p.payload,
        interactionId,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        receivedAt: now,
      });
      return { duplicate: false, interactionId, contactId };
    });
  }

  /**
   * Leases due rows: pending ones, and rows whose worker died mid-way (lease expired). The
   * conditional update means two instances never work on the same row at once.
   */
  async claimDue(limit: number): Promise<CallbackInbox[]> {
    const now = this.deps.clock.now();
    const repo = this.deps.dataSource.getRepository(CallbackInbox);
    const candidates = await repo
      .createQueryBuilder('i')
      .where('(i.status = :pending AND i.nextAttemptAt <= :now) OR (i.status = :processing AND i.leaseUntil < :now)', {
        pending: 'pending',
        processing: 'processing',
        now,
      })
      .orderBy('i.id', 'ASC')
      .limit(limit)
      .getMany();
    const claimed: CallbackInbox[] = [];
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    for (const row of candidates) {
      const result = await repo
        .createQueryBuilder()
        .update()
        .set({ status: 'processing', leaseHolder: this.deps.holder, leaseUntil, attempts: row.attempts + 1 })
        .where('id = :id AND attempts = :attempts AND status = :status', { id: row.id, attempts: row.attempts, status: row.status })
        .execute();
      if (result.affected === 1) claimed.push({ ...row, status: 'processing', leaseHolder: this.deps.holder, leaseUntil, attempts: row.attempts + 1 });
    }
    return claimed;
  }

  async markDone(manager: EntityManager, id: number): Promise<void> {
    await manager.update(CallbackInbox, { id, leaseHolder: this.deps.holder }, { status: 'done', processedAt: this.deps.clock.now(), leaseUntil: null, lastError: null });
  }

  /** Backs off 5 s, 10 s, 20 s ... (capped at 10 min); after maxAttempts the row is parked as failed. */
  async markFailed(row: CallbackInbox, error: string): Promise<void> {
    const now = this.deps.clock.now();
    const giveUp = row.attempts >= this.maxAttempts;
    const delay = Math.min(5_000 * 2 ** (row.attempts - 1), 600_000);
    await this.deps.dataSource.manager.update(
      CallbackInbox,
      { id: row.id, leaseHolder: this.deps.holder },
      { status: giveUp ? 'failed' : 'pending', nextAttemptAt: new Date(now.getTime() + delay), leaseUntil: null, lastError: error.slice(0, 1024) },
    );
  }

  /** Processed rows are kept 7 days at least, then pruned; interactions keep their dedupe key for good. */
  async pruneProcessed(olderThan: Date): Promise<number> {
    const result = await this.deps.dataSource.manager.delete(CallbackInbox, { status: 'done', receivedAt: LessThan(olderThan) });
    return result.affected ?? 0;
  }
}
