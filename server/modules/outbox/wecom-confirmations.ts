import type { DataSource, EntityManager } from 'typeorm';
import type { InteractionDetail } from '../../../entities/interaction.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import type { GroupMsgSendStatus } from '../../adapters/wecom.client';
import { beginWriting, fromSqlDate, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { InteractionDraft, InteractionsService } from '../interactions/interactions.service';

/** What the check asks WeCom (WecomClient). */
export interface GroupMsgResultPort {
  getGroupMsgSendResult(p: { msgid: string; userId: string }): Promise<GroupMsgSendStatus[]>;
  cancelGroupMsgSend(msgid: string): Promise<void>;
}

export interface WecomConfirmationsDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  interactions: InteractionsService;
  client: GroupMsgResultPort;
  /** How long a rep has to confirm before the task is withdrawn and the row `failed` (not_confirmed). */
  giveUpMs: number;
  /** Rows per pass. */
  batchSize?: number;
}

/** The first look a minute after the task was created; then every quarter of its age, at most hourly. */
const MIN_INTERVAL_MS = 60_000;
const MAX_INTERVAL_MS = 3_600_000;
const DEFAULT_BATCH = 500;

/** When a task accepted at `at` is first looked at. */
export function firstCheckAt(at: Date): Date {
  return new Date(at.getTime() + MIN_INTERVAL_MS);
}

/** The next look at a task still waiting: often while young, rarely when old (a rep confirms soon or late). */
function nextCheckAt(now: Date, acceptedAt: Date): Date {
  const interval = Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, (now.getTime() - acceptedAt.getTime()) / 4));
  return new Date(now.getTime() + interval);
}

/** get_groupmsg_send_result's failures: "2-因客户不是好友导致发送失败 3-因客户已经收到其他群发消息导致发送失败". */
const FAILED_STATUS: ReadonlyMap<number, string> = new Map([
  [2, 'not_friend'],
  [3, 'daily_limit'],
]);

interface DueRow {
  id: number;
  msgid: string;
  sender: string;
  externalUserId: string;
  acceptedAt: Date;
  contactId: number;
  sourceType: string;
  sourceId: string;
  runId: number | null;
  nodeId: string | null;
  attempts: number;
}

type Decision =
  | { kind: 'sent'; at: Date }
  | { kind: 'failed'; reason: string; status: number | null }
  | { kind: 'unknown'; reason: string }
  | { kind: 'wait'; next: Date };

export interface ConfirmationPassResult {
  sent: number;
  failed: number;
  /** Given up without an answer: WeCom kept refusing to say or to withdraw the task past the grace. */
  unknown: number;
  waiting: number;
}

/**
 * Past the deadline, a task WeCom will neither report nor withdraw (the calls keep failing) is
 * looked at this much longer, then `unknown` for good: the rep might still send it.
 */
const UNANSWERED_GRACE_MS = 24 * 3_600_000;

/**
 * The second half of a WeCom message through the rep: rows `confirming` (add_msg_template took
 * them, the rep has not sent them yet) are looked at on a schedule; get_groupmsg_send_result says
 * per customer whether the rep sent it (1 → `sent` with message_sent), could not (2 not a friend,
 * 3 the customer already got a 群发 that day → `failed` with message_failed) or not yet (0: looked
 * at again later). Past `giveUpMs` the task is withdrawn (cancel_groupmsg_send) and read once more,
 * so a confirmation that beat the withdrawal is still `sent`; else `failed` (not_confirmed). A task
 * WeCom keeps failing to report or withdraw is `unknown` a day past that (the rep might still send it).
 *
 * Outcomes are written in one transaction, each guarded by `state = 'confirming'` on the rows it
 * locked first: two instances checking at once both read, one writes.
 */
export class WecomConfirmations {
  constructor(private readonly deps: WecomConfirmationsDeps) {}

  /** When the next task falls due after `after` (the sandbox clock steps there). */
  async nextDueAt(after: Date): Promise<Date | null> {
    const rows = await this.deps.dataSource.query<{ due: unknown }[]>(
      'SELECT MIN(next_check_at) AS due FROM wecom_group_msg_sends WHERE next_check_at > ?',
      [toSqlDate(after)],
    );
    const due = rows[0]?.due;
    return due === null || due === undefined ? null : fromSqlDate(due);
  }

  /** One pass over the due tasks; returns what it decided. */
  async checkDue(): Promise<ConfirmationPassResult> {
    const now = this.deps.clock.now();
    const due = await this.loadDue(now);
    const result: ConfirmationPassResult = { sent: 0, failed: 0, unknown: 0, waiting: 0 };
    if (due.length === 0) return result;
    const decisions = new Map<number, Decision>();
    const tasks = new Map<string, DueRow[]>();
    for (const row of due) {
      const key = `${row.msgid}\u0000${row.sender}`;
      tasks.set(key, [...(tasks.get(key) ?? []), row]);
    }
    for (const rows of tasks.values()) {
      for (const [id, decision] of await this.decideTask(rows, now)) decisions.set(id, decision);
    }
    // Counted as written: rows another instance settled first are not this pass's.
    for (const d of await this.write(due, decisions, now)) result[d.kind === 'wait' ? 'waiting' : d.kind] += 1;
    return result;
  }

  /** Checks until nothing is due now (tests, the sandbox clock). */
  async drain(maxPasses = 1000): Promise<ConfirmationPassResult> {
    const total: ConfirmationPassResult = { sent: 0, failed: 0, unknown: 0, waiting: 0 };
    for (let i = 0; i < maxPasses; i += 1) {
      const pass = await this.checkDue();
      total.sent += pass.sent;
      total.failed += pass.failed;
      total.unknown += pass.unknown;
      total.waiting += pass.waiting;
      if (pass.sent + pass.failed + pass.unknown + pass.waiting < (this.deps.batchSize ?? DEFAULT_BATCH)) return total;
    }
    return total;
  }

  private async loadDue(now: Date): Promise<DueRow[]> {
    const raw: {
      outbox_id: number | string;
      msgid: string;
      sender_user_id: string;
      external_user_id: string;
      accepted_at: unknown;
      contact_id: number | string;
      source_type: string;
      source_id: string;
      run_id: number | string | null;
      node_id: string | null;
      attempts: number | string;
    }[] = await this.deps.dataSource.query(
      `SELECT s.outbox_id, s.msgid, s.sender_user_id, s.external_user_id, s.accepted_at,
              o.contact_id, o.source_type, o.source_id, o.run_id, o.node_id, o.attempts
       FROM wecom_group_msg_sends s JOIN outbox_messages o ON o.id = s.outbox_id
       WHERE s.next_check_at <= ? AND o.state = 'confirming'
       ORDER BY s.next_check_at LIMIT ${Math.max(1, Math.floor(this.deps.batchSize ?? DEFAULT_BATCH))}`,
      [toSqlDate(now)],
    );
    return raw.map((r) => ({
      id: Number(r.outbox_id),
      msgid: r.msgid,
      sender: r.sender_user_id,
      externalUserId: r.external_user_id,
      acceptedAt: fromSqlDate(r.accepted_at),
      contactId: Number(r.contact_id),
      sourceType: r.source_type,
      sourceId: r.source_id,
      runId: r.run_id === null ? null : Number(r.run_id),
      nodeId: r.node_id,
      attempts: Number(r.attempts),
    }));
  }

  /** One task's rows: what WeCom says of each customer (an error leaves them for the next look). */
  private async decideTask(rows: DueRow[], now: Date): Promise<Map<number, Decision>> {
    const out = new Map<number, Decision>();
    const { msgid, sender } = rows[0];
    const waitAll = (): Map<number, Decision> => {
      for (const r of rows)
        out.set(
          r.id,
          now.getTime() - r.acceptedAt.getTime() >= this.deps.giveUpMs + UNANSWERED_GRACE_MS
            ? { kind: 'unknown', reason: 'not_confirmed_no_answer' }
            : { kind: 'wait', next: nextCheckAt(now, r.acceptedAt) },
        );
      return out;
    };
    let statuses: Map<string, GroupMsgSendStatus>;
    try {
      statuses = await this.statusesOf(msgid, sender);
      const expired = rows.filter(
        (r) => !isFinal(statuses.get(r.externalUserId)) && now.getTime() - r.acceptedAt.getTime() >= this.deps.giveUpMs,
      );
      // Only when every row of the task still waiting has expired: a task is withdrawn whole.
      if (expired.length > 0 && rows.every((r) => isFinal(statuses.get(r.externalUserId)) || expired.includes(r))) {
        await this.deps.client.cancelGroupMsgSend(msgid);
        // The rep may have confirmed between the look and the withdrawal: that one counts.
        statuses = await this.statusesOf(msgid, sender);
        for (const r of expired)
          if (!isFinal(statuses.get(r.externalUserId))) out.set(r.id, { kind: 'failed', reason: 'not_confirmed', status: null });
      }
    } catch (error) {
      this.deps.logger.warn('wecom group message check failed; looked at again later unless past its grace', { msgid, error });
      return waitAll();
    }
    for (const r of rows) {
      if (out.has(r.id)) continue;
      const line = statuses.get(r.externalUserId);
      if (line?.status === 1) {
        out.set(r.id, { kind: 'sent', at: line.sendTime ? new Date(line.sendTime * 1000) : now });
        continue;
      }
      const reason = line ? FAILED_STATUS.get(line.status) : undefined;
      if (reason && line) out.set(r.id, { kind: 'failed', reason, status: line.status });
      else out.set(r.id, { kind: 'wait', next: nextCheckAt(now, r.acceptedAt) });
    }
    return out;
  }

  private async statusesOf(msgid: string, sender: string): Promise<Map<string, GroupMsgSendStatus>> {
    const lines = await this.deps.client.getGroupMsgSendResult({ msgid, userId: sender });
    return new Map(lines.map((l) => [l.externalUserId, l]));
  }

  /** The decisions in one transaction, on the rows still `confirming` (locked first). */
  private async write(rows: DueRow[], decisions: Map<number, Decision>, now: Date): Promise<Decision[]> {
    return this.deps.transactor.runRetrying(
      async (m) => {
        await beginWriting(m);
        const ids = rows.map((r) => r.id);
        const held: { id: number | string }[] = await m.query(
          `SELECT id FROM outbox_messages WHERE id IN (${placeholders(ids.length)}) AND state = 'confirming'${isMysqlManager(m) ? ' FOR UPDATE' : ''}`,
          ids,
        );
        const heldIds = new Set(held.map((h) => Number(h.id)));
        const mine = rows.filter((r) => heldIds.has(r.id) && decisions.has(r.id));
        if (mine.length === 0) return [];
        const of = (r: DueRow): Decision => decisions.get(r.id) as Decision;
        const final = mine.filter((r) => of(r).kind !== 'wait');
        const waiting = mine.filter((r) => of(r).kind === 'wait');
        if (final.length > 0) await this.finish(m, final, of, now);
        if (waiting.length > 0)
          await m.query(
            `UPDATE wecom_group_msg_sends SET next_check_at = CASE outbox_id ${waiting.map(() => 'WHEN ? THEN ?').join(' ')} END, checks = checks + 1
             WHERE outbox_id IN (${placeholders(waiting.length)}) AND next_check_at IS NOT NULL`,
            [
              ...waiting.flatMap((r) => {
                const d = of(r);
                return [r.id, toSqlDate(d.kind === 'wait' ? d.next : now)];
              }),
              ...waiting.map((r) => r.id),
            ],
          );
        return mine.map(of);
      },
      { readCommitted: true },
    );
  }

  private async finish(m: EntityManager, rows: DueRow[], of: (r: DueRow) => Decision, now: Date): Promise<void> {
    const ids = rows.map((r) => r.id);
    const cases = (value: (r: DueRow, d: Decision) => unknown) => ({
      sql: `CASE id ${rows.map(() => 'WHEN ? THEN ?').join(' ')} END`,
      params: rows.flatMap((r) => [r.id, value(r, of(r))]),
    });
    const state = cases((_, d) => outcomeOf(d));
    const sentAt = cases((_, d) => (d.kind === 'sent' ? toSqlDate(d.at) : null));
    const error = cases((_, d) => reasonOf(d));
    await m.query(
      `UPDATE outbox_messages SET state = ${state.sql}, sent_at = ${sentAt.sql}, last_error = ${error.sql}, updated_at = ?
       WHERE id IN (${placeholders(ids.length)}) AND state = 'confirming'`,
      [...state.params, ...sentAt.params, ...error.params, toSqlDate(now), ...ids],
    );
    await m.query(
      `UPDATE wecom_group_msg_sends SET next_check_at = NULL, checks = checks + 1 WHERE outbox_id IN (${placeholders(ids.length)})`,
      ids,
    );
    // The delivery log's line of the accepted attempt says what it came to.
    const conflict = isMysqlManager(m)
      ? 'ON DUPLICATE KEY UPDATE outcome = VALUES(outcome), errmsg = VALUES(errmsg), at = VALUES(at)'
      : 'ON CONFLICT (outbox_id, attempt) DO UPDATE SET outcome = excluded.outcome, errmsg = excluded.errmsg, at = excluded.at';
    await m.query(
      `INSERT INTO outbox_attempts (outbox_id, attempt, at, errcode, errmsg, outcome) VALUES ${rows.map(() => '(?, ?, ?, NULL, ?, ?)').join(', ')} ${conflict}`,
      rows.flatMap((r) => {
        const d = of(r);
        return [r.id, Math.max(1, r.attempts), toSqlDate(now), reasonOf(d), outcomeOf(d)];
      }),
    );
    // An unknown outcome is on the delivery log, not the timeline (as the sender keeps it).
    await this.deps.interactions.recordInteractions(
      m,
      rows.filter((r) => of(r).kind !== 'unknown').map((r) => interactionOf(r, of(r), now)),
    );
  }
}

function outcomeOf(d: Decision): 'sent' | 'failed' | 'unknown' {
  return d.kind === 'sent' ? 'sent' : d.kind === 'unknown' ? 'unknown' : 'failed';
}

function reasonOf(d: Decision): string | null {
  return d.kind === 'failed' || d.kind === 'unknown' ? d.reason : null;
}

function isFinal(line: GroupMsgSendStatus | undefined): boolean {
  return line !== undefined && (line.status === 1 || FAILED_STATUS.has(line.status));
}

/** message_sent / message_failed on the contact's timeline, as the outbox sender records its sends. */
function interactionOf(r: DueRow, d: Decision, now: Date): InteractionDraft {
  const sent = d.kind === 'sent';
  const detail: InteractionDetail = {
    outboxId: r.id,
    channel: 'wecom_group_msg',
    msgid: r.msgid,
    userId: r.sender,
    ...(d.kind === 'failed' ? { reason: d.reason, ...(d.status === null ? {} : { status: d.status }) } : {}),
    ...(r.sourceType === 'journey' ? { runId: r.runId, nodeId: r.nodeId } : {}),
    ...(r.sourceType === 'broadcast' ? { broadcastId: Number(r.sourceId) } : {}),
  };
  return {
    type: sent ? 'message_sent' : 'message_failed',
    channel: 'wecom',
    direction: 'out',
    occurredAt: d.kind === 'sent' ? d.at : now,
    detail,
    identity: null,
    contactId: r.contactId,
    dedupeKey: `outbox:${r.id}:${sent ? 'sent' : `failed:${r.attempts}`}`,
    ref: r.sourceType === 'journey' || r.sourceType === 'broadcast' ? { type: r.sourceType, id: r.sourceId } : null,
  };
}
