import type { DataSource, EntityManager } from 'typeorm';
import type { CardAction, CardRelation } from '../../../entities/card-visitor.entity';
import type { Task } from '../../../entities/task.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import type { WecomAgentClient } from '../../adapters/wecom-agent.client';
import { executeCountingRows, fromSqlDate, isMysqlManager, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import { refuseMp, type MpResult } from '../miniprogram/mp-refusal';
import type { MpCaller } from '../miniprogram/mp-sessions.service';
import type { AssignParams, AssignmentView } from '../sales/sales-assignment.service';
import type { TaskQueue, TaskResult } from '../tasks/task-queue.service';
import { chainsOf, contactNames, ensureShare, findShareById, findShareByToken, type ChainLink } from './card-shares';
import type { CardsService, PublicCard } from './cards.service';

/** The task that tells a rep by WeCom app message that someone new opened their card. */
export const CARD_VIEWER_NOTIFY = 'card_viewer_notify';

/**
 * One view per viewer per card per 30 minutes (fixed windows of the clock): reopening the card,
 * coming back from a material or a reload within seconds is the same visit, not a new
 * `card_view` on the timeline; the seconds reported by each are still added up.
 */
export const CARD_VIEW_WINDOW_MS = 30 * 60_000;
const MAX_VISITORS_PAGE = 100;

export interface CardVisitorsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  cards: Pick<CardsService, 'publicCard' | 'findOwner'>;
  interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
  sales: { assignIn(manager: EntityManager, params: AssignParams): Promise<AssignmentView | null> };
  /** Which operator a mini-program user is (their staff binding): the rep opening their own card is no visitor. */
  staffOperatorOf: (caller: MpCaller) => Promise<number | null>;
  hasPhone: (caller: MpCaller) => Promise<boolean>;
  queue: TaskQueue;
  /** The WeCom app that messages reps; null when WeCom is not configured (nothing is sent). */
  agent: WecomAgentClient | null;
  onRecorded?: () => void;
}

export interface VisitorItem {
  contactId: number;
  name: string | null;
  avatarUrl: string | null;
  firstViewedAt: string;
  lastViewedAt: string;
  views: number;
  seconds: number;
  relation: CardRelation;
  becameContactAt: string | null;
  becameContactBy: CardAction | null;
  /** Who forwarded the card before this visitor, first forwarder first (empty: straight from the rep). */
  chain: ChainLink[];
}

interface VisitorRow {
  id: number | string;
  contact_id: number | string;
  name: string | null;
  avatar_url: string | null;
  first_viewed_at: unknown;
  last_viewed_at: unknown;
  views: number | string;
  seconds: number | string;
  first_share_id: number | string | null;
  relation: CardRelation;
  became_contact_at: unknown;
  became_contact_by: CardAction | null;
}

/**
 * A card's viewers (issue 17 §1): each opening is a `card_view` on the viewer's timeline with the
 * share chain it came through; a token that brings someone new is a `card_share` on its holder's
 * timeline; the rep hears of each new viewer once. A view never makes a relationship (one
 * open-source card filled both sides' card lists on every view): the viewer stays a visitor
 * until they save the card, add the rep on WeCom or leave a phone, which hands them to the rep as
 * a lead.
 */
export class CardVisitorsService {
  constructor(private readonly deps: CardVisitorsServiceDeps) {}

  /**
   * GET /api/mp/cards/:operatorId?st=: the card with this viewer's own token, the view recorded.
   * `st` counts only when it is a token of this card; anything else is a direct view. The viewer's
   * own token (a forward they reopened) counts as the share they first came through.
   */
  async openCard(p: { caller: MpCaller; operatorId: number; st: string | null }): Promise<MpResult<PublicCard & { shareToken: string }>> {
    const card = await this.deps.cards.publicCard(p.operatorId);
    if (!card) return cardNotFound();
    const own = (await this.deps.staffOperatorOf(p.caller)) === p.operatorId;
    const viewer = p.caller.contactId;
    const now = this.deps.clock.now();
    const shareToken = await this.deps.transactor.runRetrying(async (m) => {
      if (own) return (await ensureShare(m, { operatorId: p.operatorId, contactId: null, parentId: null, now })).token;
      let arrival = await findShareByToken(m, p.operatorId, p.st);
      if (arrival?.contactId === viewer) arrival = arrival.parentId === null ? null : await findShareById(m, arrival.parentId);
      const visitor = await this.ensureVisitor(m, { operatorId: p.operatorId, contactId: viewer, firstShareId: arrival?.id ?? null, now });
      const share = await ensureShare(m, { operatorId: p.operatorId, contactId: viewer, parentId: visitor.firstShareId, now });
      const chain = arrival ? ((await chainsOf(m, [arrival.id])).get(arrival.id) ?? []) : [];
      const viewed = await this.deps.interactions.recordInteraction(m, {
        type: 'card_view',
        channel: 'mp',
        occurredAt: now,
        detail: { operatorId: p.operatorId, repName: card.name, sharedBy: chain.at(-1) ?? null, chain },
        identity: null,
        contactId: viewer,
        dedupeKey: `card:view:${p.operatorId}:${viewer}:${Math.floor(now.getTime() / CARD_VIEW_WINDOW_MS)}`,
        ref: { type: 'card', id: String(p.operatorId) },
      });
      await m.query(`UPDATE card_visitors SET views = views + ?, last_viewed_at = ? WHERE id = ?`, [
        viewed.recorded ? 1 : 0,
        toSqlDate(now),
        visitor.id,
      ]);
      const sharer = arrival?.contactId ?? null;
      if (visitor.created && sharer !== null) {
        const names = await contactNames(m, [viewer]);
        await this.deps.interactions.recordInteraction(m, {
          type: 'card_share',
          channel: 'mp',
          occurredAt: now,
          detail: { operatorId: p.operatorId, repName: card.name, viewer: { contactId: viewer, name: names.get(viewer) ?? null } },
          identity: null,
          contactId: sharer,
          dedupeKey: `card:share:${p.operatorId}:${sharer}:${viewer}`,
          ref: { type: 'card', id: String(p.operatorId) },
        });
      }
      return share.token;
    });
    if (!own) this.deps.onRecorded?.();
    return { ok: true, value: { ...card, shareToken } };
  }

  /**
   * POST /api/mp/cards/:operatorId/views: the seconds the page was shown, added to the visitor's
   * total and to their latest `card_view` (what the timeline shows). The view itself was counted
   * and attributed when the card was opened, so the report's `st` changes nothing.
   */
  async addViewSeconds(p: { caller: MpCaller; operatorId: number; seconds: number }): Promise<MpResult<null>> {
    const owner = await this.deps.cards.findOwner(p.operatorId);
    if (!owner) return cardNotFound();
    const seconds = Math.round(p.seconds);
    if (seconds <= 0) return { ok: true, value: null };
    await this.deps.transactor.runRetrying(async (m) => {
      const added = await executeCountingRows(
        m,
        'UPDATE card_visitors SET seconds = seconds + ? WHERE operator_id = ? AND contact_id = ?',
        [seconds, p.operatorId, p.caller.contactId],
      );
      if (added === 0) return;
      const [view] = await m.query<{ id: number | string; detail: unknown }[]>(
        "SELECT id, detail FROM interactions WHERE contact_id = ? AND type = 'card_view' AND ref_type = 'card' AND ref_id = ? " +
          'ORDER BY id DESC LIMIT 1',
        [p.caller.contactId, String(p.operatorId)],
      );
      if (!view) return;
      const detail = parseDetail(view.detail);
      const before = typeof detail.seconds === 'number' ? detail.seconds : 0;
      await m.query('UPDATE interactions SET detail = ? WHERE id = ?', [JSON.stringify({ ...detail, seconds: before + seconds }), view.id]);
    });
    return { ok: true, value: null };
  }

  /**
   * POST /api/mp/cards/:operatorId/actions: the viewer becomes the rep's contact (the first action
   * is kept as how), a `card_action` on their timeline (one per action per card: doing it again is
   * the same fact), and a lead handed to the rep (sales assignment `card:<operatorId>`, one per
   * viewer per card, whose app message the sales notifier sends once). `leave_phone` needs the
   * phone bound first (POST /api/mp/phone).
   */
  async recordAction(p: { caller: MpCaller; operatorId: number; action: CardAction }): Promise<MpResult<{ relation: 'contact' }>> {
    const owner = await this.deps.cards.findOwner(p.operatorId);
    if (!owner) return cardNotFound();
    if (p.action === 'leave_phone' && !(await this.deps.hasPhone(p.caller)))
      return refuseMp('mp_phone_required', 'Share a phone number first (POST /api/mp/phone)');
    const viewer = p.caller.contactId;
    const now = this.deps.clock.now();
    await this.deps.transactor.runRetrying(async (m) => {
      const visitor = await this.ensureVisitor(m, { operatorId: p.operatorId, contactId: viewer, firstShareId: null, now });
      await m.query(
        "UPDATE card_visitors SET relation = 'contact', became_contact_at = ?, became_contact_by = ? WHERE id = ? AND relation = 'visitor'",
        [toSqlDate(now), p.action, visitor.id],
      );
      await this.deps.interactions.recordInteraction(m, {
        type: 'card_action',
        channel: 'mp',
        occurredAt: now,
        detail: { operatorId: p.operatorId, repName: owner.name, action: p.action },
        identity: null,
        contactId: viewer,
        dedupeKey: `card:action:${p.operatorId}:${viewer}:${p.action}`,
        ref: { type: 'card', id: String(p.operatorId) },
      });
      await this.deps.sales.assignIn(m, {
        contactId: viewer,
        operatorId: p.operatorId,
        reason: `card:${p.operatorId}`,
        dedupeKey: `card:${p.operatorId}:${viewer}`,
        note: `通过名片${ACTION_TEXT[p.action]}`,
      });
    });
    this.deps.onRecorded?.();
    return { ok: true, value: { relation: 'contact' } };
  }

  /**
   * GET /api/admin/cards/:operatorId/visitors: newest view first, keyset paged on
   * (last_viewed_at, id) (IDX_card_visitors_list), each with the chain they first came through.
   */
  async listVisitors(p: {
    operatorId: number;
    relation: CardRelation | null;
    cursor: string | null;
    limit: number;
  }): Promise<{ items: VisitorItem[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(p.limit, 1), MAX_VISITORS_PAGE);
    const after = decodeCursor(p.cursor);
    const where = ['v.operator_id = ?'];
    const params: unknown[] = [p.operatorId];
    if (p.relation) {
      where.push('v.relation = ?');
      params.push(p.relation);
    }
    if (after) {
      where.push('(v.last_viewed_at < ? OR (v.last_viewed_at = ? AND v.id < ?))');
      params.push(after.at, after.at, after.id);
    }
    const rows = await this.deps.dataSource.query<VisitorRow[]>(
      'SELECT v.id, v.contact_id, COALESCE(c.remark, c.name) AS name, c.avatar_url, v.first_viewed_at, v.last_viewed_at, ' +
        'v.views, v.seconds, v.first_share_id, v.relation, v.became_contact_at, v.became_contact_by ' +
        'FROM card_visitors v LEFT JOIN contacts c ON c.id = v.contact_id ' +
        `WHERE ${where.join(' AND ')} ORDER BY v.last_viewed_at DESC, v.id DESC LIMIT ${limit + 1}`,
      params,
    );
    const page = rows.slice(0, limit);
    const starts = page.flatMap((row) => (row.first_share_id === null ? [] : [Number(row.first_share_id)]));
    const chains = await chainsOf(this.deps.dataSource.manager, starts);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({
        contactId: Number(row.contact_id),
        name: row.name,
        avatarUrl: row.avatar_url,
        firstViewedAt: fromSqlDate(row.first_viewed_at).toISOString(),
        lastViewedAt: fromSqlDate(row.last_viewed_at).toISOString(),
        views: Number(row.views),
        seconds: Number(row.seconds),
        relation: row.relation,
        becameContactAt: row.became_contact_at == null ? null : fromSqlDate(row.became_contact_at).toISOString(),
        becameContactBy: row.became_contact_by,
        chain: row.first_share_id === null ? [] : (chains.get(Number(row.first_share_id)) ?? []),
      })),
      nextCursor: rows.length > limit && last ? encodeCursor(fromSqlDate(last.last_viewed_at), Number(last.id)) : null,
    };
  }

  /** The task queue's handler for the reps' "new viewer" app messages. */
  handlers(): Record<string, (tasks: Task[]) => Promise<TaskResult[]>> {
    return { [CARD_VIEWER_NOTIFY]: (tasks) => Promise.all(tasks.map((task) => this.notifyNewViewer(task))) };
  }

  /**
   * The rep's app message for a new viewer, at most once: the visitor row goes pending → sending
   * by a conditional UPDATE before the call (as sales_assignments do), so a retried task sends
   * nothing. Skipped, with the reason logged, without a WeCom app or a WeCom userid for the rep.
   */
  async notifyNewViewer(task: Task): Promise<TaskResult> {
    const manager = this.deps.dataSource.manager;
    const visitorId = Number(task.payload.visitorId);
    const [row] = await manager.query<
      { operator_id: number | string; contact_id: number | string; first_share_id: number | string | null }[]
    >("SELECT operator_id, contact_id, first_share_id FROM card_visitors WHERE id = ? AND notify_status = 'pending'", [visitorId]);
    if (!row) return { id: task.id, ok: true };
    const owner = await this.deps.cards.findOwner(Number(row.operator_id));
    const agent = this.deps.agent;
    const toUser = owner?.wecomUserId ?? null;
    if (!agent || toUser === null) {
      const reason = !agent ? 'WeCom is not configured' : !owner ? 'no card or operator' : 'the operator has no WeCom userid';
      await manager.query("UPDATE card_visitors SET notify_status = 'skipped' WHERE id = ? AND notify_status = 'pending'", [visitorId]);
      this.deps.logger.info('card viewer notification skipped', { visitorId, reason });
      return { id: task.id, ok: true };
    }
    const claimed = await executeCountingRows(
      manager,
      "UPDATE card_visitors SET notify_status = 'sending' WHERE id = ? AND notify_status = 'pending'",
      [visitorId],
    );
    if (claimed !== 1) return { id: task.id, ok: true };
    const contactId = Number(row.contact_id);
    const chain =
      row.first_share_id === null ? [] : ((await chainsOf(manager, [Number(row.first_share_id)])).get(Number(row.first_share_id)) ?? []);
    const who = (await contactNames(manager, [contactId])).get(contactId) ?? `#${contactId}`;
    const via = chain.at(-1);
    const content = `有新访客查看了你的名片：「${who}」${via ? `，由「${via.name ?? `#${via.contactId}`}」转发` : ''}。`;
    try {
      await agent.sendTextMessage({ toUser, content });
      await manager.query("UPDATE card_visitors SET notify_status = 'sent' WHERE id = ?", [visitorId]);
    } catch (error) {
      // The call may have reached WeCom (a timeout after sending): never sent again automatically.
      await manager.query("UPDATE card_visitors SET notify_status = 'failed' WHERE id = ?", [visitorId]);
      this.deps.logger.warn('card viewer app message failed; not retried (it may have been delivered)', {
        visitorId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return { id: task.id, ok: true };
  }

  /**
   * The (card, viewer) row, made on first sight by insert-or-ignore (two first views at once make
   * one) with its notification task: a new viewer is told to the rep once.
   */
  private async ensureVisitor(
    m: EntityManager,
    p: { operatorId: number; contactId: number; firstShareId: number | null; now: Date },
  ): Promise<{ id: number; firstShareId: number | null; created: boolean }> {
    const ignore = isMysqlManager(m) ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
    const now = toSqlDate(p.now);
    const created = await executeCountingRows(
      m,
      `${ignore} INTO card_visitors (operator_id, contact_id, first_viewed_at, last_viewed_at, views, seconds, first_share_id, relation, ` +
        "notify_status) VALUES (?, ?, ?, ?, 0, 0, ?, 'visitor', 'pending')",
      [p.operatorId, p.contactId, now, now, p.firstShareId],
    );
    const [row] = await m.query<{ id: number | string; first_share_id: number | string | null }[]>(
      'SELECT id, first_share_id FROM card_visitors WHERE operator_id = ? AND contact_id = ?',
      [p.operatorId, p.contactId],
    );
    if (!row) throw new Error('card visitor neither found nor made');
    const id = Number(row.id);
    if (created > 0)
      await this.deps.queue.enqueue({
        manager: m,
        kind: CARD_VIEWER_NOTIFY,
        dedupeKey: `${CARD_VIEWER_NOTIFY}:${id}`,
        payload: { visitorId: id },
      });
    return { id, firstShareId: row.first_share_id === null ? null : Number(row.first_share_id), created: created > 0 };
  }
}

const ACTION_TEXT: Record<CardAction, string> = { save_contact: '保存了联系方式', add_wecom: '添加企业微信', leave_phone: '留下了手机号' };

function cardNotFound(): MpResult<never> {
  return refuseMp('card_not_found', 'No card for this operator (unknown, disabled, or none saved)');
}

function parseDetail(value: unknown): Record<string, unknown> {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

/** `<ms>.<id>` of the last row of a page. */
function encodeCursor(at: Date, id: number): string {
  return `${at.getTime()}.${id}`;
}

function decodeCursor(cursor: string | null): { at: string; id: number } | null {
  const match = cursor === null ? null : /^(\d{1,15})\.(\d{1,10})$/.exec(cursor);
  return match ? { at: toSqlDate(new Date(Number(match[1]))), id: Number(match[2]) } : null;
}
