import type { DataSource, EntityManager } from 'typeorm';
import type { ContentKind } from '../../../entities/content-material.entity';
import type { OperatorRole } from '../../../entities/operator.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { describeChanges, type AuditActor, type AuditService } from '../audit/audit.service';
import type { ChannelsService } from '../channels/channels.service';

/**
 * The reps' business cards (名片, issue 17 §1): what an operator saves on the admin page and the
 * mini-program shows. The card's "add me on WeCom" code is a WeCom contact way made through the
 * channels service on the first save, so an add through it is attributed to that channel like any
 * channel code's (state `ch:<id>`). Views, shares and visitors are card-visitors.service.ts.
 */

export const MAX_CARD_MATERIALS = 6;

export interface CardsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  channels: Pick<ChannelsService, 'createChannel'>;
}

/** What the mini-program shows (GET /api/mp/cards/:operatorId, without the viewer's token). */
export interface PublicCard {
  operatorId: number;
  name: string;
  title: string | null;
  company: string | null;
  phone: string | null;
  avatarUrl: string | null;
  intro: string | null;
  /** Live materials only; `code` is the tracked link's, which the mini-program's content page opens. */
  materials: { code: string; title: string; kind: ContentKind; cover: string | null }[];
  contactWayQrUrl: string | null;
}

/** The admin page's editor (GET/PUT /api/admin/cards/:operatorId). */
export interface CardView {
  operatorId: number;
  name: string;
  title: string | null;
  company: string | null;
  phone: string | null;
  avatarUrl: string | null;
  intro: string | null;
  materials: { id: number; title: string; kind: ContentKind }[];
  contactWay: { channelId: number; qrUrl: string | null } | null;
  /** The mini-program page that opens this card (for a mini-program code or a share from WeCom). */
  mpPath: string;
}

export interface CardListItem {
  operatorId: number;
  name: string;
  role: OperatorRole;
  title: string | null;
  company: string | null;
  hasCard: boolean;
  visitors: number;
  contacts: number;
}

export interface UpdateCardParams {
  operatorId: number;
  title: string | null;
  company: string | null;
  phone: string | null;
  avatarUrl: string | null;
  intro: string | null;
  materialIds: number[];
  actor: AuditActor;
}

export type CardResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'invalid'; issues: { path: string; code: string; message: string }[] };

/** Who may see or edit whose card: an admin any; a marketer (`operator`) reads any; anyone their own. */
export function mayAccessCard(viewer: { id: number; role: OperatorRole }, operatorId: number, mode: 'read' | 'write'): boolean {
  if (viewer.id === operatorId || viewer.role === 'admin') return true;
  return mode === 'read' && viewer.role === 'operator';
}

/** The card's owner as the mini-program and the notifications need them. */
export interface CardOwner {
  operatorId: number;
  name: string;
  wecomUserId: string | null;
}

interface CardRow {
  operator_id: number | string;
  username: string;
  display_name: string | null;
  wecom_user_id: string | null;
  title: string | null;
  company: string | null;
  phone: string | null;
  avatar_url: string | null;
  intro: string | null;
  material_ids: unknown;
  channel_id: number | string | null;
}

interface MaterialRow {
  id: number | string;
  code: string;
  kind: ContentKind;
  title: string;
  file_key: string | null;
}

const SELECT_CARD =
  'SELECT c.operator_id, o.username, o.display_name, o.wecom_user_id, c.title, c.company, c.phone, c.avatar_url, c.intro, ' +
  'c.material_ids, c.channel_id FROM cards c JOIN operators o ON o.id = c.operator_id';

export class CardsService {
  constructor(private readonly deps: CardsServiceDeps) {}

  /** The card of an active operator who saved one, or null (404 `card_not_found` for the mini-program). */
  async findOwner(operatorId: number, manager: EntityManager = this.deps.dataSource.manager): Promise<CardOwner | null> {
    const row = await this.liveCard(manager, operatorId);
    return row ? ownerOf(row) : null;
  }

  async publicCard(operatorId: number): Promise<PublicCard | null> {
    const manager = this.deps.dataSource.manager;
    const row = await this.liveCard(manager, operatorId);
    if (!row) return null;
    const materials = await this.materialsOf(manager, idsOf(row.material_ids), true);
    return {
      operatorId: Number(row.operator_id),
      name: nameOf(row),
      title: row.title,
      company: row.company,
      phone: row.phone,
      avatarUrl: row.avatar_url,
      intro: row.intro,
      materials: materials.map((m) => ({
        code: m.code,
        title: m.title,
        kind: m.kind,
        // An image is its own cover; an article's one file is its cover. A video or PDF has none.
        cover: m.file_key !== null && (m.kind === 'image' || m.kind === 'article') ? `/c/${m.code}/file` : null,
      })),
      contactWayQrUrl: (await this.contactWayOf(manager, row.channel_id))?.qrUrl ?? null,
    };
  }

  /** GET /api/mp/cards?company=: the cards of a company's active reps, by operator id. */
  async companyCards(company: string): Promise<{ operatorId: number; name: string; title: string | null; avatarUrl: string | null }[]> {
    const rows = await this.deps.dataSource.query<CardRow[]>(
      `${SELECT_CARD} WHERE c.company = ? AND o.disabled = 0 ORDER BY c.operator_id LIMIT 200`,
      [company],
    );
    return rows.map((row) => ({ operatorId: Number(row.operator_id), name: nameOf(row), title: row.title, avatarUrl: row.avatar_url }));
  }

  /** GET /api/admin/cards: every active operator (or only `onlyOperatorId`), with their card's visitors and contacts. */
  async listCards(p: { onlyOperatorId: number | null }): Promise<CardListItem[]> {
    const rows = await this.deps.dataSource.query<
      {
        id: number | string;
        username: string;
        display_name: string | null;
        role: OperatorRole;
        title: string | null;
        company: string | null;
        has_card: number | string | null;
        visitors: number | string | null;
        contacts: number | string | null;
      }[]
    >(
      'SELECT o.id, o.username, o.display_name, o.role, c.title, c.company, c.operator_id AS has_card, ' +
        '(SELECT COUNT(*) FROM card_visitors v WHERE v.operator_id = o.id) AS visitors, ' +
        "(SELECT COUNT(*) FROM card_visitors v WHERE v.operator_id = o.id AND v.relation = 'contact') AS contacts " +
        'FROM operators o LEFT JOIN cards c ON c.operator_id = o.id ' +
        `WHERE o.disabled = 0${p.onlyOperatorId === null ? '' : ' AND o.id = ?'} ORDER BY o.id`,
      p.onlyOperatorId === null ? [] : [p.onlyOperatorId],
    );
    return rows.map((row) => ({
      operatorId: Number(row.id),
      name: row.display_name ?? row.username,
      role: row.role,
      title: row.title,
      company: row.company,
      hasCard: row.has_card !== null,
      visitors: Number(row.visitors ?? 0),
      contacts: Number(row.contacts ?? 0),
    }));
  }

  /** GET /api/admin/cards/:operatorId: null when none was saved yet (the editor starts empty). */
  async getCard(operatorId: number): Promise<CardView | null> {
    const manager = this.deps.dataSource.manager;
    const [row] = await manager.query<CardRow[]>(`${SELECT_CARD} WHERE c.operator_id = ?`, [operatorId]);
    if (!row) return null;
    const materials = await this.materialsOf(manager, idsOf(row.material_ids), true);
    return {
      operatorId,
      name: nameOf(row),
      title: row.title,
      company: row.company,
      phone: row.phone,
      avatarUrl: row.avatar_url,
      intro: row.intro,
      materials: materials.map((m) => ({ id: Number(m.id), title: m.title, kind: m.kind })),
      contactWay: await this.contactWayOf(manager, row.channel_id),
      mpPath: `pages/card/index?rep=${operatorId}`,
    };
  }

  /**
   * PUT /api/admin/cards/:operatorId: the card saved and audited (`card.update`) in one
   * transaction. Then, while the card has no contact way and its operator a WeCom userid, one is
   * made through the channels service (audited there as `channel.create`). That call goes to WeCom,
   * so it runs after the commit; a refusal leaves the card saved without one (logged), and the next
   * save tries again.
   */
  async updateCard(p: UpdateCardParams): Promise<CardResult<CardView>> {
    const saved = await this.deps.transactor.runRetrying(
      async (manager): Promise<CardResult<{ wecomUserId: string | null; name: string; channelId: number | null }>> => {
        const operators = await manager.query<{ username: string; display_name: string | null; wecom_user_id: string | null }[]>(
          'SELECT username, display_name, wecom_user_id FROM operators WHERE id = ?',
          [p.operatorId],
        );
        const operator = operators[0];
        if (!operator) return { ok: false, reason: 'not_found' };
        const live = new Set((await this.materialsOf(manager, p.materialIds, false)).map((m) => Number(m.id)));
        const issues = p.materialIds.flatMap((id, i) =>
          live.has(id) ? [] : [{ path: `materialIds.${i}`, code: 'card_material_unknown', message: `No live material ${id}` }],
        );
        if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
        const lock = isMysqlManager(manager) ? ' FOR UPDATE' : '';
        const [current] = await manager.query<CardRow[]>(`${SELECT_CARD} WHERE c.operator_id = ?${lock}`, [p.operatorId]);
        const now = toSqlDate(this.deps.clock.now());
        const after = {
          title: p.title,
          company: p.company,
          phone: p.phone,
          avatarUrl: p.avatarUrl,
          intro: p.intro,
          materialIds: p.materialIds,
        };
        const values = [p.title, p.company, p.phone, p.avatarUrl, p.intro, JSON.stringify(p.materialIds), now];
        if (current)
          await manager.query(
            'UPDATE cards SET title = ?, company = ?, phone = ?, avatar_url = ?, intro = ?, material_ids = ?, updated_at = ? ' +
              'WHERE operator_id = ?',
            [...values, p.operatorId],
          );
        else
          await manager.query(
            'INSERT INTO cards (title, company, phone, avatar_url, intro, material_ids, updated_at, operator_id, created_at) ' +
              'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [...values, p.operatorId, now],
          );
        const before = current
          ? {
              title: current.title,
              company: current.company,
              phone: current.phone,
              avatarUrl: current.avatar_url,
              intro: current.intro,
              materialIds: idsOf(current.material_ids),
            }
          : { title: null, company: null, phone: null, avatarUrl: null, intro: null, materialIds: [] };
        await this.deps.audit.record({
          manager,
          operatorId: p.actor.operatorId,
          ip: p.actor.ip,
          action: 'card.update',
          targetType: 'card',
          targetId: p.operatorId,
          detail: describeChanges(before, after),
        });
        return {
          ok: true,
          value: {
            wecomUserId: operator.wecom_user_id,
            name: operator.display_name ?? operator.username,
            channelId: current?.channel_id == null ? null : Number(current.channel_id),
          },
        };
      },
    );
    if (!saved.ok) return saved;
    const { wecomUserId, channelId, name } = saved.value;
    if (channelId === null && wecomUserId !== null && wecomUserId !== '') await this.makeContactWay(p, name, wecomUserId);
    const view = await this.getCard(p.operatorId);
    return view ? { ok: true, value: view } : { ok: false, reason: 'not_found' };
  }

  /**
   * Two first saves at once could both make a contact way: the conditional UPDATE keeps the first,
   * and the other stays an unused channel code on the channels screen (harmless, and rare).
   */
  private async makeContactWay(p: UpdateCardParams, name: string, wecomUserId: string): Promise<void> {
    const made = await this.deps.channels.createChannel({
      // Channel names are unique: the operator's id makes this one so whatever their name.
      name: `名片 #${p.operatorId} ${name}`.slice(0, 64),
      kind: 'wecom_contact_way',
      userIds: [wecomUserId],
      actor: p.actor,
    });
    if (!made.ok) {
      this.deps.logger.warn('card: the WeCom contact way could not be made; the next save tries again', {
        operatorId: p.operatorId,
        reason: made.reason,
        ...(made.reason === 'platform' ? { errcode: made.errcode } : {}),
      });
      return;
    }
    await this.deps.dataSource.query('UPDATE cards SET channel_id = ? WHERE operator_id = ? AND channel_id IS NULL', [
      made.value.id,
      p.operatorId,
    ]);
  }

  private async liveCard(manager: EntityManager, operatorId: number): Promise<CardRow | null> {
    const [row] = await manager.query<CardRow[]>(`${SELECT_CARD} WHERE c.operator_id = ? AND o.disabled = 0`, [operatorId]);
    return row ?? null;
  }

  /** The live materials among `ids`, in the order given (`ordered`) or any. */
  private async materialsOf(manager: EntityManager, ids: number[], ordered: boolean): Promise<MaterialRow[]> {
    if (ids.length === 0) return [];
    const rows = await manager.query<MaterialRow[]>(
      `SELECT id, code, kind, title, file_key FROM content_materials WHERE id IN (${placeholders(ids.length)}) AND status = 'active'`,
      ids,
    );
    if (!ordered) return rows;
    const byId = new Map(rows.map((row) => [Number(row.id), row]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** The contact way's QR image (WeCom's qr_code URL, public, so the mini-program can show it). */
  private async contactWayOf(
    manager: EntityManager,
    channelId: number | string | null,
  ): Promise<{ channelId: number; qrUrl: string | null } | null> {
    if (channelId === null) return null;
    const [row] = await manager.query<{ id: number | string; url: string | null }[]>(
      "SELECT id, url FROM channels WHERE id = ? AND status <> 'pending'",
      [channelId],
    );
    return row ? { channelId: Number(row.id), qrUrl: row.url } : null;
  }
}

function nameOf(row: Pick<CardRow, 'display_name' | 'username'>): string {
  return row.display_name ?? row.username;
}

function ownerOf(row: CardRow): CardOwner {
  return { operatorId: Number(row.operator_id), name: nameOf(row), wecomUserId: row.wecom_user_id || null };
}

/** JSON columns come back parsed on MySQL and as text on SQLite (and MariaDB's LONGTEXT). */
function idsOf(value: unknown): number[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.filter((id): id is number => Number.isInteger(id)) : [];
}
