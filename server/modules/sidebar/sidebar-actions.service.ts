import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { LifecycleStage } from '../../../entities/contact.entity';
import type { Clock } from '../../adapters/clock';
import { fromSqlDate, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { AuditActor, AuditService } from '../audit/audit.service';
import type { ContentService } from '../content/content.service';
import type { EventFollowupsService } from '../exhibitions/event-followups.service';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import type { LifecycleService } from '../lifecycle/lifecycle.service';
import type { ContactTagView, ManualTaggingService } from '../tags/manual-tagging.service';
import { scopeOf, type SidebarReader, type SidebarResult, type SidebarService } from './sidebar.service';

/** A rep's note on the customer, in characters (the route checks it; the timeline shows it whole). */
export const SIDEBAR_NOTE_MAX_CHARS = 1000;

/**
 * A payload for the JS-SDK's sendChatMessage, as WeCom takes it
 * (https://developer.work.weixin.qq.com/document/path/94354): news, text or miniprogram.
 */
export type ChatMessage =
  | { msgtype: 'news'; news: { link: string; title: string; desc: string; imgUrl: string } }
  | { msgtype: 'text'; text: { content: string } }
  | { msgtype: 'miniprogram'; miniprogram: { appid: string; title: string; imgUrl: string; page: string } };

export interface ShareItem {
  kind: 'card' | 'invitation' | 'material';
  /** The event invited to (invitations only). */
  eventId: number | null;
  /** The content centre's material (materials only). */
  materialId?: number;
  title: string;
  message: ChatMessage;
}

export interface SidebarActionsDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  sidebar: SidebarService;
  manualTagging: ManualTaggingService;
  lifecycle: LifecycleService;
  followups: EventFollowupsService;
  /** The content centre: its live materials are shared as their tracked links. */
  content: Pick<ContentService, 'listMaterials' | 'getMaterial' | 'linkOf'>;
  interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
  /** Absolute links in what a rep sends start here (PUBLIC_BASE_URL). */
  publicBaseUrl: string;
  /** The mini-program whose card page a rep's card opens; null sends the card as text. */
  miniProgramAppId: string | null;
  /** After an interaction is recorded: its reactions run. */
  onRecorded?: () => void;
}

/** Open and upcoming events offered as invitations. */
const INVITATIONS = 10;
/** The newest live materials offered (the content centre's list, first page). */
const MATERIALS = 20;

export type TagChangeResult = SidebarResult<ContactTagView[]> | { ok: false; reason: 'unknown_tags'; tagIds: number[] };
export type ShareResult =
  SidebarResult<{ recorded: true }> | { ok: false; reason: 'event_not_found' } | { ok: false; reason: 'material_not_found' };

/**
 * What a rep does from the WeCom sidebar (issue 16 §4), each scoped like the read (a sales rep
 * only on customers they follow) and audited as `sidebar.*`, through the services the admin page
 * uses: tags (synced to WeCom and the Official Account by ContactTagsService), the stage
 * (LifecycleService), event follow-ups (EventFollowupsService); a note and a share are
 * interactions (`sales_note`, `sidebar_share`) so they appear on the timeline.
 */
export class SidebarActionsService {
  constructor(private readonly deps: SidebarActionsDeps) {}

  async changeTags(p: {
    contactId: number;
    add: number[];
    remove: number[];
    reader: SidebarReader;
    actor: AuditActor;
  }): Promise<TagChangeResult> {
    const access = await this.deps.sidebar.checkAccess(p.contactId, p.reader);
    if (!access.ok) return access;
    const result = await this.deps.manualTagging.setContactTags({
      contactId: access.value,
      scope: scopeOf(p.reader),
      add: p.add,
      remove: p.remove,
      actor: p.actor,
      auditAction: 'sidebar.tags',
    });
    if (result.ok) return result;
    // A follow removed between the check and the change reads as not theirs any more.
    return result.reason === 'not_found' ? { ok: false, reason: 'not_your_customer' } : result;
  }

  async setStage(p: {
    contactId: number;
    stage: LifecycleStage;
    reader: SidebarReader;
    actor: AuditActor;
  }): Promise<SidebarResult<{ stage: LifecycleStage; changed: boolean }>> {
    const access = await this.deps.sidebar.checkAccess(p.contactId, p.reader);
    if (!access.ok) return access;
    const moved = await this.deps.lifecycle.setStage({
      contactId: access.value,
      stage: p.stage,
      by: { kind: 'operator', id: p.actor.operatorId, ip: p.actor.ip },
      auditAction: 'sidebar.set_stage',
    });
    if (!moved.ok) return { ok: false, reason: 'contact_unknown' };
    return { ok: true, value: { stage: moved.to, changed: moved.changed } };
  }

  /** The note is an interaction (`sales_note`, channel wecom): stored once, on the timeline with the rep's name. */
  async addNote(p: {
    contactId: number;
    text: string;
    reader: SidebarReader;
    actor: AuditActor;
  }): Promise<SidebarResult<{ recorded: true }>> {
    const access = await this.deps.sidebar.checkAccess(p.contactId, p.reader);
    if (!access.ok) return access;
    const operatorName = await this.operatorName(p.reader.operatorId);
    await this.deps.transactor.runRetrying(async (m) => {
      await this.deps.interactions.recordInteraction(m, {
        type: 'sales_note',
        channel: 'wecom',
        direction: 'out',
        occurredAt: this.deps.clock.now(),
        detail: { text: p.text, operatorId: p.reader.operatorId, operatorName },
        identity: null,
        contactId: access.value,
        // Each note is its own fact: a note typed twice is two notes.
        dedupeKey: `sidebar:note:${p.reader.operatorId}:${randomUUID()}`,
      });
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'sidebar.note',
        targetType: 'contact',
        targetId: access.value,
        detail: { bodyChars: [...p.text].length },
      });
    });
    this.deps.onRecorded?.();
    return { ok: true, value: { recorded: true } };
  }

  /**
   * Closes an event follow-up: a sales rep's own, or one of a customer they follow (the event's
   * rep may be away); admins and marketers any. 404 for no such open follow-up.
   */
  async completeFollowUp(p: {
    followUpId: number;
    reader: SidebarReader;
    actor: AuditActor;
  }): Promise<SidebarResult<{ state: 'done'; doneAt: string }>> {
    const [row] = await this.deps.dataSource.query<
      { event_id: number | string; contact_id: number | string; operator_id: number | string | null }[]
    >('SELECT event_id, contact_id, operator_id FROM event_followups WHERE id = ?', [p.followUpId]);
    if (!row) return { ok: false, reason: 'followup_not_found' };
    const own = row.operator_id !== null && Number(row.operator_id) === p.reader.operatorId;
    if (!own) {
      const access = await this.deps.sidebar.checkAccess(Number(row.contact_id), p.reader);
      if (!access.ok) return access;
    }
    const done = await this.deps.followups.done({
      eventId: Number(row.event_id),
      contactId: Number(row.contact_id),
      scope: { kind: 'all' },
      actor: p.actor,
      auditAction: 'sidebar.followup_done',
    });
    return done.ok ? done : { ok: false, reason: 'followup_not_found' };
  }

  /**
   * What the rep can send into the chat, each a ready sendChatMessage payload: their business card
   * and the open or upcoming events' invitations (`/e/<eventId>`, with the event's h5 channel when
   * it has one, so the registrations count for it).
   *
   * The card is a mini-program card (`pages/card/index.html?rep=<operatorId>`: WeCom refuses a
   * `page` not ending in `.html`) when a mini-program is configured: it opens the rep's page inside
   * WeChat. Without one it is text (the rep's name and WeCom userid): operators keep no phone or
   * title, and a news link would need a public card page Flywheel does not have.
   */
  async listShareItems(p: { contactId: number; reader: SidebarReader }): Promise<SidebarResult<ShareItem[]>> {
    const access = await this.deps.sidebar.checkAccess(p.contactId, p.reader);
    if (!access.ok) return access;
    return { ok: true, value: [await this.cardOf(p.reader), ...(await this.invitations()), ...(await this.materials())] };
  }

  /** Records a share after the chat send succeeded: a `sidebar_share` interaction and an audit row. */
  async recordShare(p: {
    contactId: number;
    kind: 'card' | 'invitation' | 'material';
    eventId?: number;
    materialId?: number;
    reader: SidebarReader;
    actor: AuditActor;
  }): Promise<ShareResult> {
    const access = await this.deps.sidebar.checkAccess(p.contactId, p.reader);
    if (!access.ok) return access;
    let title: string;
    let link: string | null = null;
    if (p.kind === 'invitation') {
      const invitation = p.eventId === undefined ? undefined : (await this.invitations(p.eventId))[0];
      if (!invitation || invitation.message.msgtype !== 'news') return { ok: false, reason: 'event_not_found' };
      title = invitation.title;
      link = invitation.message.news.link;
    } else if (p.kind === 'material') {
      const material = p.materialId === undefined ? null : await this.deps.content.getMaterial(p.materialId);
      if (!material || material.status !== 'active') return { ok: false, reason: 'material_not_found' };
      title = material.title;
      link = this.deps.content.linkOf(material.code);
    } else title = (await this.cardOf(p.reader)).title;
    const ref =
      p.eventId !== undefined
        ? { type: 'event', id: String(p.eventId) }
        : p.materialId !== undefined
          ? { type: 'content', id: String(p.materialId) }
          : null;
    await this.deps.transactor.runRetrying(async (m) => {
      await this.deps.interactions.recordInteraction(m, {
        type: 'sidebar_share',
        channel: 'wecom',
        direction: 'out',
        occurredAt: this.deps.clock.now(),
        detail: {
          kind: p.kind,
          title,
          operatorId: p.reader.operatorId,
          ...(p.eventId === undefined ? {} : { eventId: p.eventId }),
          ...(p.materialId === undefined ? {} : { contentId: p.materialId }),
          ...(link ? { link } : {}),
        },
        identity: null,
        contactId: access.value,
        dedupeKey: `sidebar:share:${p.reader.operatorId}:${randomUUID()}`,
        ref,
      });
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'sidebar.share',
        targetType: 'contact',
        targetId: access.value,
        detail: {
          kind: p.kind,
          title,
          ...(p.eventId === undefined ? {} : { eventId: p.eventId }),
          ...(p.materialId === undefined ? {} : { contentId: p.materialId }),
        },
      });
    });
    this.deps.onRecorded?.();
    return { ok: true, value: { recorded: true } };
  }

  private async cardOf(reader: SidebarReader): Promise<ShareItem> {
    const name = await this.operatorName(reader.operatorId);
    const title = `${name}的名片`;
    const base = this.deps.publicBaseUrl;
    if (this.deps.miniProgramAppId)
      return {
        kind: 'card',
        eventId: null,
        title,
        message: {
          msgtype: 'miniprogram',
          miniprogram: {
            appid: this.deps.miniProgramAppId,
            title,
            imgUrl: `${base}/sidebar/share-card.png`,
            page: `pages/card/index.html?rep=${reader.operatorId}`,
          },
        },
      };
    const contact = reader.wecomUserId ? `\n企业微信：${reader.wecomUserId}` : '';
    return { kind: 'card', eventId: null, title, message: { msgtype: 'text', text: { content: `${name}${contact}` } } };
  }

  /** Events not yet ended, soonest first (or the one asked for), each with its h5 channel if it has one. */
  private async invitations(eventId?: number): Promise<ShareItem[]> {
    const now = this.deps.clock.now();
    const rows = await this.deps.dataSource.query<
      { id: number | string; name: string; starts_at: unknown; venue: unknown; channel_id: number | string | null }[]
    >(
      'SELECT e.id, e.name, e.starts_at, e.venue, ' +
        "(SELECT MIN(c.id) FROM channels c WHERE c.event_id = e.id AND c.kind = 'h5' AND c.status = 'active') AS channel_id " +
        `FROM events e WHERE e.ends_at > ?${eventId === undefined ? '' : ' AND e.id = ?'} ORDER BY e.starts_at, e.id LIMIT ${INVITATIONS}`,
      eventId === undefined ? [toSqlDate(now)] : [toSqlDate(now), eventId],
    );
    const base = this.deps.publicBaseUrl;
    return rows.map((row) => {
      const id = Number(row.id);
      const startsAt = fromSqlDate(row.starts_at);
      const venue = parseVenue(row.venue);
      const link = `${base}/e/${id}${row.channel_id === null ? '' : `?ch=${Number(row.channel_id)}`}`;
      return {
        kind: 'invitation',
        eventId: id,
        title: row.name,
        message: {
          msgtype: 'news',
          news: {
            link,
            title: `邀请您参加：${row.name}`,
            desc: [formatShanghai(startsAt), venue].filter(Boolean).join(' · '),
            imgUrl: `${base}/sidebar/share-event.png`,
          },
        },
      };
    });
  }

  /**
   * The content centre's live materials, newest first, as news cards with their tracked link
   * (`/c/<code>`): a customer who opens one in WeChat is known to the page (web OAuth), so the view
   * is a `content_view` on their timeline. The cover is the material's own image when it has one,
   * else the invitations' cover.
   */
  private async materials(): Promise<ShareItem[]> {
    const { items } = await this.deps.content.listMaterials({ status: 'active', limit: MATERIALS });
    const base = this.deps.publicBaseUrl;
    return items.map((material) => ({
      kind: 'material',
      eventId: null,
      materialId: material.id,
      title: material.title,
      message: {
        msgtype: 'news',
        news: {
          link: this.deps.content.linkOf(material.code),
          title: material.title,
          desc: material.summary ?? '',
          imgUrl: material.file?.type.startsWith('image/') ? `${base}${material.file.url}` : `${base}/sidebar/share-event.png`,
        },
      },
    }));
  }

  private async operatorName(operatorId: number): Promise<string> {
    const [row] = await this.deps.dataSource.query<{ username: string; display_name: string | null }[]>(
      'SELECT username, display_name FROM operators WHERE id = ?',
      [operatorId],
    );
    return row?.display_name || row?.username || `#${operatorId}`;
  }
}

/** The venue's name, else its address; `venue` is JSON (a string on SQLite, parsed on MariaDB). */
function parseVenue(raw: unknown): string {
  let venue: unknown = raw;
  if (typeof raw === 'string') {
    try {
      venue = JSON.parse(raw) as unknown;
    } catch {
      return '';
    }
  }
  if (typeof venue !== 'object' || venue === null) return '';
  const { name, address } = venue as { name?: unknown; address?: unknown };
  return typeof name === 'string' && name !== '' ? name : typeof address === 'string' ? address : '';
}

/** "2026-12-20 14:00" in Beijing time (no daylight saving: a fixed +8 h), as the invitation page shows it. */
function formatShanghai(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
}
