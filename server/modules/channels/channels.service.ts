import QRCode from 'qrcode';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { ChannelKind, ChannelOptions, ChannelStatus } from '../../../entities/channel.entity';
import { Tag } from '../../../entities/tag.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import type { MiniProgramClient } from '../../adapters/miniprogram.client';
import type { OfficialAccountClient } from '../../adapters/official-account.client';
import { PlatformApiError, PlatformTransportError } from '../../adapters/platform-error';
import type { WecomClient } from '../../adapters/wecom.client';
import { fromSqlDate, insertReturningId, isMysqlManager, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { describeChanges, describeRecord, type AuditActor, type AuditService } from '../audit/audit.service';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import type { PassiveReply } from '../tag-rules/tag-rules.engine';
import { channelScene, channelVisitDraft, parseChannelScene, type ChannelVisit } from './channel-scene';

export interface ChannelsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  /** Null when the platform is not configured: codes of that kind are refused. */
  officialAccount: OfficialAccountClient | null;
  wecom: WecomClient | null;
  miniprogram: MiniProgramClient;
  /** PUBLIC_BASE_URL: where H5 links point. */
  publicBaseUrl: string;
  /** Records a visit through a channel (the mini-program opened by its code) on the timeline. */
  visits?: {
    interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
    /** After an interaction is committed: the reactions (attribution, tags) run. */
    onRecorded?: () => void;
  };
}

export interface ChannelStats {
  /** Scans, adds and visits attributed to the channel. */
  scans: number;
  /** Contacts whose first touch was this channel. */
  newContacts: number;
  /** cost / newContacts in yuan, two decimals; null without a cost or a new contact. */
  costPerNewContact: number | null;
}

export interface ChannelView {
  id: number;
  name: string;
  kind: ChannelKind;
  status: ChannelStatus;
  scene: string;
  /** Yuan. */
  cost: number | null;
  eventId: number | null;
  tags: { id: number; name: string }[];
  welcome: string | null;
  options: ChannelOptions;
  url: string | null;
  qrImageUrl: string;
  configId: string | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  stats: ChannelStats;
}

export interface ChannelIssue {
  path: string;
  code: string;
  message: string;
}

export type ChannelResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' | 'duplicate_name' }
  | { ok: false; reason: 'invalid'; issues: ChannelIssue[] }
  | { ok: false; reason: 'platform'; message: string; errcode: number | null };

export interface CreateChannelParams {
  name: string;
  kind: ChannelKind;
  /** Yuan (at most two decimals). */
  cost?: number | null;
  eventId?: number | null;
  tags?: number[];
  welcome?: string | null;
  /** oa_qr: temporary for this many seconds (at most 30 days); permanent when absent. */
  expireSeconds?: number;
  /** wecom_contact_way. */
  userIds?: string[];
  /** mp_code: the page; h5: the path on PUBLIC_BASE_URL (default `/`, or `/e/<eventId>`). */
  page?: string;
  path?: string;
  /** A product whose offer link the welcome carries (the trial offer to a new follower). */
  offerProductId?: number | null;
  actor: AuditActor;
}

export interface UpdateChannelParams {
  id: number;
  name?: string;
  cost?: number | null;
  eventId?: number | null;
  tags?: number[];
  welcome?: string | null;
  offerProductId?: number | null;
  actor: AuditActor;
}

/** The channel as the attribution reaction and the passive reply read it. */
export interface ChannelRef {
  id: number;
  kind: ChannelKind;
  scene: string;
  tagIds: number[];
  /** The welcome as sent: the operator's text, then the offer's link when the channel carries one. */
  welcome: string | null;
  /** The event the channel invites to, if any: the mini-program opens its page. */
  eventId: number | null;
}

export interface RecordChannelVisitParams {
  /** The code's scene as the platform handed it over (`ch:12`, or URL-encoded `ch%3A12`). */
  scene: string;
  channel: ChannelVisit['channel'];
  identity: ChannelVisit['identity'];
  page: string;
  visitId: string;
}

/**
 * Channel codes (渠道活码): created on their platform, listed with their stats, edited, archived,
 * and drawn as PNG. Every change is audited in its transaction.
 */
/**
 * A `pending` row older than this was left by a process that died during its platform call (the
 * platform clients time out long before): it is removed so its name can be used again. Its
 * platform code, if one was made, attributes nothing, since its channel is gone.
 */
const ABANDONED_PENDING_MS = 10 * 60_000;

export class ChannelsService {
  constructor(private readonly deps: ChannelsServiceDeps) {}

  /**
   * The row is written first (`pending`) so its id makes the scene, then the platform is asked
   * outside any transaction (a held transaction would stall SQLite's one writer for the call), and
   * the row is completed, or removed when the platform refused: a failed create leaves nothing.
   * A process that died between the two leaves a `pending` row holding its name: rows pending for
   * longer than any platform call can take are removed first, so the operator's retry succeeds.
   */
  async createChannel(
    params: CreateChannelParams,
  ): Promise<ChannelResult<{ id: number; scene: string; url: string | null; qrImageUrl: string }>> {
    const platformIssue = this.platformMissing(params.kind);
    if (platformIssue) return { ok: false, reason: 'invalid', issues: [platformIssue] };
    const tagIds = [...new Set(params.tags ?? [])];
    const options: ChannelOptions =
      params.kind === 'oa_qr'
        ? params.expireSeconds === undefined
          ? {}
          : { expireSeconds: params.expireSeconds }
        : params.kind === 'wecom_contact_way'
          ? { wecomType: (params.userIds ?? []).length > 1 ? 2 : 1, userIds: params.userIds ?? [] }
          : params.kind === 'mp_code'
            ? params.page
              ? { page: params.page }
              : {}
            : {};
    if (params.offerProductId) options.offerProductId = params.offerProductId;
    await this.deps.dataSource.query("DELETE FROM channels WHERE status = 'pending' AND created_at < ?", [
      toSqlDate(new Date(this.deps.clock.now().getTime() - ABANDONED_PENDING_MS)),
    ]);
    const inserted = await this.deps.transactor.runRetrying<ChannelResult<number>>(
      async (manager): Promise<ChannelResult<number>> => {
        const issues = [
          ...(await this.checkTags(manager, tagIds)),
          ...(await this.checkEvent(manager, params.eventId ?? null)),
          ...(await this.checkProduct(manager, params.offerProductId ?? null)),
        ];
        if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
        if (await this.nameTaken(manager, params.name, null)) return { ok: false, reason: 'duplicate_name' };
        const now = toSqlDate(this.deps.clock.now());
        const id = await insertReturningId(
          manager,
          'INSERT INTO channels (name, kind, status, scene, cost_fen, event_id, tag_ids, welcome, options, created_by, created_at, updated_at) ' +
            "VALUES (?, ?, 'pending', NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
          [
            params.name,
            params.kind,
            toFen(params.cost),
            params.eventId ?? null,
            JSON.stringify(tagIds),
            emptyToNull(params.welcome),
            JSON.stringify(options),
            params.actor.operatorId,
            now,
            now,
          ],
        );
        await manager.query('UPDATE channels SET scene = ? WHERE id = ?', [channelScene(id), id]);
        return { ok: true, value: id };
      },
      { onDuplicate: () => ({ ok: false, reason: 'duplicate_name' }) },
    );
    if (!inserted.ok) return inserted;
    const id = inserted.value;
    const scene = channelScene(id);

    let made: { url: string | null; ticket: string | null; configId: string | null; expiresAt: Date | null };
    try {
      made = await this.createOnPlatform(id, scene, params, options);
    } catch (error) {
      await this.deps.dataSource.query("DELETE FROM channels WHERE id = ? AND status = 'pending'", [id]);
      if (error instanceof PlatformApiError) return { ok: false, reason: 'platform', message: error.message, errcode: error.errcode };
      if (error instanceof PlatformTransportError) return { ok: false, reason: 'platform', message: error.message, errcode: null };
      throw error;
    }
    await this.deps.transactor.run(async (manager) => {
      await manager.query(
        "UPDATE channels SET status = 'active', url = ?, ticket = ?, config_id = ?, expires_at = ?, updated_at = ? WHERE id = ?",
        [made.url, made.ticket, made.configId, made.expiresAt ? toSqlDate(made.expiresAt) : null, toSqlDate(this.deps.clock.now()), id],
      );
      await this.deps.audit.record({
        manager,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'channel.create',
        targetType: 'channel',
        targetId: id,
        detail: describeRecord({ name: params.name, kind: params.kind, scene, cost: params.cost ?? null, tags: tagIds, options }),
      });
    });
    return { ok: true, value: { id, scene, url: made.url, qrImageUrl: qrImageUrlOf(id) } };
  }

  async listChannels(p: { status?: ChannelStatus | 'all' } = {}): Promise<ChannelView[]> {
    const status = p.status ?? 'active';
    const where = status === 'all' ? "c.status <> 'pending'" : 'c.status = ?';
    const rows = await this.deps.dataSource.query<ChannelRow[]>(
      `${SELECT_CHANNEL} WHERE ${where} GROUP BY ${GROUP_CHANNEL} ORDER BY c.id DESC`,
      status === 'all' ? [] : [status],
    );
    return this.toViews(rows);
  }

  async getChannel(id: number): Promise<ChannelView | null> {
    const rows = await this.deps.dataSource.query<ChannelRow[]>(
      `${SELECT_CHANNEL} WHERE c.id = ? AND c.status <> 'pending' GROUP BY ${GROUP_CHANNEL}`,
      [id],
    );
    return (await this.toViews(rows))[0] ?? null;
  }

  /** What an operator may change after creation: the platform's code itself stays as made. */
  async updateChannel(params: UpdateChannelParams): Promise<ChannelResult<ChannelView>> {
    const result = await this.deps.transactor.runRetrying<ChannelResult<null>>(
      async (manager): Promise<ChannelResult<null>> => {
        const current = await this.locked(manager, params.id);
        if (!current) return { ok: false, reason: 'not_found' };
        const before = {
          name: current.name,
          cost: current.cost_fen === null ? null : Number(current.cost_fen) / 100,
          eventId: current.event_id === null ? null : Number(current.event_id),
          tags: parseJson<number[]>(current.tag_ids, []),
          welcome: current.welcome,
          offerProductId: parseJson<ChannelOptions>(current.options, {}).offerProductId ?? null,
        };
        const after = {
          name: params.name ?? before.name,
          cost: params.cost === undefined ? before.cost : params.cost,
          eventId: params.eventId === undefined ? before.eventId : params.eventId,
          tags: params.tags === undefined ? before.tags : [...new Set(params.tags)],
          welcome: params.welcome === undefined ? before.welcome : emptyToNull(params.welcome),
          offerProductId: params.offerProductId === undefined ? before.offerProductId : params.offerProductId,
        };
        if (params.tags) {
          const issues = await this.checkTags(manager, after.tags);
          if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
        }
        if (params.eventId !== undefined) {
          const issues = await this.checkEvent(manager, after.eventId);
          if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
        }
        if (params.offerProductId !== undefined) {
          const issues = await this.checkProduct(manager, after.offerProductId);
          if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
        }
        const options: ChannelOptions = { ...parseJson<ChannelOptions>(current.options, {}) };
        if (after.offerProductId) options.offerProductId = after.offerProductId;
        else delete options.offerProductId;
        if (after.name !== before.name && (await this.nameTaken(manager, after.name, params.id)))
          return { ok: false, reason: 'duplicate_name' };
        await manager.query(
          'UPDATE channels SET name = ?, cost_fen = ?, event_id = ?, tag_ids = ?, welcome = ?, options = ?, updated_at = ? WHERE id = ?',
          [
            after.name,
            toFen(after.cost),
            after.eventId,
            JSON.stringify(after.tags),
            after.welcome,
            JSON.stringify(options),
            toSqlDate(this.deps.clock.now()),
            params.id,
          ],
        );
        await this.deps.audit.record({
          manager,
          operatorId: params.actor.operatorId,
          ip: params.actor.ip,
          action: 'channel.update',
          targetType: 'channel',
          targetId: params.id,
          detail: describeChanges(before, after),
        });
        return { ok: true, value: null };
      },
      { onDuplicate: () => ({ ok: false, reason: 'duplicate_name' }) },
    );
    if (!result.ok) return result;
    const view = await this.getChannel(params.id);
    return view ? { ok: true, value: view } : { ok: false, reason: 'not_found' };
  }

  /**
   * Archived channels leave the list but keep attributing: printed codes stay in the world, and a
   * scan through one is still worth knowing. For the same reason a WeCom contact way is not deleted
   * on the platform (del_contact_way would make the printed code stop adding the rep). Archiving
   * twice is a no-op.
   */
  async archiveChannel(p: { id: number; actor: AuditActor }): Promise<ChannelResult<{ id: number }>> {
    return this.deps.transactor.run(async (manager): Promise<ChannelResult<{ id: number }>> => {
      const current = await this.locked(manager, p.id);
      if (!current) return { ok: false, reason: 'not_found' };
      if (current.status === 'archived') return { ok: true, value: { id: p.id } };
      const now = toSqlDate(this.deps.clock.now());
      await manager.query("UPDATE channels SET status = 'archived', archived_at = ?, updated_at = ? WHERE id = ?", [now, now, p.id]);
      await this.deps.audit.record({
        manager,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'channel.archive',
        targetType: 'channel',
        targetId: p.id,
        detail: describeRecord({ name: current.name, kind: current.kind }),
      });
      return { ok: true, value: { id: p.id } };
    });
  }

  /** The code as a PNG: from the platform for its own codes, drawn here (qrcode) for H5 links. */
  async qrPng(id: number): Promise<ChannelResult<Buffer>> {
    const rows = await this.deps.dataSource.query<ChannelRow[]>(`${SELECT_BARE} WHERE c.id = ? AND c.status <> 'pending'`, [id]);
    const row = rows[0];
    if (!row) return { ok: false, reason: 'not_found' };
    const scene = row.scene ?? channelScene(id);
    try {
      switch (row.kind) {
        case 'oa_qr':
          if (!this.deps.officialAccount || !row.ticket) return { ok: false, reason: 'not_found' };
          return { ok: true, value: await this.deps.officialAccount.showQrCode(row.ticket) };
        case 'wecom_contact_way':
          if (!this.deps.wecom || !row.url) return { ok: false, reason: 'not_found' };
          return { ok: true, value: await this.deps.wecom.fetchContactWayQr(row.url) };
        case 'mp_code': {
          const options = parseJson<ChannelOptions>(row.options, {});
          return {
            ok: true,
            value: await this.deps.miniprogram.getUnlimitedCode({ scene, ...(options.page ? { page: options.page } : {}) }),
          };
        }
        case 'h5':
          return {
            ok: true,
            value: await QRCode.toBuffer(row.url ?? '', { type: 'png', margin: 2, scale: 8, errorCorrectionLevel: 'M' }),
          };
      }
    } catch (error) {
      if (error instanceof PlatformApiError) return { ok: false, reason: 'platform', message: error.message, errcode: error.errcode };
      if (error instanceof PlatformTransportError) return { ok: false, reason: 'platform', message: error.message, errcode: null };
      throw error;
    }
  }

  /** For the reaction and the passive reply: the channel by id, archived or not (null while pending or unknown). */
  async findChannelRef(id: number, manager: EntityManager = this.deps.dataSource.manager): Promise<ChannelRef | null> {
    const rows = await manager.query<
      {
        id: number | string;
        kind: ChannelKind;
        scene: string | null;
        tag_ids: unknown;
        welcome: string | null;
        event_id: number | string | null;
        options: unknown;
        offer_name: string | null;
      }[]
    >(
      // The offer's product joined by the id in options: an inactive or deleted product adds no link.
      'SELECT c.id, c.kind, c.scene, c.tag_ids, c.welcome, c.event_id, c.options, p.name AS offer_name FROM channels c ' +
        `LEFT JOIN pay_products p ON p.active = 1 AND p.id = ${jsonNumber(manager, 'c.options', 'offerProductId')} ` +
        "WHERE c.id = ? AND c.status <> 'pending'",
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      id: Number(row.id),
      kind: row.kind,
      scene: row.scene ?? channelScene(id),
      tagIds: parseJson<number[]>(row.tag_ids, []),
      welcome: welcomeWithOffer(
        row.welcome,
        row.offer_name,
        parseJson<ChannelOptions>(row.options, {}).offerProductId,
        this.deps.publicBaseUrl,
      ),
      eventId: row.event_id === null ? null : Number(row.event_id),
    };
  }

  /**
   * A visit through a channel's code (the mini-program opened with its scene): a `channel_visit`
   * interaction, which the channel reaction attributes exactly as an H5 `?ch=` visit (touch row,
   * first/last touch, the channel's tags). Once per `visitId` (its dedupe key): a retried report
   * records nothing more. Null when the scene is not one of our channels' (an archived channel
   * still attributes: its printed codes are still in the world).
   */
  async recordVisit(p: RecordChannelVisitParams): Promise<{ channelId: number; eventId: number | null } | null> {
    const channelId = parseChannelScene(p.scene);
    const channel = channelId === null ? null : await this.findChannelRef(channelId);
    if (!channel) return null;
    const visits = this.deps.visits;
    if (visits) {
      const draft = channelVisitDraft({
        channelId: channel.id,
        channel: p.channel,
        identity: p.identity,
        occurredAt: this.deps.clock.now(),
        page: p.page,
        visitId: p.visitId,
      });
      const result = await this.deps.transactor.runRetrying((m) => visits.interactions.recordInteraction(m, draft));
      if (result.recorded) visits.onRecorded?.();
    }
    return { channelId: channel.id, eventId: channel.eventId };
  }

  /**
   * The Official Account's passive reply to a subscribe through an oa_qr channel with a welcome
   * (callbacks.service.ts asks before the tag rules' replies). A SCAN by a follower gets none.
   */
  async findSubscribeReply(draft: Pick<InteractionDraft, 'type' | 'detail'>): Promise<PassiveReply | null> {
    if (draft.type !== 'subscribe' || typeof draft.detail.channelId !== 'number') return null;
    const channel = await this.findChannelRef(draft.detail.channelId);
    if (!channel || channel.kind !== 'oa_qr' || !channel.welcome) return null;
    return { kind: 'text', content: channel.welcome };
  }

  private async createOnPlatform(
    id: number,
    scene: string,
    params: CreateChannelParams,
    options: ChannelOptions,
  ): Promise<{ url: string | null; ticket: string | null; configId: string | null; expiresAt: Date | null }> {
    switch (params.kind) {
      case 'oa_qr': {
        const oa = this.deps.officialAccount;
        if (!oa) throw new Error('unreachable: checked by platformMissing');
        const made = await oa.createQrCode({
          scene,
          ...(options.expireSeconds === undefined ? {} : { expireSeconds: options.expireSeconds }),
        });
        const expiresAt = made.expireSeconds === null ? null : new Date(this.deps.clock.now().getTime() + made.expireSeconds * 1000);
        return { url: made.url, ticket: made.ticket, configId: null, expiresAt };
      }
      case 'wecom_contact_way': {
        const wecom = this.deps.wecom;
        if (!wecom) throw new Error('unreachable: checked by platformMissing');
        const made = await wecom.addContactWay({ type: options.wecomType ?? 1, userIds: options.userIds ?? [], state: scene });
        return { url: made.qrCode, ticket: null, configId: made.configId, expiresAt: null };
      }
      case 'mp_code':
        // Asked once now so a bad page (41030) is refused at creation, not at the first download.
        await this.deps.miniprogram.getUnlimitedCode({ scene, ...(options.page ? { page: options.page } : {}) });
        return { url: null, ticket: null, configId: null, expiresAt: null };
      case 'h5': {
        const path = params.path ?? (params.eventId ? `/e/${params.eventId}` : '/');
        const base = this.deps.publicBaseUrl.replace(/\/+$/, '');
        return { url: `${base}${path}${path.includes('?') ? '&' : '?'}ch=${id}`, ticket: null, configId: null, expiresAt: null };
      }
    }
  }

  private platformMissing(kind: ChannelKind): ChannelIssue | null {
    if (kind === 'oa_qr' && !this.deps.officialAccount)
      return { path: 'kind', code: 'platform_disabled', message: 'The Official Account is not configured' };
    if (kind === 'wecom_contact_way' && !this.deps.wecom)
      return { path: 'kind', code: 'platform_disabled', message: 'WeCom is not configured' };
    return null;
  }

  private async checkTags(manager: EntityManager, tagIds: number[]): Promise<ChannelIssue[]> {
    if (tagIds.length === 0) return [];
    const found = new Set((await manager.find(Tag, { where: { id: In(tagIds) }, select: { id: true } })).map((t) => t.id));
    return tagIds.flatMap((id, i) => (found.has(id) ? [] : [{ path: `tags.${i}`, code: 'tag_unknown', message: `No tag ${id}` }]));
  }

  /** channels.event_id is a foreign key: an unknown event is the operator's mistake, answered as one. */
  private async checkEvent(manager: EntityManager, eventId: number | null): Promise<ChannelIssue[]> {
    if (eventId === null) return [];
    const rows = await manager.query<{ id: number | string }[]>('SELECT id FROM events WHERE id = ?', [eventId]);
    return rows.length > 0 ? [] : [{ path: 'eventId', code: 'channel_event_unknown', message: `No event ${eventId}` }];
  }

  /** The offer's product must exist (active or not: it may be switched on later; an inactive one adds no link). */
  private async checkProduct(manager: EntityManager, productId: number | null): Promise<ChannelIssue[]> {
    if (productId === null) return [];
    const rows = await manager.query<{ id: number | string }[]>('SELECT id FROM pay_products WHERE id = ?', [productId]);
    return rows.length > 0 ? [] : [{ path: 'offerProductId', code: 'channel_product_unknown', message: `No product ${productId}` }];
  }

  private async nameTaken(manager: EntityManager, name: string, exceptId: number | null): Promise<boolean> {
    const rows = await manager.query<{ id: number | string }[]>('SELECT id FROM channels WHERE name = ?', [name]);
    return rows.some((row) => Number(row.id) !== exceptId);
  }

  private async locked(manager: EntityManager, id: number): Promise<ChannelRow | null> {
    const rows = await manager.query<ChannelRow[]>(
      `${SELECT_BARE} WHERE c.id = ? AND c.status <> 'pending'${isMysqlManager(manager) ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] ?? null;
  }

  private async toViews(rows: ChannelRow[]): Promise<ChannelView[]> {
    const tagIds = [...new Set(rows.flatMap((row) => parseJson<number[]>(row.tag_ids, [])))];
    const tags = tagIds.length === 0 ? [] : await this.deps.dataSource.manager.find(Tag, { where: { id: In(tagIds) } });
    const names = new Map(tags.map((tag) => [tag.id, tag.name]));
    return rows.map((row) => {
      const id = Number(row.id);
      const costFen = row.cost_fen === null ? null : Number(row.cost_fen);
      const scans = Number(row.scans ?? 0);
      const newContacts = Number(row.new_contacts ?? 0);
      return {
        id,
        name: row.name,
        kind: row.kind,
        status: row.status,
        scene: row.scene ?? channelScene(id),
        cost: costFen === null ? null : costFen / 100,
        eventId: row.event_id === null ? null : Number(row.event_id),
        tags: parseJson<number[]>(row.tag_ids, []).flatMap((tagId) => {
          const name = names.get(tagId);
          return name === undefined ? [] : [{ id: tagId, name }];
        }),
        welcome: row.welcome,
        options: parseJson<ChannelOptions>(row.options, {}),
        url: row.url,
        qrImageUrl: qrImageUrlOf(id),
        configId: row.config_id,
        expiresAt: row.expires_at === null ? null : fromSqlDate(row.expires_at).toISOString(),
        createdAt: fromSqlDate(row.created_at).toISOString(),
        updatedAt: fromSqlDate(row.updated_at).toISOString(),
        archivedAt: row.archived_at === null ? null : fromSqlDate(row.archived_at).toISOString(),
        stats: {
          scans,
          newContacts,
          costPerNewContact: costFen === null || newContacts === 0 ? null : Math.round(costFen / newContacts) / 100,
        },
      };
    });
  }
}

const CHANNEL_COLUMNS =
  'c.id, c.name, c.kind, c.status, c.scene, c.cost_fen, c.event_id, c.tag_ids, c.welcome, c.options, c.url, c.ticket, c.config_id, ' +
  'c.expires_at, c.created_at, c.updated_at, c.archived_at';
const SELECT_BARE = `SELECT ${CHANNEL_COLUMNS} FROM channels c`;
/** The stats are counted from the touches (IDX_channel_touches_channel), never kept as counters. */
const SELECT_CHANNEL =
  `SELECT ${CHANNEL_COLUMNS}, COUNT(t.interaction_id) AS scans, COALESCE(SUM(t.new_contact), 0) AS new_contacts ` +
  'FROM channels c LEFT JOIN channel_touches t ON t.channel_id = c.id';
const GROUP_CHANNEL = CHANNEL_COLUMNS;

interface ChannelRow {
  id: number | string;
  name: string;
  kind: ChannelKind;
  status: ChannelStatus;
  scene: string | null;
  cost_fen: number | string | null;
  event_id: number | string | null;
  tag_ids: unknown;
  welcome: string | null;
  options: unknown;
  url: string | null;
  ticket: string | null;
  config_id: string | null;
  expires_at: unknown;
  created_at: unknown;
  updated_at: unknown;
  archived_at: unknown;
  scans?: number | string;
  new_contacts?: number | string;
}

export function qrImageUrlOf(id: number): string {
  return `/api/admin/channels/${id}/qr.png`;
}

function toFen(cost: number | null | undefined): number | null {
  return cost === null || cost === undefined ? null : Math.round(cost * 100);
}

/**
 * The welcome a new follower gets: the operator's text, then the offer's page as a link line
 * (a WeCom welcome's text and an Official Account passive reply both show a bare URL as a link).
 */
function welcomeWithOffer(
  welcome: string | null,
  offerName: string | null,
  productId: number | undefined,
  publicBaseUrl: string,
): string | null {
  if (offerName === null || productId === undefined) return welcome;
  const link = `${offerName}：${publicBaseUrl.replace(/\/+$/, '')}/e/offer/${productId}`;
  return welcome ? `${welcome}\n${link}` : link;
}

/** A JSON number field of a column, as SQL (MySQL and SQLite spell it differently). */
function jsonNumber(manager: EntityManager, column: string, field: string): string {
  return isMysqlManager(manager) ? `JSON_EXTRACT(${column}, '$.${field}')` : `json_extract(${column}, '$.${field}')`;
}

function emptyToNull(text: string | null | undefined): string | null {
  return text === undefined || text === null || text.trim() === '' ? null : text;
}

/** JSON columns come back parsed on MySQL and as text on SQLite (and MariaDB's LONGTEXT). */
function parseJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value !== 'string') return value as T;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}
