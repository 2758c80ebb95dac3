import type { DataSource, EntityManager } from 'typeorm';
import type { EventAgendaItem, EventBenefit, EventFacts, EventField, EventVenue } from '../../../entities/event.entity';
import type { Clock } from '../../adapters/clock';
import { executeCountingRows, fromSqlDate, insertReturningId, isMysqlManager, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { maskPhone } from '../contacts/contacts-query.service';
import { describeChanges, describeRecord, type AuditActor, type AuditService } from '../audit/audit.service';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import { getUtcOffsetMinutes } from '../reports/business-day';
import { withRequiredFields } from './registration-form';

/**
 * Exhibition events (issue 15 §2): created and edited by operators (audited), read by the public
 * invitation page, visited. Registrations and check-ins are registrations.service.ts and
 * checkins.service.ts.
 */

export interface EventsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  /** A known visitor's visit is an `event_visit` interaction; absent, visits are only counted. */
  visits?: {
    interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
    /** The business time zone: a known visitor's visits count once per event per day of it. */
    timeZone: string;
    /** After an interaction is committed: the reactions run. */
    onRecorded?: () => void;
  };
}

export interface EventInput {
  name: string;
  venue: EventVenue;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
  registrationDeadline: Date;
  fields: EventField[];
  benefit: EventBenefit | null;
  agenda: EventAgendaItem[];
  facts: EventFacts;
  smsVerification: boolean;
  waitlist: boolean;
  /**
   * Paid tickets (issue 15 §7): the price in fen, null for a free event. A paid event's
   * registration is `unpaid` until its WeChat Pay order is paid (registrations.service.ts).
   */
  ticketPriceFen: number | null;
}

export type EventStatus = 'open' | 'full' | 'closed' | 'ended';

export interface EventView {
  id: number;
  name: string;
  venue: EventVenue;
  startsAt: string;
  endsAt: string;
  registrationDeadline: string;
  capacity: number;
  registered: number;
  status: EventStatus;
  fields: EventField[];
  agenda: EventAgendaItem[];
  benefit: EventBenefit | null;
  facts: EventFacts;
  smsVerification: boolean;
  waitlist: boolean;
  ticketPriceFen: number | null;
}

export interface AdminEventView extends EventView {
  waitlisted: number;
  checkedIn: number;
  createdAt: string;
  updatedAt: string;
}

export interface RegistrationView {
  id: number;
  contactId: number;
  name: string;
  phone: string;
  answers: Record<string, string | number>;
  status: 'registered' | 'waitlisted' | 'unpaid' | 'cancelled';
  source: string;
  channelId: number | null;
  /** The channel's name (null: none, or it was deleted). */
  channelName: string | null;
  checkedIn: { gate: string; at: string } | null;
  createdAt: string;
  cancelledAt: string | null;
}

/** The registrations list's filter: the row's status, with `checked_in` apart from `registered`. */
export const REGISTRATION_LIST_STATUSES = ['registered', 'waitlisted', 'unpaid', 'cancelled', 'checked_in'] as const;
export type RegistrationListStatus = (typeof REGISTRATION_LIST_STATUSES)[number];

export type EventResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'capacity_below_registered'; registered: number }
  | { ok: false; reason: 'price_locked'; registrations: number };

/** The event as the services read it (one row, parsed). */
export interface EventRecord extends EventInput {
  id: number;
  registered: number;
  createdAt: Date;
  updatedAt: Date;
}

const EVENT_COLUMNS =
  'id, name, venue, starts_at, ends_at, capacity, registered, registration_deadline, fields, benefit, agenda, facts, ' +
  'sms_verification, waitlist, ticket_price_fen, created_at, updated_at';

export class EventsService {
  constructor(private readonly deps: EventsServiceDeps) {}

  async createEvent(
    p: Omit<EventInput, 'ticketPriceFen'> & { ticketPriceFen?: number | null; actor: AuditActor },
  ): Promise<{ id: number }> {
    const fields = withRequiredFields(p.fields);
    const ticketPriceFen = p.ticketPriceFen ?? null;
    return this.deps.transactor.run(async (m) => {
      const now = toSqlDate(this.deps.clock.now());
      const id = await insertReturningId(
        m,
        'INSERT INTO events (name, venue, starts_at, ends_at, capacity, registered, registration_deadline, fields, benefit, agenda, facts, ' +
          'sms_verification, waitlist, ticket_price_fen, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          p.name,
          JSON.stringify(p.venue),
          toSqlDate(p.startsAt),
          toSqlDate(p.endsAt),
          p.capacity,
          toSqlDate(p.registrationDeadline),
          JSON.stringify(fields),
          p.benefit ? JSON.stringify(p.benefit) : null,
          JSON.stringify(p.agenda),
          JSON.stringify(p.facts),
          p.smsVerification ? 1 : 0,
          p.waitlist ? 1 : 0,
          ticketPriceFen,
          p.actor.operatorId,
          now,
          now,
        ],
      );
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'event.create',
        targetType: 'event',
        targetId: id,
        detail: describeRecord({
          name: p.name,
          startsAt: p.startsAt.toISOString(),
          capacity: p.capacity,
          registrationDeadline: p.registrationDeadline.toISOString(),
          // The form's fields as the operator named them (the audit screen shows them as they are).
          fields: fields.map((f) => f.label),
          smsVerification: p.smsVerification,
          waitlist: p.waitlist,
          ticketPriceFen,
        }),
      });
      return { id };
    });
  }

  /**
   * An operator's edit. Capacity may not go below the seats already taken (those people hold
   * tickets); it may grow, and the waitlist is not promoted by it (a cancellation promotes).
   */
  async updateEvent(p: { id: number; patch: Partial<EventInput>; actor: AuditActor }): Promise<EventResult<AdminEventView>> {
    const result = await this.deps.transactor.run(async (m): Promise<EventResult<null>> => {
      const current = await this.readEvent(m, p.id, { lock: true });
      if (!current) return { ok: false, reason: 'not_found' };
      const next: EventInput = { ...current, ...p.patch };
      if (p.patch.fields) next.fields = withRequiredFields(p.patch.fields);
      if (next.capacity < current.registered) return { ok: false, reason: 'capacity_below_registered', registered: current.registered };
      // A price is a promise to the people registered at it: changed under them, an unpaid one
      // would pay another amount (or nothing), a waitlisted one be promoted without paying.
      if ((next.ticketPriceFen ?? null) !== (current.ticketPriceFen ?? null)) {
        const [held] = await m.query<{ n: number | string }[]>(
          "SELECT COUNT(*) AS n FROM event_registrations WHERE event_id = ? AND status <> 'cancelled'",
          [p.id],
        );
        if (Number(held?.n ?? 0) > 0) return { ok: false, reason: 'price_locked', registrations: Number(held?.n) };
      }
      await m.query(
        'UPDATE events SET name = ?, venue = ?, starts_at = ?, ends_at = ?, capacity = ?, registration_deadline = ?, fields = ?, benefit = ?, ' +
          'agenda = ?, facts = ?, sms_verification = ?, waitlist = ?, ticket_price_fen = ?, updated_at = ? WHERE id = ?',
        [
          next.name,
          JSON.stringify(next.venue),
          toSqlDate(next.startsAt),
          toSqlDate(next.endsAt),
          next.capacity,
          toSqlDate(next.registrationDeadline),
          JSON.stringify(next.fields),
          next.benefit ? JSON.stringify(next.benefit) : null,
          JSON.stringify(next.agenda),
          JSON.stringify(next.facts),
          next.smsVerification ? 1 : 0,
          next.waitlist ? 1 : 0,
          next.ticketPriceFen,
          toSqlDate(this.deps.clock.now()),
          p.id,
        ],
      );
      const audited = (e: EventInput) => ({
        name: e.name,
        venue: JSON.stringify(e.venue),
        startsAt: e.startsAt.toISOString(),
        endsAt: e.endsAt.toISOString(),
        capacity: e.capacity,
        registrationDeadline: e.registrationDeadline.toISOString(),
        fields: JSON.stringify(e.fields),
        benefit: JSON.stringify(e.benefit),
        agenda: JSON.stringify(e.agenda),
        facts: JSON.stringify(e.facts),
        smsVerification: e.smsVerification,
        waitlist: e.waitlist,
        ticketPriceFen: e.ticketPriceFen,
      });
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'event.update',
        targetType: 'event',
        targetId: p.id,
        detail: describeChanges(audited(current), audited(next)),
      });
      return { ok: true, value: null };
    });
    if (!result.ok) return result;
    const view = await this.getEvent(p.id);
    return view ? { ok: true, value: view } : { ok: false, reason: 'not_found' };
  }

  async listEvents(): Promise<AdminEventView[]> {
    const rows = await this.deps.dataSource.query<EventRow[]>(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY id DESC LIMIT 500`);
    return Promise.all(rows.map((row) => this.adminView(recordOf(row))));
  }

  async getEvent(id: number): Promise<AdminEventView | null> {
    const event = await this.readEvent(this.deps.dataSource.manager, id);
    return event ? this.adminView(event) : null;
  }

  /** GET /api/events/:eventId: what the invitation page shows. */
  async getPublicEvent(id: number): Promise<EventView | null> {
    const event = await this.readEvent(this.deps.dataSource.manager, id);
    return event ? publicView(event, this.deps.clock.now()) : null;
  }

  /**
   * The mini-program's event list: every event not yet over (upcoming or under way), the soonest
   * first, as the public page shows each. An event has no draft state: once created it is public
   * at /e/<id>, so "published" is every event. At most 100.
   */
  async listPublicEvents(): Promise<EventView[]> {
    const now = this.deps.clock.now();
    const rows = await this.deps.dataSource.query<EventRow[]>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ends_at > ? ORDER BY starts_at, id LIMIT 100`,
      [toSqlDate(now)],
    );
    return rows.map((row) => publicView(recordOf(row), now));
  }

  /**
   * A visit of the invitation page, once per visitor (the page's random id): the first channel
   * it came through stays. False when there is no such event.
   */
  /**
   * An invitation-page visit: counted once per (event, visitor id) in event_visits for the report,
   * whoever the visitor is. A known visitor (the web OAuth visitor inside WeChat: `contactId`) is
   * also an `event_visit` interaction on their timeline, in the same transaction, once per event
   * per business day (its dedupe key), with the channel (`?ch=`) in its detail so the channel
   * reaction attributes it. False when the event does not exist.
   */
  async recordVisit(p: {
    eventId: number;
    visitorId: string;
    channelId: number | null;
    contactId?: number | null;
    /** The timeline's channel: the H5 page (`web`, default) or the mini-program (`mp`). */
    channel?: 'web' | 'mp';
  }): Promise<boolean> {
    const [exists] = await this.deps.dataSource.query<{ id: number }[]>('SELECT id FROM events WHERE id = ?', [p.eventId]);
    if (!exists) return false;
    const now = this.deps.clock.now();
    const visits = this.deps.visits;
    const contactId = visits ? (p.contactId ?? null) : null;
    const recorded = await this.deps.transactor.runRetrying(async (m) => {
      const conflict = isMysqlManager(m) ? 'ON DUPLICATE KEY UPDATE event_id = event_id' : 'ON CONFLICT (event_id, visitor_id) DO NOTHING';
      await m.query(`INSERT INTO event_visits (event_id, visitor_id, channel_id, first_at) VALUES (?, ?, ?, ?) ${conflict}`, [
        p.eventId,
        p.visitorId,
        p.channelId,
        toSqlDate(now),
      ]);
      if (!visits || contactId === null) return false;
      const day = new Date(now.getTime() + getUtcOffsetMinutes(visits.timeZone, now) * 60_000).toISOString().slice(0, 10);
      const result = await visits.interactions.recordInteraction(m, {
        type: 'event_visit',
        channel: p.channel ?? 'web',
        occurredAt: now,
        identity: null,
        contactId,
        dedupeKey: `event:${p.eventId}:visit:${contactId}:${day}`,
        detail: { eventId: p.eventId, ...(p.channelId === null ? {} : { channelId: p.channelId }) },
        ref: { type: 'event', id: String(p.eventId) },
      });
      return result.recorded;
    });
    if (recorded) visits?.onRecorded?.();
    return true;
  }

  /**
   * Newest first, keyset paged by id (`before`: the `nextBefore` of the page before). `status`
   * is what the list shows: `registered` holds a seat and has not come, `checked_in` came (a
   * registration checked in keeps status registered in its row). `q` is part of the name, the
   * phone or the company answer. `maskPhones` (a sales rep's screen, as the contacts' phones):
   * the phone and every phone-typed answer as 138****5678.
   */
  async listRegistrations(p: {
    eventId: number;
    before?: number;
    limit: number;
    status?: RegistrationListStatus;
    q?: string;
    maskPhones?: boolean;
  }): Promise<{ items: RegistrationView[]; nextBefore: number | null } | null> {
    const event = await this.readEvent(this.deps.dataSource.manager, p.eventId);
    if (!event) return null;
    const where = ['r.event_id = ?'];
    const params: unknown[] = [p.eventId];
    if (p.status === 'checked_in') where.push('c.id IS NOT NULL');
    else if (p.status === 'registered') where.push("r.status = 'registered' AND c.id IS NULL");
    else if (p.status) {
      where.push('r.status = ?');
      params.push(p.status);
    }
    const q = p.q?.trim() ?? '';
    if (q !== '') {
      const company = isMysqlManager(this.deps.dataSource.manager)
        ? "JSON_UNQUOTE(JSON_EXTRACT(r.answers, '$.company'))"
        : "json_extract(r.answers, '$.company')";
      // '!' escapes LIKE's wildcards the same way on SQLite and MySQL.
      const like = `%${q.replace(/[!%_]/g, (ch) => `!${ch}`)}%`;
      if (p.maskPhones) {
        // A masked phone is not searchable digit by digit: a rep could otherwise read it back one guess at a time.
        where.push(`(r.name LIKE ? ESCAPE '!' OR ${company} LIKE ? ESCAPE '!')`);
        params.push(like, like);
      } else {
        where.push(`(r.name LIKE ? ESCAPE '!' OR r.phone LIKE ? ESCAPE '!' OR ${company} LIKE ? ESCAPE '!')`);
        params.push(like, like, like);
      }
    }
    if (p.before !== undefined) {
      where.push('r.id < ?');
      params.push(p.before);
    }
    const rows = await this.deps.dataSource.query<
      {
        id: number | string;
        contact_id: number | string;
        name: string;
        phone: string;
        answers: unknown;
        status: RegistrationView['status'];
        source: string;
        channel_id: number | string | null;
        channel_name: string | null;
        created_at: unknown;
        cancelled_at: unknown;
        gate: string | null;
        checked_in_at: unknown;
      }[]
    >(
      'SELECT r.id, r.contact_id, r.name, r.phone, r.answers, r.status, r.source, r.channel_id, ch.name AS channel_name, r.created_at, ' +
        'r.cancelled_at, c.gate, c.checked_in_at FROM event_registrations r LEFT JOIN event_checkins c ON c.registration_id = r.id ' +
        `LEFT JOIN channels ch ON ch.id = r.channel_id WHERE ${where.join(' AND ')} ORDER BY r.id DESC LIMIT ${p.limit + 1}`,
      params,
    );
    const phoneKeys = new Set(['phone', ...event.fields.filter((f) => f.type === 'phone').map((f) => f.key)]);
    const masked = (answers: Record<string, string | number>): Record<string, string | number> =>
      Object.fromEntries(
        Object.entries(answers).map(([key, value]) => [key, phoneKeys.has(key) && typeof value === 'string' ? maskPhone(value) : value]),
      );
    const items = rows.slice(0, p.limit).map((r): RegistrationView => {
      const answers = parseJson<Record<string, string | number>>(r.answers, {});
      return {
        id: Number(r.id),
        contactId: Number(r.contact_id),
        name: r.name,
        phone: p.maskPhones ? maskPhone(r.phone) : r.phone,
        answers: p.maskPhones ? masked(answers) : answers,
        status: r.status,
        source: r.source,
        channelId: r.channel_id === null ? null : Number(r.channel_id),
        channelName: r.channel_name,
        checkedIn: r.gate === null ? null : { gate: r.gate, at: fromSqlDate(r.checked_in_at).toISOString() },
        createdAt: fromSqlDate(r.created_at).toISOString(),
        cancelledAt: r.cancelled_at === null ? null : fromSqlDate(r.cancelled_at).toISOString(),
      };
    });
    return { items, nextBefore: rows.length > p.limit ? items[items.length - 1].id : null };
  }

  /** The event, parsed; with `lock` its row is locked for the transaction on MySQL (SQLite has one writer). */
  async readEvent(m: EntityManager, id: number, options: { lock?: boolean } = {}): Promise<EventRecord | null> {
    const lock = options.lock && isMysqlManager(m) ? ' FOR UPDATE' : '';
    const [row] = await m.query<EventRow[]>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?${lock}`, [id]);
    return row ? recordOf(row) : null;
  }

  private async adminView(event: EventRecord): Promise<AdminEventView> {
    const [counts] = await this.deps.dataSource.query<{ waitlisted: number | string | null; checked_in: number | string | null }[]>(
      "SELECT (SELECT COUNT(*) FROM event_registrations WHERE event_id = ? AND status = 'waitlisted') AS waitlisted, " +
        '(SELECT COUNT(*) FROM event_checkins WHERE event_id = ?) AS checked_in',
      [event.id, event.id],
    );
    return {
      ...publicView(event, this.deps.clock.now()),
      waitlisted: Number(counts?.waitlisted ?? 0),
      checkedIn: Number(counts?.checked_in ?? 0),
      createdAt: event.createdAt.toISOString(),
      updatedAt: event.updatedAt.toISOString(),
    };
  }
}

/** Ended after its end; closed after the deadline; full when every seat is taken; else open. */
export function eventStatus(
  event: Pick<EventRecord, 'endsAt' | 'registrationDeadline' | 'registered' | 'capacity'>,
  now: Date,
): EventStatus {
  if (now.getTime() >= event.endsAt.getTime()) return 'ended';
  if (now.getTime() >= event.registrationDeadline.getTime()) return 'closed';
  return event.registered >= event.capacity ? 'full' : 'open';
}

function publicView(event: EventRecord, now: Date): EventView {
  return {
    id: event.id,
    name: event.name,
    venue: event.venue,
    startsAt: event.startsAt.toISOString(),
    endsAt: event.endsAt.toISOString(),
    registrationDeadline: event.registrationDeadline.toISOString(),
    capacity: event.capacity,
    registered: event.registered,
    status: eventStatus(event, now),
    fields: event.fields,
    agenda: event.agenda,
    benefit: event.benefit,
    facts: event.facts,
    smsVerification: event.smsVerification,
    waitlist: event.waitlist,
    ticketPriceFen: event.ticketPriceFen,
  };
}

interface EventRow {
  id: number | string;
  name: string;
  venue: unknown;
  starts_at: unknown;
  ends_at: unknown;
  capacity: number | string;
  registered: number | string;
  registration_deadline: unknown;
  fields: unknown;
  benefit: unknown;
  agenda: unknown;
  facts: unknown;
  sms_verification: number | string | boolean;
  waitlist: number | string | boolean;
  ticket_price_fen: number | string | null;
  created_at: unknown;
  updated_at: unknown;
}

function recordOf(row: EventRow): EventRecord {
  return {
    id: Number(row.id),
    name: row.name,
    venue: parseJson<EventVenue>(row.venue, { address: '' }),
    startsAt: fromSqlDate(row.starts_at),
    endsAt: fromSqlDate(row.ends_at),
    capacity: Number(row.capacity),
    registered: Number(row.registered),
    registrationDeadline: fromSqlDate(row.registration_deadline),
    fields: parseJson<EventField[]>(row.fields, []),
    benefit: parseJson<EventBenefit | null>(row.benefit, null),
    agenda: parseJson<EventAgendaItem[]>(row.agenda, []),
    facts: parseJson<EventFacts>(row.facts, {}),
    smsVerification: Boolean(Number(row.sms_verification)),
    waitlist: Boolean(Number(row.waitlist)),
    ticketPriceFen: row.ticket_price_fen === null || row.ticket_price_fen === undefined ? null : Number(row.ticket_price_fen),
    createdAt: fromSqlDate(row.created_at),
    updatedAt: fromSqlDate(row.updated_at),
  };
}

/** JSON columns come back parsed on MySQL and as text on SQLite (and MariaDB's LONGTEXT). */
export function parseJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value !== 'string') return value as T;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

/** Used by the seat counter: a seat taken or given back in the caller's transaction. */
export async function takeSeat(m: EntityManager, eventId: number, now: Date): Promise<boolean> {
  return (
    (await executeCountingRows(m, 'UPDATE events SET registered = registered + 1, updated_at = ? WHERE id = ? AND registered < capacity', [
      toSqlDate(now),
      eventId,
    ])) === 1
  );
}
