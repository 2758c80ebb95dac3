import type { DataSource, EntityManager } from 'typeorm';
import { SalesAssignment } from '../../../entities/sales-assignment.entity';
import type { Task } from '../../../entities/task.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import type { WecomAgentClient } from '../../adapters/wecom-agent.client';
import { executeCountingRows, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { InteractionsService } from '../interactions/interactions.service';
import type { ScoringSettingsStore } from '../scoring/scoring-settings';
import type { TaskQueue, TaskResult } from '../tasks/task-queue.service';

/** The task that tells a rep by WeCom app message that a lead is theirs. */
export const SALES_NOTIFY = 'sales_notify';

/** The round-robin's place: the id of the sales operator last given a lead (a `settings` row, shared by every instance). */
const ROUND_ROBIN_SETTING = 'sales.round_robin';

export interface AssignParams {
  contactId: number;
  /** The sales operator to hand it to (an event's follow-up list picks the rep); left out: the contact's own rep or the next in turn. */
  operatorId?: number;
  /** Why: `mql`, `journey:<id>`, `operator:<id>`, `consult:<eventId>` (an online consult), `event:<eventId>` (a follow-up). */
  reason: string;
  /**
   * Makes the assignment once whatever the retries (a journey passes `journey:<run>:<node>`); a
   * new assignment each call when left out.
   */
  dedupeKey?: string;
  /**
   * What the rep's app message adds after the contact's name (an online consult: the event and
   * what was asked); carried in the notification task, since the assignment row keeps no text.
   */
  note?: string;
}

export interface AssignmentView {
  id: number;
  contactId: number;
  userId: string;
  operatorId: number | null;
  reason: string;
  created: boolean;
}

export interface SalesAssignmentServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  /**
   * The one writer of the timeline, read when an assignment is made: compose.ts builds it after the
   * reactions (it asks them which interactions need work rows), and this service is one of them.
   */
  interactions: () => InteractionsService;
  queue: TaskQueue;
  settings: ScoringSettingsStore;
  /** The WeCom app that messages reps; null when WeCom is not configured (nothing is sent). */
  agent: WecomAgentClient | null;
}

/**
 * Hands contacts to sales reps: past the MQL threshold once per crossing, or when a journey or an
 * operator says so. The rep is the contact's own WeCom follow user when there is one, else the
 * next active sales operator with a WeCom userid, round-robin (its place kept in the database, read
 * under a lock, so two instances never hand out the same turn). The assignment is on the contact's
 * timeline (a `sales_assigned` interaction) and the rep gets one app message.
 */
export class SalesAssignmentService {
  constructor(private readonly deps: SalesAssignmentServiceDeps) {}

  /** For journeys' action nodes and the admin page: assigns in a transaction of its own. */
  async assign(params: AssignParams): Promise<AssignmentView | null> {
    return this.deps.transactor.runRetrying((manager) => this.assignIn(manager, params));
  }

  /**
   * Inside the caller's transaction, after these contacts' scores moved: each one at or above the
   * threshold and not yet above crosses (one conditional UPDATE decides, whichever instance runs
   * it) and is assigned under the key `mql:<contact>:<crossing>`; each below it is re-armed for
   * the next crossing.
   */
  async checkThreshold(manager: EntityManager, contactIds: number[]): Promise<number> {
    if (contactIds.length === 0) return 0;
    const { mqlThreshold } = await this.deps.settings.readSettings(manager);
    if (mqlThreshold <= 0) return 0;
    const ids = [...new Set(contactIds)];
    const rows: { id: number | string; score: number | string; above: number | string | boolean | null }[] = await manager.query(
      `SELECT c.id, c.score, s.above FROM contacts c LEFT JOIN contact_mql_states s ON s.contact_id = c.id
        WHERE c.id IN (${placeholders(ids.length)}) AND c.merged_into_id IS NULL`,
      ids,
    );
    const now = toSqlDate(this.deps.clock.now());
    let crossed = 0;
    for (const row of rows) {
      const contactId = Number(row.id);
      const above = row.above === true || Number(row.above) === 1;
      if (Number(row.score) < mqlThreshold) {
        if (above)
          await manager.query('UPDATE contact_mql_states SET above = 0, updated_at = ? WHERE contact_id = ? AND above = 1', [
            now,
            contactId,
          ]);
        continue;
      }
      if (above) continue;
      const ignore = isMysqlManager(manager) ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
      await manager.query(`${ignore} INTO contact_mql_states (contact_id, above, crossings, updated_at) VALUES (?, 0, 0, ?)`, [
        contactId,
        now,
      ]);
      const won = await executeCountingRows(
        manager,
        'UPDATE contact_mql_states SET above = 1, crossings = crossings + 1, updated_at = ? WHERE contact_id = ? AND above = 0',
        [now, contactId],
      );
      if (won !== 1) continue;
      const [{ crossings }]: { crossings: number | string }[] = await manager.query(
        'SELECT crossings FROM contact_mql_states WHERE contact_id = ?',
        [contactId],
      );
      await this.assignIn(manager, { contactId, reason: 'mql', dedupeKey: `mql:${contactId}:${Number(crossings)}` });
      crossed += 1;
    }
    return crossed;
  }

  /** Re-arms every contact now below the threshold (after the daily decay), in one statement. */
  async rearmBelowThreshold(manager: EntityManager): Promise<void> {
    const { mqlThreshold } = await this.deps.settings.readSettings(manager);
    if (mqlThreshold <= 0) return;
    await manager.query(
      'UPDATE contact_mql_states SET above = 0, updated_at = ? WHERE above = 1 AND contact_id IN (SELECT id FROM contacts WHERE score < ?)',
      [toSqlDate(this.deps.clock.now()), mqlThreshold],
    );
  }

  /** The assignment, its timeline entry and its notification task, in the caller's transaction. */
  async assignIn(manager: EntityManager, params: AssignParams): Promise<AssignmentView | null> {
    const now = this.deps.clock.now();
    const dedupeKey = (params.dedupeKey ?? `${params.reason}:${params.contactId}:${now.getTime()}`).slice(0, 128);
    const existing = await manager.findOneBy(SalesAssignment, { dedupeKey });
    if (existing) return { ...viewOf(existing), created: false };
    const rep =
      params.operatorId === undefined ? await this.chooseRep(manager, params.contactId) : await this.namedRep(manager, params.operatorId);
    if (!rep) {
      this.deps.logger.warn('no sales rep to assign a contact to (no WeCom follow user, no active sales operator with a WeCom userid)', {
        contactId: params.contactId,
        reason: params.reason,
      });
      return null;
    }
    await manager.insert(SalesAssignment, {
      contactId: params.contactId,
      userId: rep.userId,
      operatorId: rep.operatorId,
      reason: params.reason.slice(0, 64),
      dedupeKey,
      notifyStatus: 'pending',
      createdAt: now,
    });
    const assignment = await manager.findOneByOrFail(SalesAssignment, { dedupeKey });
    await this.deps.interactions().recordInteraction(manager, {
      type: 'sales_assigned',
      channel: 'system',
      // Something done about the contact, not by them: on the timeline, no sign of life.
      direction: 'out',
      occurredAt: now,
      detail: { userId: rep.userId, operatorId: rep.operatorId, reason: assignment.reason, via: rep.via },
      identity: null,
      contactId: params.contactId,
      dedupeKey: `system:sales_assigned:${assignment.id}`,
      ref: { type: 'sales_assignment', id: String(assignment.id) },
    });
    // The outbox has no WeCom app message channel yet (it sends template messages): a task with a
    // unique key, and the handler's pending → sending guard keeps the message at most once.
    await this.deps.queue.enqueue({
      manager,
      kind: SALES_NOTIFY,
      dedupeKey: `sales_notify:${assignment.id}`,
      payload: params.note ? { assignmentId: assignment.id, note: params.note.slice(0, 600) } : { assignmentId: assignment.id },
    });
    return { ...viewOf(assignment), created: true };
  }

  /** The sales operator the caller named, when active and reachable in WeCom. */
  private async namedRep(
    manager: EntityManager,
    operatorId: number,
  ): Promise<{ userId: string; operatorId: number; via: 'operator' } | null> {
    const [rep]: { id: number | string; wecom_user_id: string }[] = await manager.query(
      "SELECT id, wecom_user_id FROM operators WHERE id = ? AND role = 'sales' AND disabled = 0 AND wecom_user_id IS NOT NULL AND wecom_user_id <> ''",
      [operatorId],
    );
    return rep ? { userId: rep.wecom_user_id, operatorId: Number(rep.id), via: 'operator' } : null;
  }

  /** The contact's own rep (its longest-standing active WeCom follow), else the next sales operator in turn. */
  private async chooseRep(
    manager: EntityManager,
    contactId: number,
  ): Promise<{ userId: string; operatorId: number | null; via: 'follow' | 'round_robin' } | null> {
    const follows: { user_id: string }[] = await manager.query(
      "SELECT user_id FROM contact_follows WHERE contact_id = ? AND status = 'active' ORDER BY created_at, id LIMIT 1",
      [contactId],
    );
    if (follows.length > 0) {
      const ops: { id: number | string }[] = await manager.query(
        "SELECT id FROM operators WHERE wecom_user_id = ? AND role = 'sales' ORDER BY id LIMIT 1",
        [follows[0].user_id],
      );
      return { userId: follows[0].user_id, operatorId: ops.length > 0 ? Number(ops[0].id) : null, via: 'follow' };
    }
    const reps: { id: number | string; wecom_user_id: string }[] = await manager.query(
      "SELECT id, wecom_user_id FROM operators WHERE role = 'sales' AND disabled = 0 AND wecom_user_id IS NOT NULL AND wecom_user_id <> '' ORDER BY id",
    );
    if (reps.length === 0) return null;
    const now = toSqlDate(this.deps.clock.now());
    const ignore = isMysqlManager(manager) ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
    await manager.query(`${ignore} INTO settings (name, value, updated_at) VALUES (?, '0', ?)`, [ROUND_ROBIN_SETTING, now]);
    // The turn is read under the row's lock: a second instance waits here and reads the turn this one takes.
    const [turn]: { value: string }[] = await manager.query(
      `SELECT value FROM settings WHERE name = ?${isMysqlManager(manager) ? ' FOR UPDATE' : ''}`,
      [ROUND_ROBIN_SETTING],
    );
    const last = Number(turn?.value ?? 0) || 0;
    const next = reps.find((r) => Number(r.id) > last) ?? reps[0];
    await manager.query('UPDATE settings SET value = ?, updated_at = ? WHERE name = ?', [
      String(Number(next.id)),
      now,
      ROUND_ROBIN_SETTING,
    ]);
    return { userId: next.wecom_user_id, operatorId: Number(next.id), via: 'round_robin' };
  }

  /** The task queue's handler for the reps' app messages. */
  handlers(): Record<string, (tasks: Task[]) => Promise<TaskResult[]>> {
    return { [SALES_NOTIFY]: (tasks) => Promise.all(tasks.map((task) => this.notifyRep(task))) };
  }

  /**
   * Sends one rep's app message at most once: the assignment is moved pending → sending by a
   * conditional UPDATE before the call, so a retried task (its worker died, its lease ran out)
   * finds it `sending` and does not send again; the row then says the outcome is unknown.
   */
  async notifyRep(task: Task): Promise<TaskResult> {
    const assignmentId = Number(task.payload.assignmentId);
    const manager = this.deps.dataSource.manager;
    const assignment = await manager.findOneBy(SalesAssignment, { id: assignmentId });
    if (!assignment) return { id: task.id, ok: true };
    if (!this.deps.agent) {
      await manager.update(SalesAssignment, { id: assignmentId, notifyStatus: 'pending' }, { notifyStatus: 'skipped' });
      return { id: task.id, ok: true };
    }
    const claimed = await executeCountingRows(
      manager,
      "UPDATE sales_assignments SET notify_status = 'sending' WHERE id = ? AND notify_status = 'pending'",
      [assignmentId],
    );
    if (claimed !== 1) return { id: task.id, ok: true };
    const contacts: { name: string | null; remark: string | null; score: number | string }[] = await manager.query(
      'SELECT name, remark, score FROM contacts WHERE id = ?',
      [assignment.contactId],
    );
    const who = contacts[0]?.remark ?? contacts[0]?.name ?? `#${assignment.contactId}`;
    const note = typeof task.payload.note === 'string' ? task.payload.note : null;
    const content =
      assignment.reason === 'mql'
        ? `新线索分配给你：客户「${who}」评分 ${Number(contacts[0]?.score ?? 0)}，已达到合格线索阈值，请尽快跟进。`
        : note !== null
          ? `新客户分配给你：客户「${who}」${note}，请尽快跟进。`
          : `新客户分配给你：客户「${who}」，请尽快跟进。`;
    try {
      await this.deps.agent.sendTextMessage({ toUser: assignment.userId, content });
      await manager.update(SalesAssignment, { id: assignmentId }, { notifyStatus: 'sent' });
      return { id: task.id, ok: true };
    } catch (error) {
      // The call may have reached WeCom (a timeout after sending): never sent again automatically.
      await manager.update(SalesAssignment, { id: assignmentId }, { notifyStatus: 'failed' });
      this.deps.logger.warn('sales rep app message failed; not retried (it may have been delivered)', {
        assignmentId,
        error: error instanceof Error ? error.message : String(error),
      });
      return { id: task.id, ok: true };
    }
  }
}

function viewOf(a: SalesAssignment): Omit<AssignmentView, 'created'> {
  return { id: a.id, contactId: a.contactId, userId: a.userId, operatorId: a.operatorId, reason: a.reason };
}
