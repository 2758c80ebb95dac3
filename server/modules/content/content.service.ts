import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { DataSource, EntityManager } from 'typeorm';
import type { ContentKind, ContentStatus } from '../../../entities/content-material.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { fromSqlDate, insertReturningId, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { describeChanges, describeRecord, type AuditActor, type AuditService } from '../audit/audit.service';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import { ACCEPTED_TYPES, sniffFileType } from './content-file-types';
import { renderMarkdown } from './content-markdown';
import { MAX_READ_SECONDS } from './content-page';
import type { ContentStorage } from './content-storage';

/** The interaction a known visitor's view is (web/shared/interaction-types.ts). */
export const CONTENT_VIEW_TYPE = 'content_view';
/** A beacon may report at most this much more than the time since the page was served (clock skew, a slow network). */
const READ_SLACK_SECONDS = 60;

export interface ContentServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  storage: ContentStorage;
  /** PUBLIC_BASE_URL: where the tracked links point. */
  publicBaseUrl: string;
  maxUploadBytes: number;
  /** Whether `?ch=` names a channel (server/modules/channels): archived ones still attribute. */
  channelExists: (manager: EntityManager, channelId: number) => Promise<boolean>;
  interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
  /** After a view was recorded as an interaction: the reactions run it (tags, scores, journeys). */
  onRecorded?: () => void;
}

export interface ContentStats {
  views: number;
  /** Distinct visitor cookies (and contacts without one). */
  visitors: number;
  /** Views by a known contact: those on the timeline. */
  knownViews: number;
  /** Over the views whose page reported a read time; null before any did. */
  avgReadSeconds: number | null;
}

export interface ContentFileView {
  type: string;
  name: string | null;
  size: number;
  /** The public URL the page uses (`/c/<code>/file`). */
  url: string;
  uploadedAt: string;
}

export interface MaterialView {
  id: number;
  code: string;
  kind: ContentKind;
  status: ContentStatus;
  title: string;
  summary: string | null;
  /** An article's Markdown; only in `getMaterial` (the list leaves it out). */
  body?: string | null;
  file: ContentFileView | null;
  /** The tracked link without a channel; add `?ch=<channelId>` per channel. */
  url: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  stats: ContentStats;
  /** Only in `getMaterial`: the views per channel (`channelId` null: no or an unknown `ch`). */
  byChannel?: ({ channelId: number | null } & ContentStats)[];
}

/** A live material as a reader sees it outside the /c/<code> page (the mini-program's content page). */
export interface ReaderMaterialView {
  code: string;
  title: string;
  kind: ContentKind;
  summary: string | null;
  /** An article's body as HTML, rendered as the /c/<code> page renders it (escaped Markdown, images absolute); null for a file. */
  body: string | null;
  /** `/c/<code>/file` when the material has a file (an article's cover, the image, video or PDF), else null. */
  fileUrl: string | null;
}

export interface ContentIssue {
  path: string;
  code: string;
  message: string;
}

export type ContentResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'invalid'; issues: ContentIssue[] }
  | { ok: false; reason: 'file_type'; message: string };

export interface CreateMaterialParams {
  kind: ContentKind;
  title: string;
  summary?: string | null;
  body?: string | null;
  actor: AuditActor;
}

export interface UpdateMaterialParams {
  id: number;
  title?: string;
  summary?: string | null;
  body?: string | null;
  actor: AuditActor;
}

export interface ListMaterialsParams {
  status: ContentStatus | 'all';
  kind?: ContentKind;
  /** Keyset paging: the `next` of the previous page (the last id it listed). */
  after?: number;
  limit: number;
}

export interface UploadFileParams {
  id: number;
  source: Readable;
  fileName: string | null;
  actor: AuditActor;
}

/** What the file route serves. */
export interface ServedFile {
  key: string;
  type: string;
  size: number;
  sha256: string;
  uploadedAt: Date;
}

export interface RecordViewParams {
  code: string;
  /** `?ch=`, parsed (channelIdFromQuery); null when absent or malformed. */
  channelId: number | null;
  visitorId: string | null;
  /** The visitor, when the page knew them (the visitor hook). */
  contactId: number | null;
  /** `?ev=`: the event whose cloud exhibition the link was opened from (kept when the event exists). */
  eventId?: number | null;
  /** `?jr=`: the journey whose push carried the link (stamped at send, content-links.ts; kept when the journey exists). */
  journeyId?: number | null;
  /** The timeline's channel: the tracked link's page (`web`, default) or the mini-program (`mp`). */
  channel?: 'web' | 'mp';
}

export interface RecordedView {
  material: MaterialRow;
  viewKey: string;
}

export interface MaterialRow {
  id: number | string;
  code: string;
  kind: ContentKind;
  status: ContentStatus;
  title: string;
  summary: string | null;
  body: string | null;
  file_key: string | null;
  file_type: string | null;
  file_name: string | null;
  file_size: number | string | null;
  file_sha256: string | null;
  file_uploaded_at: unknown;
  created_at: unknown;
  updated_at: unknown;
  archived_at: unknown;
}

interface StatsRow {
  material_id: number | string;
  channel_id?: number | string | null;
  views: number | string;
  visitors: number | string;
  known_views: number | string | null;
  read_views: number | string | null;
  read_total: number | string | null;
}

const SELECT_MATERIAL =
  'SELECT id, code, kind, status, title, summary, body, file_key, file_type, file_name, file_size, file_sha256, file_uploaded_at, ' +
  'created_at, updated_at, archived_at FROM content_materials';
/** Visitors: distinct cookies, plus distinct contacts seen without one (the same SQL on both databases). */
const STATS_COLUMNS =
  'COUNT(*) AS views, COUNT(DISTINCT visitor_id) + COUNT(DISTINCT CASE WHEN visitor_id IS NULL THEN contact_id END) AS visitors, ' +
  'SUM(CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END) AS known_views, ' +
  'SUM(CASE WHEN read_seconds > 0 THEN 1 ELSE 0 END) AS read_views, SUM(read_seconds) AS read_total';

/**
 * The content centre (内容中心, issue 15 §1b): materials kept once and shared to every channel
 * through tracked links. Every admin change is audited in its transaction; a view through a link
 * is a `content_views` row, and for a known visitor a `content_view` interaction in the same
 * transaction.
 */
export class ContentService {
  constructor(private readonly deps: ContentServiceDeps) {}

  async createMaterial(params: CreateMaterialParams): Promise<ContentResult<MaterialView>> {
    const id = await this.deps.transactor.runRetrying(async (manager) => {
      const now = toSqlDate(this.deps.clock.now());
      const code = newCode();
      const inserted = await insertReturningId(
        manager,
        'INSERT INTO content_materials (code, kind, status, title, summary, body, created_by, created_at, updated_at) ' +
          "VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?)",
        [
          code,
          params.kind,
          params.title,
          emptyToNull(params.summary),
          params.kind === 'article' ? emptyToNull(params.body) : null,
          params.actor.operatorId,
          now,
          now,
        ],
      );
      await this.deps.audit.record({
        manager,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'content.create',
        targetType: 'content',
        targetId: inserted,
        detail: describeRecord({ contentKind: params.kind, title: params.title, bodyChars: params.body?.length ?? 0 }),
      });
      return inserted;
    });
    const view = await this.getMaterial(id);
    return view ? { ok: true, value: view } : { ok: false, reason: 'not_found' };
  }

  async listMaterials(p: ListMaterialsParams): Promise<{ items: MaterialView[]; next: number | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (p.status !== 'all') {
      where.push('status = ?');
      params.push(p.status);
    }
    if (p.kind) {
      where.push('kind = ?');
      params.push(p.kind);
    }
    if (p.after !== undefined) {
      where.push('id < ?');
      params.push(p.after);
    }
    // One more than asked: whether there is a next page, without counting.
    const rows = await this.deps.dataSource.query<MaterialRow[]>(
      `${SELECT_MATERIAL}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${p.limit + 1}`,
      params,
    );
    const page = rows.slice(0, p.limit);
    const stats = await this.statsOf(page.map((row) => Number(row.id)));
    return {
      items: page.map((row) => this.toView(row, stats.get(Number(row.id)) ?? EMPTY_STATS, false)),
      next: rows.length > p.limit && page.length > 0 ? Number(page[page.length - 1].id) : null,
    };
  }

  async getMaterial(id: number): Promise<MaterialView | null> {
    const rows = await this.deps.dataSource.query<MaterialRow[]>(`${SELECT_MATERIAL} WHERE id = ?`, [id]);
    const row = rows[0];
    if (!row) return null;
    const stats = await this.statsOf([id]);
    const perChannel = await this.deps.dataSource.query<StatsRow[]>(
      `SELECT material_id, channel_id, ${STATS_COLUMNS} FROM content_views WHERE material_id = ? GROUP BY material_id, channel_id ` +
        'ORDER BY views DESC, channel_id',
      [id],
    );
    return {
      ...this.toView(row, stats.get(id) ?? EMPTY_STATS, true),
      byChannel: perChannel.map((r) => ({ channelId: r.channel_id == null ? null : Number(r.channel_id), ...statsOfRow(r) })),
    };
  }

  async updateMaterial(params: UpdateMaterialParams): Promise<ContentResult<MaterialView>> {
    const result = await this.deps.transactor.runRetrying(async (manager): Promise<ContentResult<null>> => {
      const current = await this.locked(manager, params.id);
      if (!current) return { ok: false, reason: 'not_found' };
      if (params.body !== undefined && params.body !== null && current.kind !== 'article')
        return {
          ok: false,
          reason: 'invalid',
          issues: [{ path: 'body', code: 'content_body_article', message: 'Only an article has a body' }],
        };
      const before = { title: current.title, summary: current.summary, body: current.body };
      const after = {
        title: params.title ?? before.title,
        summary: params.summary === undefined ? before.summary : emptyToNull(params.summary),
        body: params.body === undefined ? before.body : emptyToNull(params.body),
      };
      await manager.query('UPDATE content_materials SET title = ?, summary = ?, body = ?, updated_at = ? WHERE id = ?', [
        after.title,
        after.summary,
        after.body,
        toSqlDate(this.deps.clock.now()),
        params.id,
      ]);
      // The body can be 60 KB: the log records its length and whether it changed, not its text.
      await this.deps.audit.record({
        manager,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'content.update',
        targetType: 'content',
        targetId: params.id,
        detail: describeChanges(
          { title: before.title, summary: before.summary, bodyChars: before.body?.length ?? 0, bodyEdited: false },
          { title: after.title, summary: after.summary, bodyChars: after.body?.length ?? 0, bodyEdited: after.body !== before.body },
        ),
      });
      return { ok: true, value: null };
    });
    if (!result.ok) return result;
    const view = await this.getMaterial(params.id);
    return view ? { ok: true, value: view } : { ok: false, reason: 'not_found' };
  }

  /** Archived materials leave the list and their links answer 404; their views stay counted. Twice is a no-op. */
  async archiveMaterial(p: { id: number; actor: AuditActor }): Promise<ContentResult<{ id: number }>> {
    return this.deps.transactor.run(async (manager): Promise<ContentResult<{ id: number }>> => {
      const current = await this.locked(manager, p.id);
      if (!current) return { ok: false, reason: 'not_found' };
      if (current.status === 'archived') return { ok: true, value: { id: p.id } };
      const now = toSqlDate(this.deps.clock.now());
      await manager.query("UPDATE content_materials SET status = 'archived', archived_at = ?, updated_at = ? WHERE id = ?", [
        now,
        now,
        p.id,
      ]);
      await this.deps.audit.record({
        manager,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'content.archive',
        targetType: 'content',
        targetId: p.id,
        detail: describeRecord({ title: current.title, contentKind: current.kind }),
      });
      return { ok: true, value: { id: p.id } };
    });
  }

  /**
   * The material's file (an article's cover), streamed to the store under a new key, its type
   * read from its first bytes and checked against the kind. The row then points at the new key
   * in a transaction with the audit entry; the old file is removed after the commit. A refused
   * or failed upload leaves the material as it was. FileTooLargeError passes through (a 413).
   */
  async uploadFile(p: UploadFileParams): Promise<ContentResult<MaterialView>> {
    const rows = await this.deps.dataSource.query<MaterialRow[]>(`${SELECT_MATERIAL} WHERE id = ?`, [p.id]);
    const material = rows[0];
    if (!material) {
      p.source.resume();
      return { ok: false, reason: 'not_found' };
    }
    const key = `materials/${p.id}/${randomBytes(12).toString('hex')}`;
    const stored = await this.deps.storage.put(key, p.source, { maxBytes: this.deps.maxUploadBytes });
    const sniffed = sniffFileType(stored.head);
    const accepted = ACCEPTED_TYPES[material.kind];
    if (stored.size === 0 || !sniffed || !accepted.includes(sniffed.mime)) {
      await this.deps.storage.remove(key).catch((error: unknown) => this.logRemoveFailure(key, error));
      return {
        ok: false,
        reason: 'file_type',
        message:
          stored.size === 0
            ? 'The file is empty'
            : `A ${material.kind} takes ${accepted.join(', ')}; this file is ${sniffed ? sniffed.mime : 'of no type it takes'}`,
      };
    }
    let previous: string | null = null;
    const result = await this.deps.transactor.run(async (manager): Promise<ContentResult<null>> => {
      const current = await this.locked(manager, p.id);
      if (!current) return { ok: false, reason: 'not_found' };
      previous = current.file_key;
      const now = toSqlDate(this.deps.clock.now());
      await manager.query(
        'UPDATE content_materials SET file_key = ?, file_type = ?, file_name = ?, file_size = ?, file_sha256 = ?, file_uploaded_at = ?, ' +
          'updated_at = ? WHERE id = ?',
        [key, sniffed.mime, p.fileName, stored.size, stored.sha256, now, now, p.id],
      );
      await this.deps.audit.record({
        manager,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'content.upload',
        targetType: 'content',
        targetId: p.id,
        detail: describeRecord({ name: p.fileName, size: stored.size, format: sniffed.extension.toUpperCase() }),
      });
      return { ok: true, value: null };
    });
    if (!result.ok) {
      await this.deps.storage.remove(key).catch((error: unknown) => this.logRemoveFailure(key, error));
      return result;
    }
    if (previous !== null) await this.deps.storage.remove(previous).catch((error: unknown) => this.logRemoveFailure(previous, error));
    const view = await this.getMaterial(p.id);
    return view ? { ok: true, value: view } : { ok: false, reason: 'not_found' };
  }

  /** The file behind a live link (`/c/<code>/file`), or null (unknown, archived, no file yet). */
  async findServedFile(code: string): Promise<ServedFile | null> {
    const material = await this.findLive(code);
    if (!material || !material.file_key || !material.file_type || material.file_sha256 === null) return null;
    return {
      key: material.file_key,
      type: material.file_type,
      size: Number(material.file_size),
      sha256: material.file_sha256,
      uploadedAt: fromSqlDate(material.file_uploaded_at),
    };
  }

  readFile(key: string, range?: { start: number; end: number }): Readable {
    return this.deps.storage.read(key, range);
  }

  /**
   * A page view through a link: its row (the stats), and for a known visitor the `content_view`
   * interaction with the material as its ref and the channel in its detail (the channel reaction
   * counts it as a touch of the channel and applies the channel's tags). An unknown or malformed
   * `ch` is left out, never an error. Null when the link is unknown or archived.
   */
  async recordView(p: RecordViewParams): Promise<RecordedView | null> {
    const material = await this.findLive(p.code);
    if (!material) return null;
    const viewKey = randomBytes(16).toString('base64url');
    const occurredAt = this.deps.clock.now();
    const recorded = await this.deps.transactor.runRetrying(async (manager) => {
      const channelId = p.channelId !== null && (await this.deps.channelExists(manager, p.channelId)) ? p.channelId : null;
      const eventId = p.eventId ? await existingEvent(manager, p.eventId) : null;
      const journeyId = p.journeyId ? await existingJourney(manager, p.journeyId) : null;
      const now = toSqlDate(occurredAt);
      await manager.query(
        'INSERT INTO content_views (view_key, material_id, channel_id, visitor_id, contact_id, read_seconds, viewed_at, updated_at) ' +
          'VALUES (?, ?, ?, ?, ?, 0, ?, ?)',
        [viewKey, Number(material.id), channelId, p.visitorId, p.contactId, now, now],
      );
      if (p.contactId === null) return false;
      const result = await this.deps.interactions.recordInteraction(manager, {
        type: CONTENT_VIEW_TYPE,
        channel: p.channel ?? 'web',
        occurredAt,
        identity: null,
        contactId: p.contactId,
        dedupeKey: `content:view:${viewKey}`,
        detail: {
          contentId: Number(material.id),
          title: material.title,
          kind: material.kind,
          ...(channelId !== null ? { channelId } : {}),
          // Opened from an event's cloud exhibition: the event is in the detail (the event_id
          // matcher reads it), while the ref stays the material, which the timeline and the
          // content centre's rules key on; an interaction has one ref.
          ...(eventId !== null ? { eventId } : {}),
          // Read from a journey's push: the journey in the detail, so its goal (or a rule) can
          // match "read what the journey sent" and the timeline says which journey it was.
          ...(journeyId !== null ? { journeyId } : {}),
        },
        ref: { type: 'content', id: String(material.id) },
      });
      return result.recorded;
    });
    if (recorded) this.deps.onRecorded?.();
    return { material, viewKey };
  }

  /**
   * The page's beacon: the view's read time, the latest report winning (a beacon repeated or
   * re-sent changes nothing more). Bounded by MAX_READ_SECONDS and by the time since the page was
   * served, so a forged beacon cannot claim an hour for a view a minute old.
   */
  async recordReadTime(p: { code: string; viewKey: string; seconds: number }): Promise<'recorded' | 'not_found'> {
    const rows = await this.deps.dataSource.query<{ id: number | string; viewed_at: unknown }[]>(
      'SELECT v.id, v.viewed_at FROM content_views v JOIN content_materials m ON m.id = v.material_id WHERE v.view_key = ? AND m.code = ?',
      [p.viewKey, p.code],
    );
    const view = rows[0];
    if (!view) return 'not_found';
    const now = this.deps.clock.now();
    const elapsed = Math.floor((now.getTime() - fromSqlDate(view.viewed_at).getTime()) / 1000) + READ_SLACK_SECONDS;
    const seconds = Math.max(0, Math.min(Math.floor(p.seconds), MAX_READ_SECONDS, elapsed));
    await this.deps.dataSource.query('UPDATE content_views SET read_seconds = ?, updated_at = ? WHERE id = ?', [
      seconds,
      toSqlDate(now),
      view.id,
    ]);
    return 'recorded';
  }

  /** A live material for a reader (no view is recorded: the reader reports its own); null when unknown or archived. */
  async readMaterial(code: string): Promise<ReaderMaterialView | null> {
    const material = await this.findLive(code);
    if (!material) return null;
    return {
      code: material.code,
      title: material.title,
      kind: material.kind,
      summary: material.summary,
      // The mini-program's <rich-text> has no origin to resolve an image's path against.
      body: material.kind === 'article' ? renderMarkdown(material.body ?? '', { siteUrl: this.deps.publicBaseUrl }) : null,
      fileUrl: material.file_key ? `/c/${material.code}/file` : null,
    };
  }

  /** Whether a link opens (a HEAD of the page asks this, and records no view). */
  async isLive(code: string): Promise<boolean> {
    return (await this.findLive(code)) !== null;
  }

  /** The tracked link of a material, for a channel or none, and for an event's cloud exhibition (`ev`). */
  linkOf(code: string, channelId?: number | null, eventId?: number | null): string {
    const query = [channelId ? `ch=${channelId}` : '', eventId ? `ev=${eventId}` : ''].filter((part) => part !== '').join('&');
    return `${this.deps.publicBaseUrl}/c/${code}${query ? `?${query}` : ''}`;
  }

  private async findLive(code: string): Promise<MaterialRow | null> {
    if (!/^[A-Za-z0-9_-]{1,16}$/.test(code)) return null;
    const rows = await this.deps.dataSource.query<MaterialRow[]>(`${SELECT_MATERIAL} WHERE code = ? AND status = 'active'`, [code]);
    // MariaDB's default collation compares case-insensitively: the code is checked as bytes here.
    return rows.find((row) => row.code === code) ?? null;
  }

  private async locked(manager: EntityManager, id: number): Promise<MaterialRow | null> {
    const lock = manager.connection.options.type === 'better-sqlite3' ? '' : ' FOR UPDATE';
    const rows = await manager.query<MaterialRow[]>(`${SELECT_MATERIAL} WHERE id = ?${lock}`, [id]);
    return rows[0] ?? null;
  }

  private async statsOf(ids: number[]): Promise<Map<number, ContentStats>> {
    if (ids.length === 0) return new Map();
    const rows = await this.deps.dataSource.query<StatsRow[]>(
      `SELECT material_id, ${STATS_COLUMNS} FROM content_views WHERE material_id IN (${placeholders(ids.length)}) GROUP BY material_id`,
      ids,
    );
    return new Map(rows.map((row) => [Number(row.material_id), statsOfRow(row)]));
  }

  private toView(row: MaterialRow, stats: ContentStats, withBody: boolean): MaterialView {
    return {
      id: Number(row.id),
      code: row.code,
      kind: row.kind,
      status: row.status,
      title: row.title,
      summary: row.summary,
      ...(withBody ? { body: row.body } : {}),
      file:
        row.file_key && row.file_type
          ? {
              type: row.file_type,
              name: row.file_name,
              size: Number(row.file_size),
              url: `/c/${row.code}/file`,
              uploadedAt: fromSqlDate(row.file_uploaded_at).toISOString(),
            }
          : null,
      url: this.linkOf(row.code),
      createdAt: fromSqlDate(row.created_at).toISOString(),
      updatedAt: fromSqlDate(row.updated_at).toISOString(),
      archivedAt: row.archived_at == null ? null : fromSqlDate(row.archived_at).toISOString(),
      stats,
    };
  }

  private logRemoveFailure(key: string | null, error: unknown): void {
    this.deps.logger.warn('content: the replaced file could not be removed', { key, error: String(error) });
  }
}

async function existingEvent(manager: EntityManager, eventId: number): Promise<number | null> {
  const rows = await manager.query<{ id: number | string }[]>('SELECT id FROM events WHERE id = ?', [eventId]);
  return rows.length > 0 ? eventId : null;
}

async function existingJourney(manager: EntityManager, journeyId: number): Promise<number | null> {
  const rows = await manager.query<{ id: number | string }[]>('SELECT id FROM journeys WHERE id = ?', [journeyId]);
  return rows.length > 0 ? journeyId : null;
}

const EMPTY_STATS: ContentStats = { views: 0, visitors: 0, knownViews: 0, avgReadSeconds: null };

function statsOfRow(row: StatsRow): ContentStats {
  const readViews = Number(row.read_views ?? 0);
  return {
    views: Number(row.views),
    visitors: Number(row.visitors),
    knownViews: Number(row.known_views ?? 0),
    avgReadSeconds: readViews > 0 ? Math.round(Number(row.read_total ?? 0) / readViews) : null,
  };
}

/** 9 random bytes: 12 base64url characters, 72 bits, not found by guessing. */
function newCode(): string {
  return randomBytes(9).toString('base64url');
}

function emptyToNull(text: string | null | undefined): string | null {
  return text === undefined || text === null || text.trim() === '' ? null : text;
}
