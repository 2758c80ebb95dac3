import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import { executeCountingRows, fromSqlDate, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { AuditActor, AuditService } from '../audit/audit.service';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import type { AssignParams, AssignmentView } from '../sales/sales-assignment.service';
import { refuse, type Refusal } from './exhibition-refusal';

export interface EventFollowupsDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
  /** The sales assignment (its `sales_assigned` interaction and the rep's WeCom app message). */
  sales: { assignIn(manager: EntityManager, params: AssignParams): Promise<AssignmentView | null> };
  onRecorded?: () => void;
}

/** Who is asking: everyone's follow-ups, or a sales rep's own. */
export type FollowupScope = { kind: 'all' } | { kind: 'operator'; operatorId: number };

export interface FollowupView {
  contactId: number;
  /** The contact's remark, else name, else the name they registered with. */
  name: string;
  /** Masked (138****0001) for sales reps, as their contact pages are. */
  phone: string | null;
  score: number;
  stage: string;
  lastInteractionAt: string | null;
  checkedIn: boolean;
  rep: { operatorId: number; name: string } | null;
  state: 'open' | 'done';
  doneAt: string | null;
}

type Result<T> = { ok: true; value: T } | Refusal;

interface FollowupRow {
  contact_id: number | string;
  registered_name: string | null;
  phone: string | null;
  name: string | null;
  remark: string | null;
  score: number | string | null;
  stage: string;
  last_interaction_at: unknown;
  checked_in: number | string;
  operator_id: number | string | null;
  state: string | null;
  done_at: unknown;
  username: string | null;
  display_name: string | null;
}

/**
 * The sales follow-up list of an event (销售跟进, issue 15 §5): its registrants (not the cancelled)
 * hottest first (score, then the latest sign of life), each assigned to a sales rep (through the
 * sales assignment, so the rep gets their WeCom app message) and closed with a done state. A row
 * of `event_followups` exists once a registrant is assigned or closed; a sales rep sees only
 * theirs.
 */
export class EventFollowupsService {
  constructor(private readonly deps: EventFollowupsDeps) {}

  async list(p: { eventId: number; scope: FollowupScope; maskPhones: boolean; limit: number; page: number }): Promise<{
    items: FollowupView[];
    total: number;
  }> {
    const from =
      'FROM event_registrations r JOIN contacts c ON c.id = r.contact_id ' +
      'LEFT JOIN event_followups f ON f.event_id = r.event_id AND f.contact_id = r.contact_id ' +
      "WHERE r.event_id = ? AND r.status <> 'cancelled'" +
      (p.scope.kind === 'operator' ? ' AND f.operator_id = ?' : '');
    const params: unknown[] = p.scope.kind === 'operator' ? [p.eventId, p.scope.operatorId] : [p.eventId];
    const [count] = await this.deps.dataSource.query<{ n: number | string }[]>(`SELECT COUNT(*) AS n ${from}`, params);
    const rows = await this.deps.dataSource.query<FollowupRow[]>(
      'SELECT r.contact_id, r.name AS registered_name, r.phone, c.name, c.remark, c.score, c.stage, c.last_interaction_at, ' +
        '(SELECT COUNT(*) FROM event_checkins ch WHERE ch.registration_id = r.id) AS checked_in, f.operator_id, f.state, f.done_at, ' +
        `o.username, o.display_name ${from.replace('WHERE', 'LEFT JOIN operators o ON o.id = f.operator_id WHERE')} ` +
        // NULL sorts lowest on both databases: the never active come last within a score.
        'ORDER BY c.score DESC, c.last_interaction_at DESC, r.contact_id DESC LIMIT ? OFFSET ?',
      [...params, p.limit, (p.page - 1) * p.limit],
    );
    return {
      total: Number(count?.n ?? 0),
      items: rows.map((row) => ({
        contactId: Number(row.contact_id),
        name: row.remark ?? row.name ?? row.registered_name ?? `#${Number(row.contact_id)}`,
        phone: row.phone === null ? null : p.maskPhones ? maskPhone(row.phone) : row.phone,
        score: Number(row.score ?? 0),
        stage: row.stage,
        lastInteractionAt: row.last_interaction_at ? fromSqlDate(row.last_interaction_at).toISOString() : null,
        checkedIn: Number(row.checked_in) > 0,
        rep:
          row.operator_id === null || row.operator_id === undefined
            ? null
            : { operatorId: Number(row.operator_id), name: row.display_name ?? row.username ?? `#${Number(row.operator_id)}` },
        state: row.state === 'done' ? 'done' : 'open',
        doneAt: row.done_at ? fromSqlDate(row.done_at).toISOString() : null,
      })),
    };
  }

  /**
   * Hands registrants to one sales rep: each through the sales assignment (keyed per event, contact
   * and rep, so assigning again sends the rep no second message) and kept on the follow-up row,
   * which is reopened if it was done. Audited (`event.followup_assign`).
   */
  async assign(p: { eventId: number; contactIds: number[]; operatorId: number; actor: AuditActor }): Promise<Result<{ assigned: number }>> {
    const ids = [...new Set(p.contactIds)];
    const now = this.deps.clock.now();
    const outcome = await this.deps.transactor.runRetrying(async (m): Promise<Result<{ assigned: number }>> => {
      const [event] = await m.query<{ id: number }[]>('SELECT id FROM events WHERE id = ?', [p.eventId]);
      if (!event) return refuse('event_not_found', 'No such event');
      const [rep] = await m.query<{ id: number }[]>(
        "SELECT id FROM operators WHERE id = ? AND role = 'sales' AND disabled = 0 AND wecom_user_id IS NOT NULL AND wecom_user_id <> ''",
        [p.operatorId],
      );
      if (!rep)
        return refuse('validation_failed', 'Not an active sales operator with a WeCom userid', {
          fields: { operatorId: '请选择一位已绑定企业微信的销售' },
        });
      const registered = await m.query<{ contact_id: number | string }[]>(
        `SELECT contact_id FROM event_registrations WHERE event_id = ? AND status <> 'cancelled' AND contact_id IN (${placeholders(ids.length)})`,
        [p.eventId, ...ids],
      );
      const known = new Set(registered.map((r) => Number(r.contact_id)));
      const unknown = ids.filter((id) => !known.has(id));
      if (unknown.length > 0)
        return refuse('validation_failed', 'Not registrants of this event', {
          fields: { contactIds: `不是本活动的报名者：${unknown.join(', ')}` },
        });
      for (const contactId of ids) {
        const assignment = await this.deps.sales.assignIn(m, {
          contactId,
          reason: `event:${p.eventId}`,
          dedupeKey: `event-followup:${p.eventId}:${contactId}:${p.operatorId}`,
          operatorId: p.operatorId,
        });
        await this.upsert(m, p.eventId, contactId, now);
        await m.query(
          "UPDATE event_followups SET operator_id = ?, assignment_id = ?, state = 'open', done_by = NULL, done_at = NULL, updated_at = ? " +
            'WHERE event_id = ? AND contact_id = ?',
          [p.operatorId, assignment?.id ?? null, toSqlDate(now), p.eventId, contactId],
        );
      }
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'event.followup_assign',
        targetType: 'event',
        targetId: p.eventId,
        detail: { operatorId: p.operatorId, contactIds: ids.join(',') },
      });
      return { ok: true, value: { assigned: ids.length } };
    });
    if (outcome.ok) this.deps.onRecorded?.();
    return outcome;
  }

  /**
   * Closes a registrant's follow-up (who and when), once: the conditional UPDATE decides, and the
   * contact's timeline gets a `followup_done` interaction. A sales rep may close only theirs
   * (another's answers 404, as contacts outside their scope do). Audited (`event.followup_done`).
   */
  async done(p: {
    eventId: number;
    contactId: number;
    scope: FollowupScope;
    actor: AuditActor;
    /** `event.followup_done` unless given (`sidebar.followup_done` from the WeCom sidebar). */
    auditAction?: string;
  }): Promise<Result<{ state: 'done'; doneAt: string }>> {
    const now = this.deps.clock.now();
    const outcome = await this.deps.transactor.runRetrying(async (m): Promise<Result<{ state: 'done'; doneAt: string }>> => {
      const [registration] = await m.query<{ id: number }[]>(
        "SELECT id FROM event_registrations WHERE event_id = ? AND contact_id = ? AND status <> 'cancelled'",
        [p.eventId, p.contactId],
      );
      if (!registration) return refuse('followup_not_found', 'No such follow-up');
      if (p.scope.kind === 'operator') {
        const [mine] = await m.query<{ id: number }[]>(
          'SELECT id FROM event_followups WHERE event_id = ? AND contact_id = ? AND operator_id = ?',
          [p.eventId, p.contactId, p.scope.operatorId],
        );
        if (!mine) return refuse('followup_not_found', 'No such follow-up');
      }
      await this.upsert(m, p.eventId, p.contactId, now);
      const closed = await executeCountingRows(
        m,
        "UPDATE event_followups SET state = 'done', done_by = ?, done_at = ?, updated_at = ? WHERE event_id = ? AND contact_id = ? AND state = 'open'",
        [p.actor.operatorId, toSqlDate(now), toSqlDate(now), p.eventId, p.contactId],
      );
      const [row] = await m.query<{ id: number | string; done_at: unknown }[]>(
        'SELECT id, done_at FROM event_followups WHERE event_id = ? AND contact_id = ?',
        [p.eventId, p.contactId],
      );
      const doneAt = fromSqlDate(row.done_at);
      if (closed === 1) {
        await this.deps.interactions.recordInteraction(m, {
          type: 'followup_done',
          channel: 'admin',
          direction: 'out',
          occurredAt: now,
          detail: { eventId: p.eventId, operatorId: p.actor.operatorId },
          identity: null,
          contactId: p.contactId,
          dedupeKey: `event:${p.eventId}:followup_done:${Number(row.id)}:${now.getTime()}`,
          ref: { type: 'event', id: String(p.eventId) },
        });
        await this.deps.audit.record({
          manager: m,
          operatorId: p.actor.operatorId,
          ip: p.actor.ip,
          action: p.auditAction ?? 'event.followup_done',
          targetType: 'contact',
          targetId: p.contactId,
          detail: { eventId: p.eventId },
        });
      }
      return { ok: true, value: { state: 'done', doneAt: doneAt.toISOString() } };
    });
    if (outcome.ok) this.deps.onRecorded?.();
    return outcome;
  }

  /** The registrant's follow-up row, made open and unassigned the first time. */
  private async upsert(m: EntityManager, eventId: number, contactId: number, now: Date): Promise<void> {
    const ignore = isMysqlManager(m) ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
    await m.query(`${ignore} INTO event_followups (event_id, contact_id, state, created_at, updated_at) VALUES (?, ?, 'open', ?, ?)`, [
      eventId,
      contactId,
      toSqlDate(now),
      toSqlDate(now),
    ]);
  }
}

function maskPhone(phone: string): string {
  const digits = phone.replace(/^\+86/, '');
  return digits.length >= 7 ? `${digits.slice(0, 3)}****${digits.slice(-4)}` : '****';
}
