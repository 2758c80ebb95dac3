import type { DataSource, EntityManager } from 'typeorm';
import type { BroadcastStatus } from '../../../entities/broadcast.entity';
import type { OutboxChannel } from '../../../entities/outbox-message.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { beginWriting, fromSqlDate, insertReturningId, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { AuditActor, AuditService } from '../audit/audit.service';
import type { OutboxService } from '../outbox/outbox.service';
import { countProgress, UNFINISHED_STATES } from './broadcast-progress';

/**
 * Who a broadcast goes to: the contact ids of a segment in id order, a page at a time (keyset).
 * The segments module provides it; compose.ts wires it. `segmentId` null: every live contact.
 */
export interface BroadcastAudience {
  listContactIds(params: { segmentId: number | null; afterId: number; limit: number }): Promise<number[]>;
}

/** The audience of every live (unmerged) contact: broadcasts to "everyone", and the tests' stand-in for segments. */
export function createAllContactsAudience(dataSource: DataSource): BroadcastAudience {
  return {
    async listContactIds({ afterId, limit }) {
      const rows: { id: number | string }[] = await dataSource.query(
        `SELECT id FROM contacts WHERE merged_into_id IS NULL AND id > ? ORDER BY id LIMIT ${Math.max(1, Math.floor(limit))}`,
        [afterId],
      );
      return rows.map((r) => Number(r.id));
    },
  };
}

export interface BroadcastMessage {
  channel: OutboxChannel;
  /** The channel API's body without the recipient, e.g. `{template_id, data: {thing1: {value}}, url}`. */
  payload: Record<string, unknown>;
}

export interface CreateBroadcastParams {
  name: string;
  segmentId: number | null;
  message: BroadcastMessage;
  /** Absent: now. */
  sendAt?: Date;
  actor: AuditActor;
}

export interface BroadcastProgress {
  id: number;
  name: string;
  status: BroadcastStatus;
  sendAt: string;
  /** Contacts in the outbox so far (final once the audience is expanded). */
  total: number;
  /** Waiting to be sent or in flight. */
  queued: number;
  /** Handed to the platform, waiting for a person (a WeCom rep confirming 企业群发). */
  confirming: number;
  sent: number;
  failed: number;
  skipped: number;
  /** Sent without a known outcome (the worker died, the answer was lost); never re-sent automatically. */
  unknown: number;
  cancelled: number;
  /** Skips by reason (`not_following`, `frequency_cap`, `no_openid`, ...). */
  skippedByReason: Record<string, number>;
  expanded: boolean;
}

export class BroadcastNotFoundError extends Error {}
/** A pause, resume or cancel that the broadcast's status does not allow. */
export class BroadcastStateError extends Error {
  constructor(readonly status: BroadcastStatus) {
    super(`the broadcast is ${status}`);
  }
}

export interface BroadcastsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  outbox: OutboxService;
  audience: BroadcastAudience;
  audit: AuditService;
  /** Asks the sender to start (after a batch was expanded). */
  onQueued?: () => void;
}

/** Contacts per expansion batch: one INSERT of 500 rows per batch (OutboxService's chunk). */
const EXPAND_BATCH = 1000;
/** A row never due: where a paused broadcast's pending rows wait (resume sets them due again). */
const PAUSED_UNTIL = new Date('9999-12-31T00:00:00.000Z');

/**
 * Broadcasts: a message to a segment, now or at `sendAt`. The job expands due broadcasts into
 * outbox rows in keyset batches (`broadcast:<id>:<contact>`, committed with the cursor that says
 * where the next batch starts), so a crash resumes after the last committed batch and the dedupe
 * keys absorb any overlap: nobody twice, nobody left out. Progress is counted from the outbox rows.
 */
export class BroadcastsService {
  constructor(private readonly deps: BroadcastsServiceDeps) {}

  async create(params: CreateBroadcastParams): Promise<{ id: number }> {
    const now = this.deps.clock.now();
    const sendAt = params.sendAt ?? now;
    return this.deps.transactor.run(async (m) => {
      const id = await insertReturningId(
        m,
        `INSERT INTO broadcasts (name, segment_id, channel, message, send_at, status, paused_from, expanded_through, expanded, total,
           created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'scheduled', NULL, 0, 0, 0, ?, ?, ?)`,
        [
          params.name,
          params.segmentId,
          params.message.channel,
          JSON.stringify(params.message.payload),
          toSqlDate(sendAt),
          params.actor.operatorId,
          toSqlDate(now),
          toSqlDate(now),
        ],
      );
      await this.deps.audit.record({
        manager: m,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'broadcast.create',
        targetType: 'broadcast',
        targetId: id,
        detail: { name: params.name, segmentId: params.segmentId, channel: params.message.channel, sendAt: sendAt.toISOString() },
      });
      return { id };
    });
  }

  /**
   * Expands every due broadcast (scheduled and past its time, or running and not yet expanded),
   * at most `maxBatches` batches in all; returns how many outbox rows it added.
   */
  async expandDue(maxBatches = 1000): Promise<number> {
    const due: { id: number | string }[] = await this.deps.dataSource.query(
      `SELECT id FROM broadcasts WHERE (status = 'scheduled' AND send_at <= ?) OR (status = 'running' AND expanded = 0) ORDER BY send_at, id`,
      [toSqlDate(this.deps.clock.now())],
    );
    let added = 0;
    let batches = 0;
    for (const { id } of due) {
      while (batches < maxBatches) {
        batches += 1;
        const step = await this.expandBatch(Number(id));
        added += step.added;
        if (step.added > 0) this.deps.onQueued?.();
        if (step.finished) break;
      }
    }
    return added;
  }

  /**
   * One batch: locks the broadcast row (a pause or cancel waits for the batch, or the batch sees
   * it and stops), reads the next page of the audience after the cursor, enqueues it, moves the
   * cursor; all in one transaction.
   */
  private async expandBatch(id: number): Promise<{ added: number; finished: boolean }> {
    return this.deps.transactor.runRetrying(async (m) => {
      await beginWriting(m);
      const now = toSqlDate(this.deps.clock.now());
      const lock = isMysqlManager(m) ? ' FOR UPDATE' : '';
      const rows: Record<string, unknown>[] = await m.query(
        `SELECT id, status, segment_id, channel, message, send_at, expanded_through, expanded FROM broadcasts WHERE id = ?${lock}`,
        [id],
      );
      const b = rows[0];
      if (!b || Number(b.expanded) === 1 || (b.status !== 'scheduled' && b.status !== 'running')) return { added: 0, finished: true };
      if (b.status === 'scheduled') await m.query("UPDATE broadcasts SET status = 'running', updated_at = ? WHERE id = ?", [now, id]);
      const after = Number(b.expanded_through);
      const contactIds = await this.deps.audience.listContactIds({
        segmentId: b.segment_id === null ? null : Number(b.segment_id),
        afterId: after,
        limit: EXPAND_BATCH,
      });
      if (contactIds.length === 0) {
        await m.query('UPDATE broadcasts SET expanded = 1, updated_at = ? WHERE id = ?', [now, id]);
        return { added: 0, finished: true };
      }
      const payload = JSON.parse(String(b.message)) as Record<string, unknown>;
      const channel = String(b.channel) as OutboxChannel;
      const added = await this.deps.outbox.enqueue({
        manager: m,
        drafts: contactIds.map((contactId) => ({
          dedupeKey: `broadcast:${id}:${contactId}`,
          contactId,
          channel,
          purpose: 'marketing' as const,
          source: { type: 'broadcast', id: String(id) },
          payload,
          notBefore: fromSqlDate(b.send_at),
        })),
      });
      const last = contactIds[contactIds.length - 1];
      const finished = contactIds.length < EXPAND_BATCH;
      await m.query('UPDATE broadcasts SET expanded_through = ?, total = total + ?, expanded = ?, updated_at = ? WHERE id = ?', [
        last,
        added,
        finished ? 1 : 0,
        now,
        id,
      ]);
      return { added, finished };
    });
  }

  /** Running broadcasts whose audience is all in the outbox and none of whose rows wait any more become done. */
  async finishDone(): Promise<number> {
    const running: { id: number | string }[] = await this.deps.dataSource.query(
      "SELECT id FROM broadcasts WHERE status = 'running' AND expanded = 1",
    );
    let done = 0;
    for (const { id } of running) {
      const waiting: { n: number | string }[] = await this.deps.dataSource.query(
        `SELECT COUNT(*) AS n FROM outbox_messages WHERE source_type = 'broadcast' AND source_id = ? AND state IN (${placeholders(UNFINISHED_STATES.length)})`,
        [String(id), ...UNFINISHED_STATES],
      );
      if (Number(waiting[0]?.n ?? 0) > 0) continue;
      await this.deps.dataSource.query("UPDATE broadcasts SET status = 'done', updated_at = ? WHERE id = ? AND status = 'running'", [
        toSqlDate(this.deps.clock.now()),
        Number(id),
      ]);
      done += 1;
    }
    return done;
  }

  /** What the job does each fire: expand what is due, close what is finished. */
  async runOnce(): Promise<void> {
    await this.expandDue();
    await this.finishDone();
  }

  async progress(id: number): Promise<BroadcastProgress> {
    const rows: Record<string, unknown>[] = await this.deps.dataSource.query(
      'SELECT id, name, status, send_at, total, expanded FROM broadcasts WHERE id = ?',
      [id],
    );
    const b = rows[0];
    if (!b) throw new BroadcastNotFoundError(`no broadcast ${id}`);
    // One range of the (source_type, source_id, state) index.
    const counts: { state: string; reason: string | null; n: number | string }[] = await this.deps.dataSource.query(
      `SELECT state, CASE WHEN state = 'skipped' THEN last_error ELSE NULL END AS reason, COUNT(*) AS n
       FROM outbox_messages WHERE source_type = 'broadcast' AND source_id = ? GROUP BY state, CASE WHEN state = 'skipped' THEN last_error ELSE NULL END`,
      [String(id)],
    );
    const buckets = countProgress(counts);
    const skippedByReason: Record<string, number> = {};
    for (const c of counts) if (c.state === 'skipped') skippedByReason[c.reason ?? 'unknown'] = Number(c.n);
    return {
      id: Number(b.id),
      name: String(b.name),
      status: String(b.status) as BroadcastStatus,
      sendAt: fromSqlDate(b.send_at).toISOString(),
      total: Number(b.total),
      ...buckets,
      skippedByReason,
      expanded: Number(b.expanded) === 1,
    };
  }

  /**
   * Stops a scheduled or running broadcast: its expansion stops and its pending rows are held
   * (never due) until resume; rows already `sending` finish. Nothing is lost or sent twice: the rows
   * keep their keys and states.
   */
  async pause(id: number, actor: AuditActor): Promise<BroadcastProgress> {
    await this.changeStatus(id, actor, 'broadcast.pause', ['scheduled', 'running'], async (m, from) => {
      await m.query("UPDATE broadcasts SET status = 'paused', paused_from = ?, updated_at = ? WHERE id = ?", [
        from,
        toSqlDate(this.deps.clock.now()),
        id,
      ]);
      await this.moveRows(m, id, 'pending', PAUSED_UNTIL);
    });
    return this.progress(id);
  }

  /** Takes a paused broadcast up where it stopped: held rows are due now, the expansion goes on. */
  async resume(id: number, actor: AuditActor): Promise<BroadcastProgress> {
    await this.changeStatus(id, actor, 'broadcast.resume', ['paused'], async (m, _from, pausedFrom) => {
      const now = this.deps.clock.now();
      await m.query('UPDATE broadcasts SET status = ?, paused_from = NULL, updated_at = ? WHERE id = ?', [
        pausedFrom ?? 'running',
        toSqlDate(now),
        id,
      ]);
      await this.moveRows(m, id, 'pending', now);
    });
    this.deps.onQueued?.();
    return this.progress(id);
  }

  /** Ends a broadcast before it is done: rows not yet claimed are cancelled; rows in flight finish. */
  async cancel(id: number, actor: AuditActor): Promise<BroadcastProgress> {
    await this.changeStatus(id, actor, 'broadcast.cancel', ['draft', 'scheduled', 'running', 'paused'], async (m) => {
      const now = toSqlDate(this.deps.clock.now());
      await m.query("UPDATE broadcasts SET status = 'cancelled', updated_at = ? WHERE id = ?", [now, id]);
      await m.query(
        `UPDATE outbox_messages SET state = 'cancelled', last_error = 'broadcast_cancelled', updated_at = ?
         WHERE source_type = 'broadcast' AND source_id = ? AND state = 'pending'`,
        [now, String(id)],
      );
    });
    return this.progress(id);
  }

  private async moveRows(m: EntityManager, id: number, state: 'pending', notBefore: Date): Promise<void> {
    await m.query(
      `UPDATE outbox_messages SET not_before = ?, updated_at = ? WHERE source_type = 'broadcast' AND source_id = ? AND state = ?`,
      [toSqlDate(notBefore), toSqlDate(this.deps.clock.now()), String(id), state],
    );
  }

  private async changeStatus(
    id: number,
    actor: AuditActor,
    action: string,
    allowed: BroadcastStatus[],
    change: (m: EntityManager, from: BroadcastStatus, pausedFrom: BroadcastStatus | null) => Promise<void>,
  ): Promise<void> {
    await this.deps.transactor.runRetrying(async (m) => {
      await beginWriting(m);
      const lock = isMysqlManager(m) ? ' FOR UPDATE' : '';
      const rows: { status: string; paused_from: string | null }[] = await m.query(
        `SELECT status, paused_from FROM broadcasts WHERE id = ?${lock}`,
        [id],
      );
      if (rows.length === 0) throw new BroadcastNotFoundError(`no broadcast ${id}`);
      const from = rows[0].status as BroadcastStatus;
      if (!allowed.includes(from)) throw new BroadcastStateError(from);
      await change(m, from, rows[0].paused_from as BroadcastStatus | null);
      await this.deps.audit.record({
        manager: m,
        operatorId: actor.operatorId,
        ip: actor.ip,
        action,
        targetType: 'broadcast',
        targetId: id,
        detail: { from, to: action === 'broadcast.pause' ? 'paused' : action === 'broadcast.cancel' ? 'cancelled' : 'running' },
      });
    });
  }
}
