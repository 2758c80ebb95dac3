import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { CLOUD_SECTIONS, type CloudSection } from '../../../entities/event-cloud-item.entity';
import type { ContentKind } from '../../../entities/content-material.entity';
import type { Clock } from '../../adapters/clock';
import { isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { describeChanges, type AuditActor, type AuditService } from '../audit/audit.service';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import { businessDayOf } from '../scoring/score-rules.engine';
import type { AssignParams, AssignmentView } from '../sales/sales-assignment.service';
import type { EventsService } from './events.service';
import { refuse, type Refusal } from './exhibition-refusal';
import { normalizeChineseMobile } from './registration-form';
import type { RegistrationsService } from './registrations.service';

/**
 * The cloud exhibition (云展厅, issue 15 §4): what an event shows at /e/<event>/cloud to those who
 * could not come (materials, products and cases drawn from the content centre, each opened through
 * its tracked link so the view is counted and attributed to the event), its visits, and the online
 * consult (在线咨询) that hands the person to their rep in WeCom.
 */

export const CLOUD_VISIT_TYPE = 'event_cloud_visit';
export const CONSULT_TYPE = 'event_consult';
/** A consult's message, in characters (the page's counter says the same). */
export const CONSULT_MAX_CHARS = 500;
/** Items per section: a phone page, not a catalogue. */
export const CLOUD_MAX_PER_SECTION = 50;

export interface EventCloudServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  events: Pick<EventsService, 'readEvent'>;
  /** Its limits and its contact resolution (by phone, as a registration finds the person). */
  registrations: Pick<RegistrationsService, 'limitIp' | 'limitPhone' | 'contactFor'>;
  /** The tracked link of a material for a channel and an event (ContentService.linkOf). */
  linkOf: (code: string, channelId: number | null, eventId: number) => string;
  interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
  sales: { assignIn(manager: EntityManager, params: AssignParams): Promise<AssignmentView | null> };
  /** The business time zone: a known visitor's visit is one interaction per local day. */
  timezone: string;
  /** After an interaction is committed: the reactions run. (The rep's app message goes with the sales-notify job.) */
  onRecorded?: () => void;
}

export interface CloudItemInput {
  materialId: number;
  section: CloudSection;
}

/** An item as the admin panel lists it (an archived material stays listed, marked, until removed). */
export interface AdminCloudItem {
  materialId: number;
  section: CloudSection;
  position: number;
  title: string;
  kind: ContentKind;
  status: 'active' | 'archived';
}

export interface AdminCloudView {
  items: AdminCloudItem[];
  visitors: number;
  consults: number;
}

/** An item as the public page shows it: only live materials. */
export interface PublicCloudItem {
  /** The material's link code: the mini-program opens its own content page with it. */
  code: string;
  title: string;
  kind: ContentKind;
  summary: string | null;
  /** The material's own file when it is an image (an article's cover, an image material). */
  cover: string | null;
  /** The tracked link: opening it is a content view with the event (and the page's channel). */
  url: string;
}

export interface PublicCloudView {
  event: { id: number; name: string; startsAt: string; endsAt: string };
  sections: Record<CloudSection, PublicCloudItem[]>;
}

export type CloudResult<T> =
  { ok: true; value: T } | { ok: false; reason: 'not_found' } | { ok: false; reason: 'invalid'; issues: CloudIssue[] };

export interface CloudIssue {
  path: string;
  code: string;
  message: string;
}

export interface ConsultParams {
  eventId: number;
  message: unknown;
  phone: unknown;
  name: unknown;
  /** The web OAuth visitor's contact, when the page knew them. */
  contactId: number | null;
  channelId: number | null;
  ip: string | null;
  /** The timeline's channel: the H5 page (`web`, default) or the mini-program (`mp`). */
  channel?: 'web' | 'mp';
}

interface ItemRow {
  material_id: number | string;
  section: CloudSection;
  position: number | string;
  code: string;
  kind: ContentKind;
  status: 'active' | 'archived';
  title: string;
  summary: string | null;
  file_key: string | null;
  file_type: string | null;
}

export class EventCloudService {
  constructor(private readonly deps: EventCloudServiceDeps) {}

  /** The admin panel's list, with the page's visitors and consults; null for an unknown event. */
  async getCloud(eventId: number): Promise<AdminCloudView | null> {
    const event = await this.deps.events.readEvent(this.deps.dataSource.manager, eventId);
    if (!event) return null;
    const rows = await this.readItems(this.deps.dataSource.manager, eventId, false);
    const [counts] = await this.deps.dataSource.query<{ visitors: number | string | null; consults: number | string | null }[]>(
      'SELECT (SELECT COUNT(*) FROM event_cloud_visits WHERE event_id = ?) AS visitors, ' +
        "(SELECT COUNT(*) FROM interactions WHERE ref_type = 'event' AND ref_id = ? AND type = ?) AS consults",
      [eventId, String(eventId), CONSULT_TYPE],
    );
    return {
      items: rows.map((row) => ({
        materialId: Number(row.material_id),
        section: row.section,
        position: Number(row.position),
        title: row.title,
        kind: row.kind,
        status: row.status,
      })),
      visitors: Number(counts?.visitors ?? 0),
      consults: Number(counts?.consults ?? 0),
    };
  }

  /**
   * Replaces the event's whole list (the panel saves what it shows), positions in the order given
   * per section. Every material must exist and be active; a material twice is refused. Audited as
   * `event.cloud_update` with the lists before and after.
   */
  async replaceCloud(p: { eventId: number; items: CloudItemInput[]; actor: AuditActor }): Promise<CloudResult<AdminCloudView>> {
    const issues: CloudIssue[] = [];
    const seen = new Set<number>();
    p.items.forEach((item, i) => {
      if (seen.has(item.materialId))
        issues.push({ path: `items.${i}.materialId`, code: 'cloud_material_twice', message: 'A material is shown once per event' });
      seen.add(item.materialId);
    });
    for (const section of CLOUD_SECTIONS)
      if (p.items.filter((item) => item.section === section).length > CLOUD_MAX_PER_SECTION)
        issues.push({ path: 'items', code: 'cloud_section_size', message: `At most ${CLOUD_MAX_PER_SECTION} items in ${section}` });
    if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
    const result = await this.deps.transactor.runRetrying(async (m): Promise<CloudResult<null>> => {
      const event = await this.deps.events.readEvent(m, p.eventId, { lock: true });
      if (!event) return { ok: false, reason: 'not_found' };
      const ids = [...seen];
      const live = new Set<number>();
      if (ids.length > 0) {
        const found = await m.query<{ id: number | string }[]>(
          `SELECT id FROM content_materials WHERE status = 'active' AND id IN (${placeholders(ids.length)})`,
          ids,
        );
        for (const row of found) live.add(Number(row.id));
      }
      const unknown = p.items
        .map((item, i) => ({ item, i }))
        .filter(({ item }) => !live.has(item.materialId))
        .map(({ item, i }) => ({
          path: `items.${i}.materialId`,
          code: 'cloud_material_unknown',
          message: `No active material ${item.materialId} in the content centre`,
        }));
      if (unknown.length > 0) return { ok: false, reason: 'invalid', issues: unknown };
      const before = await this.readItems(m, p.eventId, false);
      await m.query('DELETE FROM event_cloud_items WHERE event_id = ?', [p.eventId]);
      const positions: Record<CloudSection, number> = { materials: 0, products: 0, cases: 0 };
      const rows = p.items.map((item) => [p.eventId, item.materialId, item.section, positions[item.section]++]);
      if (rows.length > 0)
        await m.query(
          `INSERT INTO event_cloud_items (event_id, material_id, section, position) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}`,
          rows.flat(),
        );
      const listed = (items: { section: CloudSection; materialId: number }[]) =>
        Object.fromEntries(
          CLOUD_SECTIONS.map((s) => [
            s,
            items
              .filter((i) => i.section === s)
              .map((i) => i.materialId)
              .join(','),
          ]),
        );
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'event.cloud_update',
        targetType: 'event',
        targetId: p.eventId,
        detail: describeChanges(listed(before.map((r) => ({ section: r.section, materialId: Number(r.material_id) }))), listed(p.items)),
      });
      return { ok: true, value: null };
    });
    if (!result.ok) return result;
    const view = await this.getCloud(p.eventId);
    return view ? { ok: true, value: view } : { ok: false, reason: 'not_found' };
  }

  /**
   * GET /api/events/:eventId/cloud: the event and its live items per section, each with its
   * tracked link carrying the page's channel (`ch`) and the event (`ev`), so opening it is a
   * content view attributed to both. Null for an unknown event.
   */
  async publicCloud(eventId: number, channelId: number | null): Promise<PublicCloudView | null> {
    const event = await this.deps.events.readEvent(this.deps.dataSource.manager, eventId);
    if (!event) return null;
    const sections: Record<CloudSection, PublicCloudItem[]> = { materials: [], products: [], cases: [] };
    for (const row of await this.readItems(this.deps.dataSource.manager, eventId, true))
      sections[row.section].push({
        code: row.code,
        title: row.title,
        kind: row.kind,
        summary: row.summary,
        cover: row.file_key && row.file_type?.startsWith('image/') ? `/c/${row.code}/file` : null,
        url: this.deps.linkOf(row.code, channelId, eventId),
      });
    return {
      event: { id: event.id, name: event.name, startsAt: event.startsAt.toISOString(), endsAt: event.endsAt.toISOString() },
      sections,
    };
  }

  /**
   * A visit of the cloud page, once per visitor (the page's random id), as the invitation's
   * visits are counted. A known visitor's visit is also an `event_cloud_visit` interaction, once
   * per contact, event and local day (its dedupe key), so a day's reloads are one sign of life.
   * False when there is no such event.
   */
  async recordVisit(p: {
    eventId: number;
    visitorId: string;
    channelId: number | null;
    contactId: number | null;
    /** The timeline's channel: the H5 page (`web`, default) or the mini-program (`mp`). */
    channel?: 'web' | 'mp';
  }): Promise<boolean> {
    const [exists] = await this.deps.dataSource.query<{ id: number }[]>('SELECT id FROM events WHERE id = ?', [p.eventId]);
    if (!exists) return false;
    const now = this.deps.clock.now();
    const recorded = await this.deps.transactor.runRetrying(async (m) => {
      const conflict = isMysqlManager(m)
        ? 'ON DUPLICATE KEY UPDATE contact_id = COALESCE(contact_id, VALUES(contact_id))'
        : 'ON CONFLICT (event_id, visitor_id) DO UPDATE SET contact_id = COALESCE(contact_id, excluded.contact_id)';
      await m.query(
        `INSERT INTO event_cloud_visits (event_id, visitor_id, channel_id, contact_id, first_at) VALUES (?, ?, ?, ?, ?) ${conflict}`,
        [p.eventId, p.visitorId, p.channelId, p.contactId, toSqlDate(now)],
      );
      if (p.contactId === null) return false;
      const day = businessDayOf(now, this.deps.timezone);
      const result = await this.deps.interactions.recordInteraction(m, {
        type: CLOUD_VISIT_TYPE,
        channel: p.channel ?? 'web',
        occurredAt: now,
        detail: { eventId: p.eventId, ...(p.channelId === null ? {} : { channelId: p.channelId }) },
        identity: null,
        contactId: p.contactId,
        dedupeKey: `event:${p.eventId}:cloud_visit:${p.contactId}:${day}`,
        ref: { type: 'event', id: String(p.eventId) },
      });
      return result.recorded;
    });
    if (recorded) this.deps.onRecorded?.();
    return true;
  }

  /**
   * POST /api/events/:eventId/consults: limited per IP, then (for a phone) per phone, like a
   * registration. The person is the web OAuth visitor when the page knew them, else found or
   * created by the phone as a registration finds them. In one transaction: the `event_consult`
   * interaction (the message in its detail) and the hand-over to a rep (reason `consult:<event>`,
   * a key per consult), whose WeCom app message names the event and quotes the message.
   */
  async consult(p: ConsultParams): Promise<{ ok: true; value: { consultId: string; assigned: boolean } } | Refusal> {
    const ipLimited = await this.deps.registrations.limitIp(p.ip);
    if (ipLimited) return ipLimited;
    const event = await this.deps.events.readEvent(this.deps.dataSource.manager, p.eventId);
    if (!event) return refuse('event_not_found', 'No such event');
    const fields: Record<string, string> = {};
    const message = typeof p.message === 'string' ? p.message.trim() : '';
    if (message === '') fields.message = '请填写咨询内容';
    else if ([...message].length > CONSULT_MAX_CHARS) fields.message = `咨询内容最多${CONSULT_MAX_CHARS}个字`;
    const name = typeof p.name === 'string' && p.name.trim() !== '' ? p.name.trim().slice(0, 64) : null;
    const typedPhone = typeof p.phone === 'string' && p.phone.trim() !== '' ? p.phone : null;
    const phone = typedPhone === null ? null : normalizeChineseMobile(typedPhone);
    // Known through OAuth, the phone is optional; a phone given must still be a phone.
    if ((p.contactId === null && phone === null) || (typedPhone !== null && phone === null)) fields.phone = '请填写正确的手机号';
    if (Object.keys(fields).length > 0) return refuse('validation_failed', 'Some answers are not valid', { fields });
    if (phone !== null) {
      const phoneLimited = await this.deps.registrations.limitPhone(phone);
      if (phoneLimited) return phoneLimited;
    }
    const consultId = randomBytes(12).toString('base64url');
    const now = this.deps.clock.now();
    const assigned = await this.deps.transactor.runRetrying(async (m) => {
      const contactId = p.contactId ?? (await this.deps.registrations.contactFor(m, { phone: phone as string, name, identity: null }));
      await this.deps.interactions.recordInteraction(m, {
        type: CONSULT_TYPE,
        channel: p.channel ?? 'web',
        occurredAt: now,
        detail: {
          eventId: event.id,
          message,
          ...(name === null ? {} : { name }),
          ...(phone === null ? {} : { phone }),
          ...(p.channelId === null ? {} : { channelId: p.channelId }),
        },
        identity: null,
        contactId,
        dedupeKey: `event:${event.id}:consult:${consultId}`,
        ref: { type: 'event', id: String(event.id) },
      });
      const assignment = await this.deps.sales.assignIn(m, {
        contactId,
        reason: `consult:${event.id}`,
        dedupeKey: `consult:${event.id}:${consultId}`,
        note: `在活动「${event.name}」在线咨询：${message}`,
      });
      return assignment !== null;
    });
    this.deps.onRecorded?.();
    return { ok: true, value: { consultId, assigned } };
  }

  /** The event's items in page order (section, then position), with their materials; `live`: active ones only. */
  private async readItems(m: EntityManager, eventId: number, live: boolean): Promise<ItemRow[]> {
    const rows = await m.query<ItemRow[]>(
      'SELECT i.material_id, i.section, i.position, c.code, c.kind, c.status, c.title, c.summary, c.file_key, c.file_type ' +
        `FROM event_cloud_items i JOIN content_materials c ON c.id = i.material_id WHERE i.event_id = ?${live ? " AND c.status = 'active'" : ''} ` +
        'ORDER BY i.position, i.material_id',
      [eventId],
    );
    const order = (section: CloudSection) => CLOUD_SECTIONS.indexOf(section);
    return rows.sort((a, b) => order(a.section) - order(b.section) || Number(a.position) - Number(b.position));
  }
}
