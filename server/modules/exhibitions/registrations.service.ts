import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import QRCode from 'qrcode';
import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import { maskPersonalData, type Logger } from '../../adapters/logger';
import { isUniqueViolation } from '../../db/errors';
import { executeCountingRows, fromSqlDate, insertReturningId, isMysqlManager, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { JsapiPayParams } from '../../adapters/wechat-pay.client';
import { describeRecord, type AuditActor, type AuditService } from '../audit/audit.service';
import type { ContactsService, IdentityRef } from '../contacts/contacts.service';
import { refreshSearchTerms } from '../contacts/search-terms';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import type { Reservation } from '../operators/login-throttle';
import type { OutboxDraft } from '../outbox/outbox.service';
import type { Payer } from '../payments/payments.service';
import {
  cut,
  enqueueExhibitionSends,
  startText,
  wrap,
  type ExhibitionChannel,
  type ExhibitionSendConfig,
  type ExhibitionSendDeps,
} from './exhibition-send';
import type { EventBenefit, EventVenue } from '../../../entities/event.entity';
import { eventStatus, parseJson, takeSeat, type EventRecord, type EventsService } from './events.service';
import { refuse, type Refusal } from './exhibition-refusal';
import { MP_PAGES } from './mp-pages';
import { normalizeChineseMobile, validateAnswers, type Answers } from './registration-form';
import { newTicketKey, signTicket, verifyTicket, type TicketClaims } from './ticket-token';

/**
 * Registrations and tickets (issue 15 §3), behind the public API:
 * - the person is their phone (E.164): one registration per (event, phone) by a unique key; the
 *   INSERT meets the key and the whole transaction rolls back (no look-before-insert race);
 * - a seat is taken by one conditional UPDATE of the event's counter in the same transaction
 *   (`registered < capacity`), so the last seat goes to one person; past capacity the
 *   registration is stored as waitlisted (when the event keeps a waitlist), and a cancellation
 *   gives its seat to the first waitlisted, in the cancellation's transaction;
 * - every call is limited per client IP and per phone in the database (login_throttles), so the
 *   limits hold across instances.
 */

export interface RegistrationsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  events: EventsService;
  contacts: Pick<ContactsService, 'resolveContact' | 'attachIdentity'>;
  interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
  outbox: { enqueue(p: { manager: EntityManager; drafts: OutboxDraft[] }): Promise<number> };
  /**
   * LoginThrottleStore's countInWindow: one atomic UPDATE per call. Not the compare-and-set
   * reserveInWindow, which gives up after a few lost rounds: a venue's phones share one Wi-Fi
   * address, and a burst of them registering at the gate lost round after round and got 429s far
   * below the limit.
   */
  throttle: { countInWindow(key: string, limit: { max: number; windowMs: number }): Promise<Reservation> };
  /** The tickets' HMAC key (loaded once: ticket-secret.ts). */
  ticketSecret: () => Promise<Buffer>;
  /** The SMS template of the registration code; null: no code can be sent (sms_verification_off). */
  smsCodeTemplateId: string | null;
  rateLimits: { perIp: number; perPhone: number; windowMs: number };
  /** Refunds what was paid for a cancelled registration (payments.refundFor); null without payments. */
  refundFor: ((p: { ref: { type: string; id: string }; actor: AuditActor; reason?: string }) => Promise<unknown>) | null;
  /**
   * The promotion notice (a waitlisted person given a seat): sent like every exhibition message
   * (exhibition-send.ts), carrying their ticket link. Absent: nobody is told.
   */
  notices?: {
    consents: ExhibitionSendDeps['consents'];
    config: ExhibitionSendConfig & { timezone: string; publicBaseUrl: string };
  } | null;
  /**
   * Paid tickets (issue 15 §7): the payments module's JSAPI orders, wired in compose.ts (this
   * module is called by payments only through its hooks, onOrderPaid and onOrderClosed). Absent or
   * null: payments are not configured, and a paid event cannot be registered for.
   */
  payments?: {
    payerOf(contactId: number): Promise<Payer | null>;
    createJsapiOrder(p: {
      contactId: number;
      openid: string;
      appId: string;
      ref: { type: string; id: string; amountFen: number; description: string };
    }): Promise<{ order: { id: number }; payParams: JsapiPayParams }>;
    openOrderFor(ref: { type: string; id: string }, appId?: string): Promise<number | null>;
    payParamsOf(orderId: number): Promise<JsapiPayParams>;
  } | null;
  /** Records an operator's cancel. */
  audit: Pick<AuditService, 'record'>;
  /** After an interaction is committed: the reactions run. */
  onRecorded?: () => void;
  /** After a message is queued: the outbox sends it. */
  onQueued?: () => void;
}

export interface Ticket {
  token: string;
  qrImageUrl: string;
}

/** One of a contact's tickets (ticketsOf): `status` as the ticket page reads it. */
export interface ContactTicket {
  registrationId: number;
  eventId: number;
  eventName: string;
  venue: EventVenue;
  startsAt: string;
  endsAt: string;
  name: string;
  status: 'valid' | 'waitlisted' | 'unpaid' | 'checked_in';
  /** When, where, and the benefit granted then (the check-in's own, not the event's as edited since). */
  checkedIn: { gate: string; at: string; benefit: EventBenefit | null } | null;
  ticket: Ticket;
}

export type CancelResult = { ok: true; value: { status: 'cancelled' } } | Refusal;

/** A paid registration's order and the pay-sign parameters the page hands to WeixinJSBridge. */
export interface RegistrationPayment {
  orderId: number;
  payParams: JsapiPayParams;
}

/** A registration made: registered, or (a paid event) unpaid with its order to pay. */
export type Registered =
  | { registrationId: number; status: 'registered'; ticket: Ticket }
  | { registrationId: number; status: 'unpaid'; ticket: Ticket; payment: RegistrationPayment };

export type RegisterResult = { ok: true; value: Registered } | Refusal;

/**
 * How long an unpaid registration holds its seat: the JSAPI order's pay window (payments'
 * UNPAID_ORDER_CLOSE_MS, two hours: after it the prepay_id cannot open the pay sheet and the order
 * is closed). Past it the registration is released even when its order could not be closed.
 */
export const UNPAID_REGISTRATION_HOLD_MS = 2 * 60 * 60 * 1000;
const RELEASE_BATCH = 100;

export interface RegisterParams {
  eventId: number;
  answers: unknown;
  consent: unknown;
  channelId?: number | null;
  smsCode?: string | null;
  /** The invitation page's visitor id (its event_visits row), kept on the registration for the report. */
  visitorId?: string | null;
  ip: string | null;
  /**
   * The H5 identity hook: inside WeChat the page's web OAuth gives the openid (snsapi_base), and
   * the contact is found by it rather than by the phone. The phone stays the registration's key.
   */
  identity?: IdentityRef | null;
  /**
   * The web OAuth visitor's contact (visitorContactId: the page's request carried their cookie).
   * The registration is theirs, and the phone becomes one of their identities (see contactFor).
   */
  visitorContactId?: number | null;
  /** Where it was made: the H5 invitation page (default) or the mini-program (`mp`, the session's contact as visitorContactId). */
  source?: 'h5' | 'mp';
  /**
   * A paid event's payer when the caller knows it: the mini-program's session (its openid of the
   * mini-program's appid, where wx.requestPayment opens the sheet). Absent: the web OAuth
   * visitor's Official Account openid (payments.payerOf).
   */
  payer?: Payer | null;
}

/** A registration's walk-in form: registered at the gate, past the deadline and the capacity. */
export interface WalkInParams {
  eventId: number;
  answers: unknown;
  operatorId: number | null;
}

/** How long a code is good for ("5分钟内有效", the sandbox template's wording). */
export const SMS_CODE_TTL_MS = 5 * 60 * 1000;
/** Wrong codes a sent code survives; the next one needs a new code. */
export const SMS_CODE_MAX_ATTEMPTS = 5;
/** The ticket's QR: a token is about 100 characters; scale 4 draws about 200 px, enough for a phone screen and quick to draw. */
const QR_OPTIONS = { type: 'png' as const, margin: 2, scale: 4, errorCorrectionLevel: 'M' as const };

/** A paid registration's order reference (pay_orders.ref_type, as the payments module names it). */
export const REGISTRATION_REF_TYPE = 'registration';

interface RegistrationRow {
  id: number | string;
  event_id: number | string;
  contact_id: number | string;
  name: string;
  phone: string;
  status: 'registered' | 'waitlisted' | 'unpaid' | 'cancelled';
  ticket_key: string;
}

/** Thrown inside a transaction to roll it back with an answer. */
class RolledBack extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.code);
  }
}

export class RegistrationsService {
  constructor(private readonly deps: RegistrationsServiceDeps) {}

  /** Per client IP, then per phone: refused calls do not count. */
  async limitIp(ip: string | null): Promise<Refusal | null> {
    return this.limit(`events:ip:${(ip ?? 'unknown').slice(0, 64)}`, this.deps.rateLimits.perIp);
  }

  async limitPhone(phone: string): Promise<Refusal | null> {
    return this.limit(`events:phone:${phone}`, this.deps.rateLimits.perPhone);
  }

  /** Per identified visitor (the offer page's orders), with the per-phone limit: one person, one budget. */
  async limitVisitor(contactId: number): Promise<Refusal | null> {
    return this.limit(`events:contact:${contactId}`, this.deps.rateLimits.perPhone);
  }

  async register(p: RegisterParams): Promise<RegisterResult> {
    const ipLimited = await this.limitIp(p.ip);
    if (ipLimited) return ipLimited;
    const event = await this.deps.events.readEvent(this.deps.dataSource.manager, p.eventId);
    if (!event) return refuse('event_not_found', 'No such event');
    const form = validateAnswers(event.fields, p.answers);
    if (!form.ok) return refuse('validation_failed', 'Some answers are not valid', { fields: form.fields });
    if (p.consent !== true) return refuse('consent_required', 'The privacy consent is required');
    // A paid ticket is paid with JSAPI, which needs the payer's openid: only the web OAuth visitor
    // (inside WeChat) or a mini-program session can register, and nothing is stored for anyone else.
    let payer: Payer | null = null;
    if (event.ticketPriceFen !== null) {
      if (!this.deps.payments) return refuse('pay_not_configured', 'WeChat Pay is not configured: this paid event takes no registrations');
      payer = p.payer ?? (p.visitorContactId ? await this.deps.payments.payerOf(p.visitorContactId) : null);
      if (!payer) return refuse('wechat_required', 'Open this page in WeChat to register and pay (WeChat Pay needs your WeChat identity)');
    }
    const phoneLimited = await this.limitPhone(form.phone);
    if (phoneLimited) return phoneLimited;
    const status = eventStatus(event, this.deps.clock.now());
    if (status === 'closed' || status === 'ended') return refuse('registration_closed', `Registration is ${status}`);
    if (event.smsVerification) {
      const checked = await this.checkSmsCode(event.id, form.phone, p.smsCode ?? null);
      if (checked) return checked;
    }
    return this.store({
      event,
      answers: form.answers,
      name: form.name,
      phone: form.phone,
      channelId: p.channelId ?? null,
      visitorId: p.visitorId ?? null,
      ip: p.ip,
      identity: p.identity ?? null,
      visitorContactId: p.visitorContactId ?? null,
      // A code was checked: the phone is the visitor's, proven as WeChat proves an openid.
      phoneVerified: event.smsVerification,
      source: p.source ?? 'h5',
      payer,
    });
  }

  /**
   * Walk-ins (checkins.service.ts): a registration taken at the gate, whatever the deadline and
   * the capacity (the person is standing there; the operator decides). Someone already registered
   * is found by their phone and answered with their registration.
   */
  async registerWalkIn(
    m: EntityManager,
    p: { event: EventRecord; answers: Answers; name: string; phone: string },
  ): Promise<{ registrationId: number; status: RegistrationRow['status']; contactId: number; created: boolean }> {
    const [existing] = await m.query<RegistrationRow[]>(
      `SELECT id, event_id, contact_id, name, phone, status, ticket_key FROM event_registrations WHERE event_id = ? AND phone = ?${
        isMysqlManager(m) ? ' FOR UPDATE' : ''
      }`,
      [p.event.id, p.phone],
    );
    const now = this.deps.clock.now();
    if (existing && existing.status === 'registered')
      return { registrationId: Number(existing.id), status: existing.status, contactId: Number(existing.contact_id), created: false };
    // Taken without the capacity check: the counter may pass capacity, which then reads as full.
    await m.query('UPDATE events SET registered = registered + 1, updated_at = ? WHERE id = ?', [toSqlDate(now), p.event.id]);
    const contactId = await this.contactFor(m, { phone: p.phone, name: p.name, identity: null });
    const key = newTicketKey();
    let registrationId: number;
    if (existing) {
      registrationId = Number(existing.id);
      await m.query(
        "UPDATE event_registrations SET status = 'registered', answers = ?, name = ?, ticket_key = ?, source = 'walk_in', cancelled_at = NULL, " +
          'queued_at = ?, updated_at = ? WHERE id = ?',
        [JSON.stringify(p.answers), p.name.slice(0, 128), key, toSqlDate(now), toSqlDate(now), registrationId],
      );
    } else {
      registrationId = await this.insertRegistration(m, {
        eventId: p.event.id,
        contactId,
        phone: p.phone,
        name: p.name,
        answers: p.answers,
        status: 'registered',
        key,
        source: 'walk_in',
        channelId: null,
        visitorId: null,
        ip: null,
        now,
      });
    }
    await this.recordRegistration(m, {
      eventId: p.event.id,
      registrationId,
      contactId,
      status: 'registered',
      channelId: null,
      key,
      source: 'walk_in',
    });
    return { registrationId, status: 'registered', contactId, created: true };
  }

  /** Cancels the ticket's registration (revoking the ticket); its seat goes to the first waitlisted; a paid one is refunded. */
  async cancel(p: { eventId: number; token: string; ip: string | null }): Promise<CancelResult> {
    const ipLimited = await this.limitIp(p.ip);
    if (ipLimited) return ipLimited;
    const claims = await this.claimsOf(p.eventId, p.token);
    if (!claims.ok) return claims;
    return this.cancelRegistration({ eventId: p.eventId, registrationId: claims.value.registrationId, key: claims.value.key, actor: null });
  }

  /**
   * The admin page's cancel (报名名单): the same as the holder's (the ticket revoked, the seat to
   * the first waitlisted, a refund), audited as the operator's. registration_not_found for a
   * registration of another event.
   */
  async cancelByOperator(p: { eventId: number; registrationId: number; actor: AuditActor }): Promise<CancelResult> {
    return this.cancelRegistration({ eventId: p.eventId, registrationId: p.registrationId, key: null, actor: p.actor });
  }

  /** `key`: the ticket's (the holder cancels), or null (an operator: `actor`, audited). */
  private async cancelRegistration(p: {
    eventId: number;
    registrationId: number;
    key: string | null;
    actor: AuditActor | null;
  }): Promise<CancelResult> {
    const now = this.deps.clock.now();
    let promoted: number | null = null;
    // The promotion notice signs the promoted person's ticket inside the transaction: the key is
    // loaded (and on first use stored) before it, never by a second transaction inside this one.
    if (this.deps.notices) await this.deps.ticketSecret();
    const result = await this.deps.transactor.runRetrying(async (m): Promise<CancelResult> => {
      promoted = null;
      const row = await this.lockRegistration(m, p.registrationId);
      if (p.key === null && (!row || Number(row.event_id) !== p.eventId))
        return refuse('registration_not_found', 'No such registration for this event');
      if (!row || (p.key !== null && row.ticket_key !== p.key)) return refuse('invalid_ticket', 'Not a ticket of this event');
      if (row.status === 'cancelled') return { ok: true, value: { status: 'cancelled' } };
      const [checked] = await m.query<{ gate: string; checked_in_at: unknown }[]>(
        'SELECT gate, checked_in_at FROM event_checkins WHERE registration_id = ?',
        [row.id],
      );
      if (checked) return refuse('already_checked_in', 'The ticket was used: it cannot be cancelled', { gate: checked.gate });
      await m.query("UPDATE event_registrations SET status = 'cancelled', cancelled_at = ?, updated_at = ? WHERE id = ?", [
        toSqlDate(now),
        toSqlDate(now),
        row.id,
      ]);
      if (row.status === 'registered') {
        await m.query('UPDATE events SET registered = registered - 1, updated_at = ? WHERE id = ? AND registered > 0', [
          toSqlDate(now),
          p.eventId,
        ]);
        promoted = await this.promoteFirstWaitlisted(m, p.eventId, now);
      } else if (row.status === 'unpaid') {
        // An unpaid seat goes back (a paid event keeps no waitlist); its open order closes by
        // itself, and a payment that still arrives is refunded (onOrderPaid).
        await giveSeatBack(m, p.eventId, now);
      }
      await this.deps.interactions.recordInteraction(m, {
        type: 'registration_cancelled',
        channel: p.actor ? 'admin' : 'system',
        occurredAt: now,
        detail: { eventId: p.eventId, registrationId: Number(row.id), ...(p.actor ? { byOperator: true } : {}) },
        identity: null,
        contactId: Number(row.contact_id),
        dedupeKey: `event:${p.eventId}:cancel:${row.id}:${row.ticket_key}`,
        ref: { type: 'event', id: String(p.eventId) },
      });
      if (p.actor)
        await this.deps.audit.record({
          manager: m,
          operatorId: p.actor.operatorId,
          ip: p.actor.ip,
          action: 'event.registration_cancel',
          targetType: 'event',
          targetId: p.eventId,
          detail: describeRecord({ registrationId: Number(row.id), name: row.name, status: row.status }),
        });
      return { ok: true, value: { status: 'cancelled' } };
    });
    if (result.ok) {
      this.deps.onRecorded?.();
      if (promoted !== null) {
        this.deps.logger.info('waitlisted registration promoted', { eventId: p.eventId, registrationId: promoted });
        this.deps.onQueued?.();
      }
      await this.refund(p.registrationId, p.actor);
    }
    return result;
  }

  /**
   * The paid notification of a registration's order (payments.applyPaid's onOrderPaid, in its
   * transaction): unpaid → registered by one guarded UPDATE, the ticket valid from then, and a
   * `registration` interaction (status registered, paid) on the contact. A registration that is
   * no longer unpaid (cancelled or released meanwhile, or paid by another order) asks for the
   * payment's refund.
   */
  async onOrderPaid(
    m: EntityManager,
    order: { id: number; refType: string | null; refId: string | null; amountFen: number },
  ): Promise<{ refund: boolean }> {
    if (order.refType !== REGISTRATION_REF_TYPE || order.refId === null) return { refund: false };
    const row = await this.lockRegistration(m, Number(order.refId));
    if (!row) {
      // Registrations are never deleted: an order naming none is for a person to look at, not to refund blindly.
      this.deps.logger.error('payment for an unknown registration', { orderId: order.id, registrationId: order.refId });
      return { refund: false };
    }
    const now = this.deps.clock.now();
    const moved = await executeCountingRows(
      m,
      "UPDATE event_registrations SET status = 'registered', updated_at = ? WHERE id = ? AND status = 'unpaid'",
      [toSqlDate(now), row.id],
    );
    if (moved === 0) {
      this.deps.logger.warn('payment for a registration that is not unpaid: refunded', {
        registrationId: Number(row.id),
        status: row.status,
      });
      return { refund: true };
    }
    const eventId = Number(row.event_id);
    await this.deps.interactions.recordInteraction(m, {
      type: 'registration',
      channel: 'pay',
      occurredAt: now,
      detail: { eventId, registrationId: Number(row.id), status: 'registered', paid: true, orderId: order.id, amountFen: order.amountFen },
      identity: null,
      contactId: Number(row.contact_id),
      dedupeKey: `event:${eventId}:paid:${row.id}:${row.ticket_key}`,
      ref: { type: 'event', id: String(eventId) },
    });
    return { refund: false };
  }

  /** A registration's order closed unpaid (payments.closeExpired's onOrderClosed, in its transaction): the seat goes back. */
  async onOrderClosed(m: EntityManager, order: { refType: string | null; refId: string | null }): Promise<void> {
    if (order.refType !== REGISTRATION_REF_TYPE || order.refId === null) return;
    await this.releaseUnpaid(m, Number(order.refId), 'order_closed');
  }

  /**
   * Unpaid registrations older than the pay window are released (their order may not have been
   * closed: WeChat Pay did not answer the close, or making the order failed): unpaid → cancelled,
   * the seat back. A payment that still arrives is refunded. Returns how many were released.
   */
  async releaseExpiredUnpaid(): Promise<number> {
    const now = this.deps.clock.now();
    const cutoff = new Date(now.getTime() - UNPAID_REGISTRATION_HOLD_MS);
    const due = await this.deps.dataSource.query<{ id: number | string }[]>(
      `SELECT id FROM event_registrations WHERE status = 'unpaid' AND queued_at < ? ORDER BY queued_at LIMIT ${RELEASE_BATCH}`,
      [toSqlDate(cutoff)],
    );
    let released = 0;
    for (const row of due) {
      if (await this.deps.transactor.runRetrying((m) => this.releaseUnpaid(m, Number(row.id), 'pay_window_passed'))) released += 1;
    }
    if (released > 0) this.deps.onRecorded?.();
    return released;
  }

  /** unpaid → cancelled by one guarded UPDATE, the seat back, a `registration_cancelled` interaction; false when it was not unpaid. */
  private async releaseUnpaid(m: EntityManager, registrationId: number, reason: 'order_closed' | 'pay_window_passed'): Promise<boolean> {
    const row = await this.lockRegistration(m, registrationId);
    if (!row) return false;
    const now = this.deps.clock.now();
    // An order still open and inside its own pay window (a re-registration's, or 去支付's new one)
    // keeps the seat: it may yet be paid, and its own close releases it.
    const [open] = await m.query<{ id: number | string }[]>(
      "SELECT id FROM pay_orders WHERE ref_type = ? AND ref_id = ? AND state = 'created' AND created_at >= ? LIMIT 1",
      [REGISTRATION_REF_TYPE, String(registrationId), toSqlDate(new Date(now.getTime() - UNPAID_REGISTRATION_HOLD_MS))],
    );
    if (open) return false;
    const moved = await executeCountingRows(
      m,
      "UPDATE event_registrations SET status = 'cancelled', cancelled_at = ?, updated_at = ? WHERE id = ? AND status = 'unpaid'",
      [toSqlDate(now), toSqlDate(now), row.id],
    );
    if (moved === 0) return false;
    const eventId = Number(row.event_id);
    await giveSeatBack(m, eventId, now);
    await this.deps.interactions.recordInteraction(m, {
      type: 'registration_cancelled',
      channel: 'system',
      occurredAt: now,
      detail: { eventId, registrationId: Number(row.id), unpaid: true, reason },
      identity: null,
      contactId: Number(row.contact_id),
      dedupeKey: `event:${eventId}:cancel:${row.id}:${row.ticket_key}`,
      ref: { type: 'event', id: String(eventId) },
    });
    this.deps.logger.info('unpaid registration released', { eventId, registrationId: Number(row.id), reason });
    return true;
  }

  /**
   * POST /api/events/:eventId/registrations/pay: the ticket page's 去支付. The registration's open
   * order is prepaid again (payParamsOf: WeChat Pay answers the same prepay_id for the same
   * out_trade_no); when it has none (making it failed at registration) a new one is made.
   */
  async payAgain(p: { eventId: number; token: string; ip: string | null }): Promise<{ ok: true; value: RegistrationPayment } | Refusal> {
    const ipLimited = await this.limitIp(p.ip);
    if (ipLimited) return ipLimited;
    const claims = await this.claimsOf(p.eventId, p.token);
    if (!claims.ok) return claims;
    const [row] = await this.deps.dataSource.query<RegistrationRow[]>(
      'SELECT id, event_id, contact_id, name, phone, status, ticket_key FROM event_registrations WHERE id = ? AND event_id = ?',
      [claims.value.registrationId, p.eventId],
    );
    if (!row || row.ticket_key !== claims.value.key || row.status === 'cancelled')
      return refuse('ticket_revoked', 'The ticket was cancelled');
    return this.prepayRegistration(row, null);
  }

  /**
   * POST /api/mp/events/:eventId/registrations/pay: the mini-program's 去支付, for the session's
   * own registration of the event (its contact's, as ticketsOf finds it), paid in the
   * mini-program: an open order of the mini-program's appid is prepaid again, else a new one is
   * made for the session's openid (an H5 page's order cannot open the mini-program's pay sheet).
   */
  async payAgainAs(p: { eventId: number; payer: Payer; ip: string | null }): Promise<{ ok: true; value: RegistrationPayment } | Refusal> {
    const ipLimited = await this.limitIp(p.ip);
    if (ipLimited) return ipLimited;
    const [row] = await this.deps.dataSource.query<RegistrationRow[]>(
      'SELECT id, event_id, contact_id, name, phone, status, ticket_key FROM event_registrations ' +
        "WHERE event_id = ? AND contact_id = ? AND status <> 'cancelled' ORDER BY id DESC LIMIT 1",
      [p.eventId, p.payer.contactId],
    );
    if (!row) return refuse('registration_not_found', 'You have no registration for this event');
    return this.prepayRegistration(row, p.payer);
  }

  /** An unpaid registration's order prepaid (again) for its payer; `payer` null: the H5 page's, by the registration's contact. */
  private async prepayRegistration(row: RegistrationRow, given: Payer | null): Promise<{ ok: true; value: RegistrationPayment } | Refusal> {
    if (row.status !== 'unpaid') return refuse('already_purchased', 'The ticket is paid already');
    const payments = this.deps.payments;
    const event = await this.deps.events.readEvent(this.deps.dataSource.manager, Number(row.event_id));
    if (!payments || !event || event.ticketPriceFen === null) return refuse('pay_not_configured', 'WeChat Pay is not configured');
    const ref = { type: REGISTRATION_REF_TYPE, id: String(row.id) };
    try {
      const orderId = await payments.openOrderFor(ref, given?.appId);
      if (orderId !== null) return { ok: true, value: { orderId, payParams: await payments.payParamsOf(orderId) } };
      const payer = given ?? (await payments.payerOf(Number(row.contact_id)));
      if (!payer) return refuse('wechat_required', 'Open this page in WeChat to pay');
      return { ok: true, value: await this.orderFor(event, Number(row.id), payer) };
    } catch (error) {
      this.deps.logger.error('order of a paid registration failed', {
        registrationId: Number(row.id),
        error: error instanceof Error ? error.message : String(error),
      });
      return refuse('pay_order_failed', 'The payment could not be started: try again');
    }
  }

  /** GET /api/events/:eventId/tickets/:token: what the ticket page shows. */
  async ticketStatus(p: { eventId: number; token: string }): Promise<
    | {
        ok: true;
        value: {
          status: 'valid' | 'revoked' | 'checked_in' | 'waitlisted' | 'unpaid';
          eventName: string;
          name: string;
          startsAt: string;
          /** The event's ticket price in fen (null: free), for the 去支付 button of an unpaid ticket. */
          ticketPriceFen: number | null;
        };
      }
    | Refusal
  > {
    const claims = await this.claimsOf(p.eventId, p.token);
    if (!claims.ok) return claims;
    const [row] = await this.deps.dataSource.query<
      (RegistrationRow & {
        event_name: string;
        starts_at: unknown;
        ticket_price_fen: number | string | null;
        checked_in: number | string | null;
      })[]
    >(
      'SELECT r.id, r.status, r.name, r.ticket_key, e.name AS event_name, e.starts_at, e.ticket_price_fen, c.id AS checked_in FROM event_registrations r ' +
        'JOIN events e ON e.id = r.event_id LEFT JOIN event_checkins c ON c.registration_id = r.id WHERE r.id = ? AND r.event_id = ?',
      [claims.value.registrationId, p.eventId],
    );
    if (!row || row.ticket_key !== claims.value.key) return refuse('invalid_ticket', 'Not a ticket of this event');
    const status =
      row.checked_in !== null
        ? 'checked_in'
        : row.status === 'cancelled'
          ? 'revoked'
          : row.status === 'waitlisted' || row.status === 'unpaid'
            ? row.status
            : 'valid';
    return {
      ok: true,
      value: {
        status,
        eventName: row.event_name,
        name: row.name,
        startsAt: fromSqlDate(row.starts_at).toISOString(),
        ticketPriceFen: row.ticket_price_fen === null ? null : Number(row.ticket_price_fen),
      },
    };
  }

  /** The ticket's QR code (the token itself, which the scanner posts). Only for a well-signed token of this event. */
  async ticketQr(p: { eventId: number; token: string }): Promise<{ ok: true; value: Buffer } | Refusal> {
    const claims = await this.claimsOf(p.eventId, p.token);
    if (!claims.ok) return claims;
    return { ok: true, value: await QRCode.toBuffer(p.token, QR_OPTIONS) };
  }

  /**
   * POST sms-codes: a 6-digit code sent through the outbox's SMS channel (transactional), only its
   * HMAC kept. The contact is found or created by the phone (the SMS driver sends to
   * contacts.phone, which is set when empty). Sending again replaces the code.
   */
  async sendSmsCode(p: { eventId: number; phone: unknown; ip: string | null }): Promise<{ ok: true; value: null } | Refusal> {
    const ipLimited = await this.limitIp(p.ip);
    if (ipLimited) return ipLimited;
    const event = await this.deps.events.readEvent(this.deps.dataSource.manager, p.eventId);
    if (!event) return refuse('event_not_found', 'No such event');
    if (!event.smsVerification || this.deps.smsCodeTemplateId === null)
      return refuse('sms_verification_off', 'This event does not verify phones by SMS');
    const phone = typeof p.phone === 'string' ? normalizeChineseMobile(p.phone) : null;
    if (!phone) return refuse('validation_failed', 'Not a mobile number', { fields: { phone: '请填写正确的手机号' } });
    const phoneLimited = await this.limitPhone(phone);
    if (phoneLimited) return phoneLimited;
    const status = eventStatus(event, this.deps.clock.now());
    if (status === 'closed' || status === 'ended') return refuse('registration_closed', `Registration is ${status}`);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const secret = await this.deps.ticketSecret();
    const now = this.deps.clock.now();
    const templateId = this.deps.smsCodeTemplateId;
    await this.deps.transactor.runRetrying(async (m) => {
      const upsert = isMysqlManager(m)
        ? 'INSERT INTO event_sms_codes (event_id, phone, code_hash, attempts, expires_at, sent_at) VALUES (?, ?, ?, 0, ?, ?) ' +
          'ON DUPLICATE KEY UPDATE code_hash = VALUES(code_hash), attempts = 0, expires_at = VALUES(expires_at), sent_at = VALUES(sent_at)'
        : 'INSERT INTO event_sms_codes (event_id, phone, code_hash, attempts, expires_at, sent_at) VALUES (?, ?, ?, 0, ?, ?) ' +
          'ON CONFLICT (event_id, phone) DO UPDATE SET code_hash = excluded.code_hash, attempts = 0, expires_at = excluded.expires_at, sent_at = excluded.sent_at';
      await m.query(upsert, [
        event.id,
        phone,
        codeHash(secret, event.id, phone, code),
        toSqlDate(new Date(now.getTime() + SMS_CODE_TTL_MS)),
        toSqlDate(now),
      ]);
      const contactId = await this.contactFor(m, { phone, name: null, identity: null });
      await this.deps.outbox.enqueue({
        manager: m,
        drafts: [
          {
            dedupeKey: `event:${event.id}:sms_code:${phone}:${now.getTime()}`,
            contactId,
            channel: 'sms',
            purpose: 'transactional',
            source: { type: 'event', id: String(event.id) },
            payload: { templateId, params: [code] },
          },
        ],
      });
    });
    this.deps.onQueued?.();
    this.deps.logger.info('event sms code queued', { eventId: event.id, phone: maskPersonalData(phone) });
    return { ok: true, value: null };
  }

  /**
   * A contact's tickets (the mini-program's 我的门票): every registration not cancelled, the newest
   * event first, with its signed ticket and the state the ticket page would show. At most 100;
   * `eventId`: that event's only (one person, one registration per phone: usually one).
   */
  async ticketsOf(contactId: number, options: { eventId?: number } = {}): Promise<ContactTicket[]> {
    const rows = await this.deps.dataSource.query<
      {
        id: number | string;
        event_id: number | string;
        status: RegistrationRow['status'];
        name: string;
        ticket_key: string;
        event_name: string;
        venue: unknown;
        starts_at: unknown;
        ends_at: unknown;
        gate: string | null;
        checked_in_at: unknown;
        benefit: unknown;
      }[]
    >(
      'SELECT r.id, r.event_id, r.status, r.name, r.ticket_key, e.name AS event_name, e.venue, e.starts_at, e.ends_at, ' +
        'c.gate, c.checked_in_at, c.benefit ' +
        'FROM event_registrations r JOIN events e ON e.id = r.event_id LEFT JOIN event_checkins c ON c.registration_id = r.id ' +
        `WHERE r.contact_id = ? AND r.status <> 'cancelled'${options.eventId === undefined ? '' : ' AND r.event_id = ?'} ` +
        'ORDER BY e.starts_at DESC, r.id DESC LIMIT 100',
      options.eventId === undefined ? [contactId] : [contactId, options.eventId],
    );
    return Promise.all(
      rows.map(async (row) => ({
        registrationId: Number(row.id),
        eventId: Number(row.event_id),
        eventName: row.event_name,
        venue: parseJson<EventVenue>(row.venue, { address: '' }),
        startsAt: fromSqlDate(row.starts_at).toISOString(),
        endsAt: fromSqlDate(row.ends_at).toISOString(),
        name: row.name,
        status: row.gate !== null ? 'checked_in' : row.status === 'waitlisted' || row.status === 'unpaid' ? row.status : 'valid',
        checkedIn:
          row.gate !== null
            ? {
                gate: row.gate,
                at: fromSqlDate(row.checked_in_at).toISOString(),
                benefit: parseJson<EventBenefit | null>(row.benefit, null),
              }
            : null,
        ticket: await this.ticketOf({ eventId: Number(row.event_id), registrationId: Number(row.id), key: row.ticket_key }),
      })),
    );
  }

  /** The ticket token of a registration (signed now; the same token every time for the same key). */
  async ticketOf(p: { eventId: number; registrationId: number; key: string }): Promise<Ticket> {
    const token = signTicket(await this.deps.ticketSecret(), p);
    return { token, qrImageUrl: `/api/events/${p.eventId}/tickets/${encodeURIComponent(token)}/qr.png` };
  }

  /** A token's claims when its signature holds and it names this event; else invalid_ticket / wrong_event. */
  async claimsOf(eventId: number, token: string): Promise<{ ok: true; value: TicketClaims } | Refusal> {
    const claims = verifyTicket(await this.deps.ticketSecret(), token);
    if (!claims) return refuse('invalid_ticket', 'The ticket is not one of ours (malformed or forged)');
    if (claims.eventId !== eventId) return refuse('wrong_event', 'The ticket is for another event', { eventId: claims.eventId });
    return { ok: true, value: claims };
  }

  private async store(p: {
    event: EventRecord;
    answers: Answers;
    name: string;
    phone: string;
    channelId: number | null;
    visitorId: string | null;
    ip: string | null;
    identity: IdentityRef | null;
    visitorContactId: number | null;
    phoneVerified: boolean;
    source: 'h5' | 'mp';
    /** A paid event's payer (register checked it): the registration is stored unpaid. */
    payer: Payer | null;
  }): Promise<RegisterResult> {
    const key = newTicketKey();
    const now = this.deps.clock.now();
    let outcome: { registrationId: number; status: 'registered' | 'waitlisted' | 'unpaid' } | Refusal;
    try {
      outcome = await this.deps.transactor.run(async (m) => {
        const seated = await takeSeat(m, p.event.id, now);
        if (!seated && !waitlists(p.event)) return refuse('event_full', 'Every seat is taken', { waitlisted: false });
        const status = seatedStatus(p.event, seated);
        const contactId = await this.contactFor(m, { ...p, searchTerms: 'batch' });
        const held = await heldRegistrationOf(m, p.event.id, contactId, null, seated);
        if (held) throw new RolledBack(alreadyRegistered(held));
        // The unique key (event, phone): a second registration of the same person fails here and rolls the seat back.
        const registrationId = await this.insertRegistration(m, {
          eventId: p.event.id,
          contactId,
          phone: p.phone,
          name: p.name,
          answers: p.answers,
          status,
          key,
          source: p.source,
          channelId: p.channelId,
          visitorId: p.visitorId,
          ip: p.ip,
          now,
        });
        await this.recordRegistration(m, {
          eventId: p.event.id,
          registrationId,
          contactId,
          status,
          channelId: p.channelId,
          key,
          source: p.source,
        });
        return { registrationId, status };
      });
    } catch (error) {
      if (error instanceof RolledBack) return error.refusal;
      if (!isUniqueViolation(error)) throw error;
      outcome = await this.registerAgain(p, key, now);
    }
    if ('ok' in outcome) return outcome;
    this.deps.onRecorded?.();
    const ticket = await this.ticketOf({ eventId: p.event.id, registrationId: outcome.registrationId, key });
    if (outcome.status === 'unpaid' && p.payer) {
      const registrationId = outcome.registrationId;
      try {
        const payment = await this.orderFor(p.event, registrationId, p.payer);
        return { ok: true, value: { registrationId, status: 'unpaid', ticket, payment } };
      } catch (error) {
        // The registration stays unpaid, holding its seat until the pay window passes (then it is
        // released); the ticket page's 去支付 asks for an order again.
        this.deps.logger.error('order of a paid registration failed', {
          registrationId,
          error: error instanceof Error ? error.message : String(error),
        });
        return refuse('pay_order_failed', 'The payment could not be started: try again from the ticket page', { registrationId, ticket });
      }
    }
    if (outcome.status === 'waitlisted') {
      // Its place in the line: those queued before it, or at the same moment with a lower id.
      const [position] = await this.deps.dataSource.query<{ n: number | string }[]>(
        "SELECT COUNT(*) AS n FROM event_registrations r JOIN event_registrations mine ON mine.id = ? WHERE r.event_id = ? AND r.status = 'waitlisted' " +
          'AND (r.queued_at < mine.queued_at OR (r.queued_at = mine.queued_at AND r.id <= mine.id))',
        [outcome.registrationId, p.event.id],
      );
      return refuse('event_full', 'Every seat is taken: the registration is on the waitlist', {
        waitlisted: true,
        position: Number(position?.n ?? 1),
        registrationId: outcome.registrationId,
        ticket,
      });
    }
    return { ok: true, value: { registrationId: outcome.registrationId, status: 'registered', ticket } };
  }

  /** A JSAPI order for a paid registration (after its commit: the order refers to a stored registration). */
  private async orderFor(event: EventRecord, registrationId: number, payer: Payer): Promise<RegistrationPayment> {
    const payments = this.deps.payments;
    if (!payments || event.ticketPriceFen === null) throw new Error('not a paid event');
    const { order, payParams } = await payments.createJsapiOrder({
      contactId: payer.contactId,
      openid: payer.openid,
      appId: payer.appId,
      ref: { type: REGISTRATION_REF_TYPE, id: String(registrationId), amountFen: event.ticketPriceFen, description: `${event.name} 门票` },
    });
    return { orderId: order.id, payParams };
  }

  /**
   * The phone is registered already. A cancelled registration comes back to life (a new ticket,
   * a seat if there is one); any other answers already_registered with its id.
   */
  private async registerAgain(
    p: Parameters<RegistrationsService['store']>[0],
    key: string,
    now: Date,
  ): Promise<{ registrationId: number; status: 'registered' | 'waitlisted' | 'unpaid' } | Refusal> {
    const [existing] = await this.deps.dataSource.query<RegistrationRow[]>(
      'SELECT id, status FROM event_registrations WHERE event_id = ? AND phone = ?',
      [p.event.id, p.phone],
    );
    if (!existing) throw new Error('a duplicate registration that cannot be found');
    const already = refuse('already_registered', 'This phone is registered for the event already', { registrationId: Number(existing.id) });
    if (existing.status !== 'cancelled') return already;
    try {
      return await this.deps.transactor.run(async (m) => {
        const seated = await takeSeat(m, p.event.id, now);
        if (!seated && !waitlists(p.event)) return refuse('event_full', 'Every seat is taken', { waitlisted: false });
        const status = seatedStatus(p.event, seated);
        const contactId = await this.contactFor(m, { ...p, searchTerms: 'batch' });
        const held = await heldRegistrationOf(m, p.event.id, contactId, Number(existing.id), seated);
        if (held) throw new RolledBack(alreadyRegistered(held));
        const revived = await executeCountingRows(
          m,
          'UPDATE event_registrations SET status = ?, contact_id = ?, name = ?, answers = ?, ticket_key = ?, channel_id = ?, visitor_id = ?, consent_at = ?, ' +
            "consent_ip = ?, cancelled_at = NULL, queued_at = ?, updated_at = ? WHERE id = ? AND status = 'cancelled'",
          [
            status,
            contactId,
            p.name.slice(0, 128),
            JSON.stringify(p.answers),
            key,
            p.channelId,
            p.visitorId,
            toSqlDate(now),
            p.ip,
            toSqlDate(now),
            toSqlDate(now),
            existing.id,
          ],
        );
        // Another request revived it first: this one is the duplicate, and its seat goes back.
        if (revived === 0) throw new RolledBack(already);
        await this.recordRegistration(m, {
          eventId: p.event.id,
          registrationId: Number(existing.id),
          contactId,
          status,
          channelId: p.channelId,
          key,
          source: p.source,
        });
        return { registrationId: Number(existing.id), status };
      });
    } catch (error) {
      if (error instanceof RolledBack) return error.refusal;
      throw error;
    }
  }

  private async insertRegistration(
    m: EntityManager,
    r: {
      eventId: number;
      contactId: number;
      phone: string;
      name: string;
      answers: Answers;
      status: 'registered' | 'waitlisted' | 'unpaid';
      key: string;
      source: string;
      channelId: number | null;
      visitorId: string | null;
      ip: string | null;
      now: Date;
    },
  ): Promise<number> {
    const at = toSqlDate(r.now);
    return insertReturningId(
      m,
      'INSERT INTO event_registrations (event_id, contact_id, phone, name, answers, status, ticket_key, source, channel_id, visitor_id, consent_at, ' +
        'consent_ip, cancelled_at, queued_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)',
      [
        r.eventId,
        r.contactId,
        r.phone,
        r.name.slice(0, 128),
        JSON.stringify(r.answers),
        r.status,
        r.key,
        r.source,
        r.channelId,
        r.visitorId,
        at,
        r.ip,
        at,
        at,
        at,
      ],
    );
  }

  private async recordRegistration(
    m: EntityManager,
    r: {
      eventId: number;
      registrationId: number;
      contactId: number;
      status: string;
      channelId: number | null;
      key: string;
      source: string;
    },
  ): Promise<void> {
    await this.deps.interactions.recordInteraction(m, {
      type: 'registration',
      channel: r.source === 'walk_in' ? 'admin' : 'system',
      occurredAt: this.deps.clock.now(),
      // channelId: the channel reaction attributes it like a visit through the channel.
      detail: {
        eventId: r.eventId,
        registrationId: r.registrationId,
        status: r.status,
        source: r.source,
        ...(r.channelId === null ? {} : { channelId: r.channelId }),
      },
      identity: null,
      contactId: r.contactId,
      // The ticket key makes a registration revived after a cancellation a fact of its own.
      dedupeKey: `event:${r.eventId}:registration:${r.registrationId}:${r.key}`,
      ref: { type: 'event', id: String(r.eventId) },
    });
  }

  /**
   * The contact: the web OAuth visitor's when the page has one (see visitorContact), else by the
   * H5 identity, else by the phone identity; created on first sight. Its name and typed phone are
   * filled in when empty (never overwritten: an operator may have written better ones).
   */
  async contactFor(
    m: EntityManager,
    p: {
      phone: string;
      name: string | null;
      identity: IdentityRef | null;
      visitorContactId?: number | null;
      phoneVerified?: boolean;
      /**
       * 'batch': the caller records a `registration` interaction for this contact in the same
       * transaction, and the reactions batch refreshes the search terms (search-terms.reaction.ts).
       */
      searchTerms?: 'batch';
    },
  ): Promise<number> {
    let contactId: number;
    // A phone linked to the visitor here leaves its search terms to the refresh below: one
    // refresh for the link and the name, not two.
    let linked = false;
    if (p.visitorContactId !== undefined && p.visitorContactId !== null) {
      ({ contactId, linked } = await this.visitorContact(m, p.visitorContactId, p.phone, p.phoneVerified === true));
    } else {
      const identity = p.identity ?? { kind: 'phone' as const, appId: '', value: p.phone };
      contactId = (await this.deps.contacts.resolveContact(m, identity)).contactId;
    }
    const changed = await executeCountingRows(
      m,
      'UPDATE contacts SET phone = COALESCE(phone, ?), name = COALESCE(name, ?), updated_at = ? WHERE id = ? AND (phone IS NULL OR (name IS NULL AND ? IS NOT NULL))',
      [p.phone, p.name, toSqlDate(this.deps.clock.now()), contactId, p.name],
    );
    if ((changed > 0 || linked) && p.searchTerms !== 'batch') await refreshSearchTerms(m, [contactId]);
    return contactId;
  }

  /**
   * Inside WeChat the registration belongs to the OAuth visitor (their openid is WeChat's word),
   * and the phone they typed becomes an identity of theirs through ContactsService.attachIdentity.
   * When another contact holds the phone already, the project's merge rules decide: a phone
   * proven by an SMS code (the event verifies phones) is an identity like a unionid, and the link
   * merges the two (the older survives); a number typed by hand never merges two people
   * (docs/ARCHITECTURE.md), so the phone stays with its holder and the registration with the
   * visitor. Returns the contact the registration belongs to (a merge's survivor), and whether the
   * phone was linked (its search terms are the caller's to refresh).
   */
  private async visitorContact(
    m: EntityManager,
    visitorContactId: number,
    phone: string,
    phoneVerified: boolean,
  ): Promise<{ contactId: number; linked: boolean }> {
    const attached = await this.deps.contacts.attachIdentity(
      m,
      visitorContactId,
      { kind: 'phone', appId: '', value: phone },
      { whenHeld: phoneVerified ? 'merge' : 'keep', searchTerms: 'caller' },
    );
    if (attached.keptBy !== null)
      this.deps.logger.info('registration phone held by another contact; not merged (not verified by SMS)', {
        contactId: attached.contactId,
        holder: attached.keptBy,
      });
    return { contactId: attached.contactId, linked: attached.added };
  }

  private async lockRegistration(m: EntityManager, id: number): Promise<RegistrationRow | null> {
    const [row] = await m.query<RegistrationRow[]>(
      `SELECT id, event_id, contact_id, name, phone, status, ticket_key FROM event_registrations WHERE id = ?${isMysqlManager(m) ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return row ?? null;
  }

  /**
   * The seat just given back goes to the first waitlisted registration (by queued_at, the order
   * they came in), in the cancellation's transaction; its ticket, handed out when it was waitlisted,
   * becomes valid. Null when nobody waits (or the seat was taken meanwhile).
   */
  private async promoteFirstWaitlisted(m: EntityManager, eventId: number, now: Date): Promise<number | null> {
    const [first] = await m.query<RegistrationRow[]>(
      `SELECT id, contact_id, name, ticket_key FROM event_registrations WHERE event_id = ? AND status = 'waitlisted' ORDER BY queued_at, id LIMIT 1${
        isMysqlManager(m) ? ' FOR UPDATE' : ''
      }`,
      [eventId],
    );
    if (!first || !(await takeSeat(m, eventId, now))) return null;
    await m.query("UPDATE event_registrations SET status = 'registered', updated_at = ? WHERE id = ? AND status = 'waitlisted'", [
      toSqlDate(now),
      first.id,
    ]);
    await this.deps.interactions.recordInteraction(m, {
      type: 'registration',
      channel: 'system',
      occurredAt: now,
      detail: { eventId, registrationId: Number(first.id), status: 'registered', promoted: true },
      identity: null,
      contactId: Number(first.contact_id),
      dedupeKey: `event:${eventId}:promoted:${first.id}:${first.ticket_key}`,
      ref: { type: 'event', id: String(eventId) },
    });
    await this.notifyPromoted(m, eventId, {
      id: Number(first.id),
      contactId: Number(first.contact_id),
      name: first.name,
      key: first.ticket_key,
    });
    return Number(first.id);
  }

  /**
   * Tells the promoted person they have a seat, in the promotion's transaction, through the outbox
   * (`event-promoted:<registration>`: one message however often the cancellation is retried), by
   * the channel every exhibition send takes, with their ticket's link (the ticket they were given
   * on the waitlist, valid now).
   */
  private async notifyPromoted(
    m: EntityManager,
    eventId: number,
    r: { id: number; contactId: number; name: string; key: string },
  ): Promise<void> {
    const notices = this.deps.notices;
    if (!notices) return;
    const event = await this.deps.events.readEvent(m, eventId);
    if (!event) return;
    const c = notices.config;
    const { token } = await this.ticketOf({ eventId, registrationId: r.id, key: r.key });
    const ticketUrl = `${c.publicBaseUrl.replace(/\/+$/, '')}/e/${eventId}/ticket/${encodeURIComponent(token)}`;
    const when = startText(event.startsAt, c.timezone);
    const venue = event.venue.name ?? event.venue.address;
    const payloadOf = (channel: ExhibitionChannel): Record<string, unknown> => {
      const data = wrap({ thing1: cut(event.name), time2: when, thing3: cut(venue), thing4: '候补成功，凭电子票入场' });
      switch (channel) {
        case 'mp_subscribe':
          return { template_id: c.mpTemplateId, page: MP_PAGES.tickets(), data };
        case 'oa_template':
          return { template_id: c.oaTemplateId, url: ticketUrl, data };
        case 'sms':
          // The exhibition SMS template ("{1}，您关注的活动即将开始：{2}"): the person, then the news and the ticket.
          return { templateId: c.smsTemplateId, params: [cut(r.name, 12), `${event.name} ${when} 候补成功，电子票：${ticketUrl}`] };
      }
    };
    await enqueueExhibitionSends(m, { outbox: this.deps.outbox, consents: notices.consents, config: c }, [
      { dedupeKey: `event-promoted:${r.id}`, contactId: r.contactId, eventId, payloadOf },
    ]);
  }

  private async refund(registrationId: number, actor: AuditActor | null): Promise<void> {
    if (!this.deps.refundFor) return;
    try {
      await this.deps.refundFor({
        ref: { type: REGISTRATION_REF_TYPE, id: String(registrationId) },
        actor: actor ?? { operatorId: null, ip: null },
        reason: '活动报名已取消',
      });
    } catch (error) {
      // The order stays refunding with its error shown on the orders screen, where it can be asked again.
      this.deps.logger.error('refund of a cancelled registration failed', {
        registrationId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** A wrong code costs a try (committed on its own); the right one is used up by the registration. */
  private async checkSmsCode(eventId: number, phone: string, code: string | null): Promise<Refusal | null> {
    const invalid = refuse('sms_code_invalid', 'The SMS code is wrong or expired');
    const [row] = await this.deps.dataSource.query<{ code_hash: string; attempts: number | string; expires_at: unknown }[]>(
      'SELECT code_hash, attempts, expires_at FROM event_sms_codes WHERE event_id = ? AND phone = ?',
      [eventId, phone],
    );
    if (!row || code === null || !/^\d{6}$/.test(code)) return invalid;
    const expired = fromSqlDate(row.expires_at).getTime() <= this.deps.clock.now().getTime();
    if (Number(row.attempts) >= SMS_CODE_MAX_ATTEMPTS || expired) return invalid;
    const expected = Buffer.from(row.code_hash, 'utf8');
    const given = Buffer.from(codeHash(await this.deps.ticketSecret(), eventId, phone, code), 'utf8');
    if (expected.length === given.length && timingSafeEqual(expected, given)) {
      await this.deps.dataSource.query('DELETE FROM event_sms_codes WHERE event_id = ? AND phone = ?', [eventId, phone]);
      return null;
    }
    await this.deps.dataSource.query('UPDATE event_sms_codes SET attempts = attempts + 1 WHERE event_id = ? AND phone = ?', [
      eventId,
      phone,
    ]);
    return invalid;
  }

  private async limit(key: string, max: number): Promise<Refusal | null> {
    const reserved = await this.deps.throttle.countInWindow(key, { max, windowMs: this.deps.rateLimits.windowMs });
    if (reserved.ok) return null;
    return refuse('rate_limited', 'Too many requests: try again later', { retryAfterSeconds: Math.ceil(reserved.retryAfterMs / 1000) });
  }
}

/**
 * A code's HMAC under the tickets' key: six digits hashed plainly would be found by trying the
 * million of them against a leaked row.
 */
function codeHash(secret: Buffer, eventId: number, phone: string, code: string): string {
  return createHmac('sha256', secret).update(`sms:${eventId}:${phone}:${code}`).digest('hex');
}

/** A paid event keeps no waitlist (the admin form refuses one; older rows are read the same way). */
function waitlists(event: EventRecord): boolean {
  return event.waitlist && event.ticketPriceFen === null;
}

/** A seat taken: registered, or unpaid until its order is paid (a paid event); no seat: waitlisted. */
function seatedStatus(event: EventRecord, seated: boolean): 'registered' | 'unpaid' | 'waitlisted' {
  if (!seated) return 'waitlisted';
  return event.ticketPriceFen === null ? 'registered' : 'unpaid';
}

async function giveSeatBack(m: EntityManager, eventId: number, now: Date): Promise<void> {
  await m.query('UPDATE events SET registered = registered - 1, updated_at = ? WHERE id = ? AND registered > 0', [toSqlDate(now), eventId]);
}

/**
 * One registration per person per event, by contact as well as by phone: an OAuth-identified or
 * mini-program visitor typing a second phone is still one person, and must not hold two seats or
 * be counted twice. Race-safe by a lock, not a unique key: a cancelled registration keeps its row
 * (it comes back to life on registering again), so (event, contact) cannot be unique over every
 * row, and a key over "not cancelled" rows needs a generated column the two databases write
 * differently. The event's row is locked instead (MySQL: takeSeat's UPDATE holds the row's lock
 * when it took a seat, `seated`; else FOR UPDATE here, since an UPDATE that matched nothing may
 * keep no lock (READ COMMITTED's semi-consistent read); SQLite: the transaction's first write
 * already made it the only writer), so two registrations of one event are checked and inserted
 * one at a time. The phone's unique key (event, phone) still answers a second registration of the
 * same phone.
 */
async function heldRegistrationOf(
  m: EntityManager,
  eventId: number,
  contactId: number,
  exceptId: number | null,
  seated: boolean,
): Promise<{ id: number; status: RegistrationRow['status'] } | null> {
  if (!seated && isMysqlManager(m)) await m.query('SELECT id FROM events WHERE id = ? FOR UPDATE', [eventId]);
  const [held] = await m.query<{ id: number | string; status: RegistrationRow['status'] }[]>(
    "SELECT id, status FROM event_registrations WHERE event_id = ? AND contact_id = ? AND status <> 'cancelled' AND id <> ? LIMIT 1",
    [eventId, contactId, exceptId ?? 0],
  );
  return held ? { id: Number(held.id), status: held.status } : null;
}

function alreadyRegistered(held: { id: number; status: RegistrationRow['status'] }): Refusal {
  return held.status === 'unpaid'
    ? refuse('already_registered', 'You hold an unpaid registration for this event: pay or cancel it first', { registrationId: held.id })
    : refuse('already_registered', 'You are registered for this event already', { registrationId: held.id });
}
