import type { DataSource, EntityManager } from 'typeorm';
import type { EventBenefit, EventVenue } from '../../../entities/event.entity';
import type { Clock } from '../../adapters/clock';
import { isUniqueViolation } from '../../db/errors';
import { fromSqlDate, isMysqlManager, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import type { OutboxDraft } from '../outbox/outbox.service';
import { parseJson, type EventsService } from './events.service';
import { EXHIBITION_REFUSALS, refuse, type Refusal } from './exhibition-refusal';
import { validateAnswers } from './registration-form';
import type { RegistrationsService } from './registrations.service';

/**
 * Check-in at the gates (issue 15 §4). Three keys make it safe under retries and races:
 * - a scan's nonce: (event, nonce) is unique in event_scans with the answer given, written in the
 *   check-in's transaction, so the same nonce again (an offline queue sent twice, a retry after a
 *   lost answer) is answered the same and changes nothing;
 * - the registration: unique in event_checkins, so two gates scanning one ticket at once check it
 *   in once; the loser's INSERT meets the key and it answers already_checked_in with the first
 *   gate and time (read committed on MariaDB, so the winner's row is visible to it);
 * - the person: one registration per (event, phone) and per (event, contact) (registrations.service.ts),
 *   and the headcount counts contacts (PERSON_CHECKINS_SQL), so a person with two registrations, or
 *   seen at two gates, counts once.
 */

/**
 * Each person's check-in that counts them (one `?`: the event): the first (lowest id, the order
 * they were written) of the check-ins of the contact's registrations. A person with two
 * registrations checked in at two gates is counted once, at the gate that let them in first, so
 * the gates add up to the total (Hi.Events #889: double counting on site is a safety problem).
 */
export const PERSON_CHECKINS_SQL =
  'SELECT c.id, c.gate, c.checked_in_at, r.channel_id FROM event_checkins c JOIN event_registrations r ON r.id = c.registration_id ' +
  'JOIN (SELECT MIN(c2.id) AS id FROM event_checkins c2 JOIN event_registrations r2 ON r2.id = c2.registration_id ' +
  'WHERE c2.event_id = ? GROUP BY r2.contact_id) first_seen ON first_seen.id = c.id';

export interface CheckinsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  events: EventsService;
  registrations: RegistrationsService;
  interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
  outbox: { enqueue(p: { manager: EntityManager; drafts: OutboxDraft[] }): Promise<number> };
  /** The Official Account whose followers get the check-in's customer-service message; null: none is sent. */
  officialAccountAppId: string | null;
  onRecorded?: () => void;
  onQueued?: () => void;
}

export interface CheckinAnswer {
  status: 'checked_in';
  registrationId: number;
  gate: string;
  checkedInAt: string;
  benefit: EventBenefit | null;
}

export type CheckinResult = { ok: true; value: CheckinAnswer } | Refusal;
export type WalkInResult = { ok: true; value: { registrationId: number; status: 'checked_in' } } | Refusal;

export const DEFAULT_GATE = 'main';

/** Thrown to roll a check-in back when its nonce was answered meanwhile (the same scan sent twice at once). */
class NonceTaken extends Error {}

export class CheckinsService {
  constructor(private readonly deps: CheckinsServiceDeps) {}

  async checkIn(p: {
    eventId: number;
    token: string;
    gate?: string | null;
    nonce?: string | null;
    operatorId: number | null;
  }): Promise<CheckinResult> {
    // The signature first: a forged ticket costs no database work beyond its nonce.
    const claims = await this.deps.registrations.claimsOf(p.eventId, p.token);
    return this.once<CheckinAnswer>(p.eventId, p.nonce ?? null, 200, async (m) => {
      if (!claims.ok) return (await this.eventExists(m, p.eventId)) ? claims : refuse('event_not_found', 'No such event');
      const ticket = await this.readTicket(m, p.eventId, claims.value.registrationId);
      if (!ticket) return refuse('event_not_found', 'No such event');
      if (!ticket.registration) return refuse('invalid_ticket', 'No such registration');
      return this.checkInRegistration(m, {
        ...ticket,
        registration: ticket.registration,
        key: claims.value.key,
        gate: p.gate ?? DEFAULT_GATE,
        operatorId: p.operatorId,
      });
    });
  }

  /** A walk-in: registered and checked in in one transaction (someone already registered is checked in on their registration). */
  async walkIn(p: {
    eventId: number;
    answers: unknown;
    gate?: string | null;
    nonce?: string | null;
    operatorId: number | null;
  }): Promise<WalkInResult> {
    return this.once<{ registrationId: number; status: 'checked_in' }>(p.eventId, p.nonce ?? null, 201, async (m) => {
      const event = await this.deps.events.readEvent(m, p.eventId);
      if (!event) return refuse('event_not_found', 'No such event');
      const form = validateAnswers(event.fields, p.answers);
      if (!form.ok) return refuse('validation_failed', 'Some answers are not valid', { fields: form.fields });
      const registered = await this.deps.registrations.registerWalkIn(m, {
        event,
        answers: form.answers,
        name: form.name,
        phone: form.phone,
      });
      const ticket = await this.readTicket(m, p.eventId, registered.registrationId);
      if (!ticket?.registration) throw new Error('the walk-in registration just written cannot be read');
      const checked = await this.checkInRegistration(m, {
        ...ticket,
        registration: ticket.registration,
        key: ticket.registration.ticketKey,
        gate: p.gate ?? DEFAULT_GATE,
        operatorId: p.operatorId,
      });
      return checked.ok ? { ok: true, value: { registrationId: registered.registrationId, status: 'checked_in' } } : checked;
    });
  }

  /** Each person once (one check-in per registration, one registration per phone), per gate and in total. */
  async headcount(eventId: number): Promise<{ total: number; byGate: { gate: string; count: number }[] } | null> {
    const [exists] = await this.deps.dataSource.query<{ id: number }[]>('SELECT id FROM events WHERE id = ?', [eventId]);
    if (!exists) return null;
    const rows = await this.deps.dataSource.query<{ gate: string; n: number | string }[]>(
      `SELECT p.gate, COUNT(*) AS n FROM (${PERSON_CHECKINS_SQL}) p GROUP BY p.gate ORDER BY p.gate`,
      [eventId],
    );
    const byGate = rows.map((r) => ({ gate: r.gate, count: Number(r.n) }));
    return { total: byGate.reduce((sum, g) => sum + g.count, 0), byGate };
  }

  /**
   * Runs `work` in a transaction that also stores its answer under the nonce, last; a nonce
   * answered before meets the key there, the transaction rolls back whole, and the stored answer
   * is given instead. No look before: a scan's nonce is new nearly always, and the look would be
   * a round trip on every scan. Answers that change nothing (a forged ticket) are stored too: the
   * retry of a scan is answered as the scan was.
   */
  private async once<T>(
    eventId: number,
    nonce: string | null,
    okStatus: number,
    work: (m: EntityManager) => Promise<{ ok: true; value: T } | Refusal>,
  ): Promise<{ ok: true; value: T } | Refusal> {
    let recorded = false;
    try {
      const result = await this.deps.transactor.runRetrying(async (m) => {
        const answer = await work(m);
        recorded = answer.ok;
        // Kept for every answer but an unknown event's (nothing to keep it under).
        if (nonce !== null && (answer.ok || answer.code !== 'event_not_found')) await this.storeAnswer(m, eventId, nonce, okStatus, answer);
        return answer;
      });
      if (recorded) {
        this.deps.onRecorded?.();
        this.deps.onQueued?.();
      }
      return result;
    } catch (error) {
      if (!(error instanceof NonceTaken) || nonce === null) throw error;
      const [row] = await this.deps.dataSource.query<{ answer: string }[]>(
        'SELECT answer FROM event_scans WHERE event_id = ? AND nonce = ?',
        [eventId, nonce],
      );
      if (!row) throw error;
      return JSON.parse(row.answer) as { ok: true; value: T } | Refusal;
    }
  }

  private async storeAnswer(
    m: EntityManager,
    eventId: number,
    nonce: string,
    okStatus: number,
    answer: { ok: true } | Refusal,
  ): Promise<void> {
    try {
      await m.query('INSERT INTO event_scans (event_id, nonce, http_status, answer, created_at) VALUES (?, ?, ?, ?, ?)', [
        eventId,
        nonce,
        answer.ok ? okStatus : EXHIBITION_REFUSALS[answer.code],
        JSON.stringify(answer),
        toSqlDate(this.deps.clock.now()),
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new NonceTaken();
      throw error;
    }
  }

  private async eventExists(m: EntityManager, eventId: number): Promise<boolean> {
    return (await m.query<{ id: number }[]>('SELECT id FROM events WHERE id = ?', [eventId])).length > 0;
  }

  /**
   * The ticket's registration, locked, then the event, the attendee's openid on the Official
   * Account (for the check-in message) and the registration's check-in if there is one. The lock
   * (a primary-key record lock on MariaDB, nothing else) makes two gates scanning one ticket take
   * turns: the second reads the first's committed check-in and answers already_checked_in
   * without an INSERT. Letting it meet the unique key instead would answer the same, but on
   * MariaDB a duplicate-key error leaves a shared next-key lock on the index until the
   * transaction ends, and that gap lock holds up the INSERTs of neighbouring tickets scanned at
   * the same time. The unique key stays, for whatever comes without the lock.
   * Null when there is no such event.
   */
  private async readTicket(m: EntityManager, eventId: number, registrationId: number): Promise<TicketRow | null> {
    const [reg] = await m.query<{ id: number | string; contact_id: number | string; status: string; ticket_key: string }[]>(
      `SELECT id, contact_id, status, ticket_key FROM event_registrations WHERE id = ? AND event_id = ?${isMysqlManager(m) ? ' FOR UPDATE' : ''}`,
      [registrationId, eventId],
    );
    const [row] = await m.query<
      {
        id: number | string;
        name: string;
        venue: unknown;
        ends_at: unknown;
        benefit: unknown;
        openid: string | null;
        first_gate: string | null;
        first_at: unknown;
      }[]
    >(
      'SELECT e.id, e.name, e.venue, e.ends_at, e.benefit, ' +
        "(SELECT ci.value FROM contact_identities ci WHERE ci.contact_id = ? AND ci.kind = 'oa_openid' AND ci.app_id = ? LIMIT 1) AS openid, " +
        '(SELECT c.gate FROM event_checkins c WHERE c.registration_id = ?) AS first_gate, ' +
        '(SELECT c.checked_in_at FROM event_checkins c WHERE c.registration_id = ?) AS first_at FROM events e WHERE e.id = ?',
      [reg ? Number(reg.contact_id) : 0, this.deps.officialAccountAppId ?? '', registrationId, registrationId, eventId],
    );
    if (!row) return null;
    return {
      event: {
        id: Number(row.id),
        name: row.name,
        venue: parseJson<EventVenue>(row.venue, { address: '' }),
        endsAt: fromSqlDate(row.ends_at),
        benefit: parseJson<EventBenefit | null>(row.benefit, null),
      },
      registration: reg ? { id: Number(reg.id), contactId: Number(reg.contact_id), status: reg.status, ticketKey: reg.ticket_key } : null,
      openid: this.deps.officialAccountAppId ? row.openid : null,
      checkedIn: row.first_gate === null ? null : { gate: row.first_gate, at: fromSqlDate(row.first_at) },
    };
  }

  private async checkInRegistration(
    m: EntityManager,
    p: TicketRow & { registration: NonNullable<TicketRow['registration']>; key: string; gate: string; operatorId: number | null },
  ): Promise<CheckinResult> {
    const reg = p.registration;
    // Signed by us but with an older key: the registration was cancelled and made again, and this ticket was revoked then.
    if (reg.status === 'cancelled' || reg.ticketKey !== p.key) return refuse('ticket_revoked', 'The ticket was cancelled');
    if (reg.status === 'waitlisted') return refuse('ticket_waitlisted', 'The registration is still on the waitlist');
    // A paid event's ticket before its payment: the seat is held, not bought (paid tickets).
    if (reg.status === 'unpaid') return refuse('ticket_unpaid', 'The ticket has not been paid yet');
    const now = this.deps.clock.now();
    if (now.getTime() >= p.event.endsAt.getTime()) return refuse('ticket_expired', 'The event is over');
    if (p.checkedIn) return alreadyCheckedIn(p.checkedIn.gate, p.checkedIn.at);
    try {
      await m.query(
        'INSERT INTO event_checkins (event_id, registration_id, gate, benefit, operator_id, checked_in_at) VALUES (?, ?, ?, ?, ?, ?)',
        [p.event.id, reg.id, p.gate, p.event.benefit ? JSON.stringify(p.event.benefit) : null, p.operatorId, toSqlDate(now)],
      );
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Without the registration's lock only (readTicket). A locking read sees the winner's
      // committed row (a plain read in MariaDB's REPEATABLE READ would see the snapshot from before
      // it). Both databases undo only the failed INSERT: the transaction goes on to store the answer.
      const [first] = await m.query<{ gate: string; checked_in_at: unknown }[]>(
        `SELECT gate, checked_in_at FROM event_checkins WHERE registration_id = ?${isMysqlManager(m) ? ' LOCK IN SHARE MODE' : ''}`,
        [reg.id],
      );
      if (!first) throw error;
      return alreadyCheckedIn(first.gate, fromSqlDate(first.checked_in_at));
    }
    await this.deps.interactions.recordInteraction(m, {
      type: 'checkin',
      channel: 'admin',
      occurredAt: now,
      detail: { eventId: p.event.id, registrationId: reg.id, gate: p.gate, benefit: p.event.benefit?.description ?? null },
      identity: null,
      contactId: reg.contactId,
      dedupeKey: `event:${p.event.id}:checkin:${reg.id}`,
      ref: { type: 'event', id: String(p.event.id) },
    });
    if (p.openid) await this.sendWelcome(m, { event: p.event, contactId: reg.contactId, registrationId: reg.id });
    return {
      ok: true,
      value: { status: 'checked_in', registrationId: reg.id, gate: p.gate, checkedInAt: now.toISOString(), benefit: p.event.benefit },
    };
  }

  /**
   * The attendee's customer-service message (oa_custom): the venue's navigation and how to reach
   * customer service, for a follower of the Official Account. The platform allows it only inside
   * the follower's 48-hour window (custom-window.ts); outside it the outbox skips the row
   * (`outside_window`) without a request.
   */
  private async sendWelcome(m: EntityManager, p: { event: TicketRow['event']; contactId: number; registrationId: number }): Promise<void> {
    const lines = [
      `签到成功，欢迎参加「${p.event.name}」！`,
      ...(p.event.benefit ? [`您的签到礼：${p.event.benefit.description}，请到服务台领取。`] : []),
      `场馆导航：${[p.event.venue.name, p.event.venue.address].filter(Boolean).join(' ')} ${mapUrl(p.event.venue)}`,
      '如需帮助，直接回复本消息即可联系现场客服。',
    ];
    await this.deps.outbox.enqueue({
      manager: m,
      drafts: [
        {
          dedupeKey: `event:${p.event.id}:checkin_message:${p.registrationId}`,
          contactId: p.contactId,
          channel: 'oa_custom',
          purpose: 'transactional',
          source: { type: 'event', id: String(p.event.id) },
          payload: { msgtype: 'text', text: { content: lines.join('\n') } },
        },
      ],
    });
  }
}

/** What a check-in reads: the event's parts it needs, the registration, the attendee's openid. */
interface TicketRow {
  event: { id: number; name: string; venue: EventVenue; endsAt: Date; benefit: EventBenefit | null };
  registration: { id: number; contactId: number; status: string; ticketKey: string } | null;
  openid: string | null;
  /** The registration's check-in, when it has one already. */
  checkedIn: { gate: string; at: Date } | null;
}

function alreadyCheckedIn(gate: string, at: Date): Refusal {
  return refuse('already_checked_in', 'The ticket was checked in already', { gate, checkedInAt: at.toISOString() });
}

/**
 * Tencent Maps' URI API opens the map (in WeChat's browser too) at the venue: a marker when the
 * operator gave coordinates, else a search for the address.
 * @link https://lbs.qq.com/webApi/uriV1/uriGuide/uriWebMarker
 */
export function mapUrl(venue: EventVenue): string {
  const title = encodeURIComponent(venue.name ?? venue.address);
  const address = encodeURIComponent(venue.address);
  if (venue.lat !== undefined && venue.lng !== undefined)
    return `https://apis.map.qq.com/uri/v1/marker?marker=coord:${venue.lat},${venue.lng};title:${title};addr:${address}&referer=flywheel`;
  return `https://apis.map.qq.com/uri/v1/search?keyword=${address}&referer=flywheel`;
}
