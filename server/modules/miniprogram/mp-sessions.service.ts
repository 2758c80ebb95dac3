import { createHash, randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import { maskPersonalData, type Logger } from '../../adapters/logger';
import type { MiniProgramPhone, MiniProgramSession } from '../../adapters/miniprogram.client';
import { PlatformApiError, PlatformTransportError } from '../../adapters/platform-error';
import { executeCountingRows, fromSqlDate, insertReturningId, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { ContactsService } from '../contacts/contacts.service';
import { refreshSearchTerms } from '../contacts/search-terms';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import type { Reservation } from '../operators/login-throttle';
import type { SubscribeConsentService } from '../subscribe-consent/subscribe-consent.service';
import { refuseMp, type MpRefusal, type MpResult } from './mp-refusal';
import { sealSessionKey } from './session-key-cipher';

/**
 * The mini-program's sessions (issue 17 §2): wx.login's code → code2Session (through the adapter)
 * → the user's contact, found or created by the `mp_openid` identity as the visitors' web OAuth
 * finds an `oa_openid` one (ContactsService.resolveContact), and linked to the person's other
 * identities by the unionid when WeChat gives one (ContactsService.linkIdentity, which merges two
 * contacts holding it, as the Official Account profile reaction does). The answer is an opaque
 * bearer token; only its SHA-256 is stored. WeChat's session_key is kept encrypted and never
 * answered or logged.
 */

export interface MpSessionsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  /** The business clock: when the interactions happened. */
  clock: Clock;
  /** The operators' clock, for session expiry: a skip of the sandbox's business clock must not sign anyone out. */
  sessionClock: Clock;
  logger: Logger;
  appId: string;
  client: { code2Session(code: string): Promise<MiniProgramSession>; getPhoneNumber(code: string): Promise<MiniProgramPhone> };
  contacts: Pick<ContactsService, 'resolveContact' | 'linkIdentity'>;
  interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
  /** Encrypts the stored session_key (loaded once: stored-secret.ts). */
  sessionKeySecret: () => Promise<Buffer>;
  sessionTtlSeconds: number;
  /** LoginThrottleStore: countInWindow, the atomic fixed window (every call passes the IP's one row). */
  throttle: { countInWindow(key: string, limit: { max: number; windowMs: number }): Promise<Reservation> };
  rateLimits: { perSession: number; perIp: number; windowMs: number };
  /** The mini-program's subscribe-message reports (subscribe-consent); absent: reports are dropped. */
  consents?: Pick<SubscribeConsentService, 'recordMiniProgramConsent'>;
  /** After an interaction is committed: the reactions run. */
  onRecorded?: () => void;
}

/** Who is calling: the session's row, its contact followed to a merge's survivor. */
export interface MpCaller {
  sessionId: number;
  contactId: number;
  openid: string;
  unionid: string | null;
  appId: string;
}

export interface MpLogin {
  token: string;
  expiresAt: string;
  /** The mini-program user was new to Flywheel (their contact was made by this login). */
  created: boolean;
}

export interface MpPhone {
  /** E.164, as the contact's phone identity holds it (`+8613800138000`). */
  phone: string;
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

/** The session token: 256 random bits, unguessable; the database keeps only its SHA-256. */
const TOKEN_BYTES = 32;
/** 40029: the code is wrong or expired; 40163: used already; 40226: a user WeChat's risk control blocks ("高风险等级用户"). */
const ERRCODE_INVALID_CODE = 40029;
const ERRCODE_CODE_USED = 40163;
const ERRCODE_BLOCKED_USER = 40226;

export function hashMpToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class MpSessionsService {
  constructor(private readonly deps: MpSessionsServiceDeps) {}

  get appId(): string {
    return this.deps.appId;
  }

  /** POST /api/mp/login: the code exchanged, the contact found or created, a session opened and recorded (`mp_login`). */
  async login(p: { code: string; ip: string | null }): Promise<MpResult<MpLogin>> {
    const ipLimited = await this.limitIp(p.ip);
    if (ipLimited) return ipLimited;
    let session: MiniProgramSession;
    try {
      session = await this.deps.client.code2Session(p.code);
    } catch (error) {
      return this.platformRefusal(error, 'code2Session', {
        [ERRCODE_INVALID_CODE]: refuseMp('mp_code_invalid', 'The wx.login code is wrong or expired', { errcode: ERRCODE_INVALID_CODE }),
        [ERRCODE_CODE_USED]: refuseMp('mp_code_used', 'The wx.login code was used already', { errcode: ERRCODE_CODE_USED }),
        [ERRCODE_BLOCKED_USER]: refuseMp('mp_user_blocked', 'WeChat refuses this user (risk control)', { errcode: ERRCODE_BLOCKED_USER }),
      });
    }
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const tokenHash = hashMpToken(token);
    const sealed = sealSessionKey(await this.deps.sessionKeySecret(), session.sessionKey);
    const now = this.deps.sessionClock.now();
    const expiresAt = new Date(now.getTime() + this.deps.sessionTtlSeconds * 1000);
    // Two first logins of one user at once may both create the contact: the loser's unique key
    // rolls it back and the retry finds the winner's (as the visitors' web OAuth does).
    const created = await this.deps.transactor.runRetrying(async (m) => {
      const resolved = await this.deps.contacts.resolveContact(m, { kind: 'mp_openid', appId: this.deps.appId, value: session.openid });
      let contactId = resolved.contactId;
      // The unionid is WeChat's word that these are one person: the contact is linked to (or merged
      // with) whoever holds it already, a follower of the Official Account or a WeCom customer.
      if (session.unionid !== null)
        contactId = await this.deps.contacts.linkIdentity(m, contactId, { kind: 'unionid', appId: '', value: session.unionid });
      const sessionId = await insertReturningId(
        m,
        'INSERT INTO mp_sessions (token_hash, contact_id, app_id, openid, unionid, session_key, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [tokenHash, contactId, this.deps.appId, session.openid, session.unionid, sealed, toSqlDate(now), toSqlDate(expiresAt)],
      );
      await this.deps.interactions.recordInteraction(m, {
        type: 'mp_login',
        channel: 'mp',
        occurredAt: this.deps.clock.now(),
        detail: { newUser: resolved.created },
        identity: null,
        contactId,
        dedupeKey: `mp:login:${sessionId}`,
        ref: null,
      });
      return resolved.created;
    });
    this.deps.onRecorded?.();
    return { ok: true, value: { token, expiresAt: expiresAt.toISOString(), created } };
  }

  /**
   * The bearer token's session, or why not: no such token (never issued, forged, or from another
   * install) or past its expiry. The contact is followed one merge hop (a unionid merged it since the
   * login); recordInteraction follows the whole chain on its own.
   */
  async authenticate(token: string): Promise<MpResult<MpCaller>> {
    const [row] = await this.deps.dataSource.query<
      {
        id: number | string;
        contact_id: number | string;
        merged_into_id: number | string | null;
        openid: string;
        unionid: string | null;
        expires_at: unknown;
      }[]
    >(
      'SELECT s.id, s.contact_id, c.merged_into_id, s.openid, s.unionid, s.expires_at FROM mp_sessions s ' +
        'LEFT JOIN contacts c ON c.id = s.contact_id WHERE s.token_hash = ? AND s.app_id = ?',
      [hashMpToken(token), this.deps.appId],
    );
    if (!row) return refuseMp('mp_session_required', 'Log in with wx.login and POST /api/mp/login first');
    if (fromSqlDate(row.expires_at).getTime() <= this.deps.sessionClock.now().getTime())
      return refuseMp('mp_session_expired', 'The session expired: log in again');
    return {
      ok: true,
      value: {
        sessionId: Number(row.id),
        contactId: Number(row.merged_into_id ?? row.contact_id),
        openid: row.openid,
        unionid: row.unionid,
        appId: this.deps.appId,
      },
    };
  }

  /**
   * Every /api/mp call counts against its client IP, then (with a session) against the session, in
   * login_throttles (LoginThrottleStore, the public exhibition API's store), so every instance shares
   * the counts. countInWindow, not the compare-and-set reserveInWindow: every call of every phone
   * behind one venue's IP passes that IP's row. A call refused by the IP does not count against the session.
   */
  async limit(p: { ip: string | null; sessionId: number | null }): Promise<MpRefusal | null> {
    const ipLimited = await this.limitIp(p.ip);
    if (ipLimited || p.sessionId === null) return ipLimited;
    return this.reserve(`mp:session:${p.sessionId}`, this.deps.rateLimits.perSession);
  }

  /**
   * POST /api/mp/phone: getPhoneNumber's code exchanged on the server; the number becomes the
   * contact's phone identity. WeChat verified it (it is the number bound to the WeChat account), so
   * it links like a phone proven by an SMS code: a contact holding it already (a registration by
   * that number, an imported lead) is merged with this one, the older surviving.
   */
  async bindPhone(p: { caller: MpCaller; code: string }): Promise<MpResult<MpPhone>> {
    let answer: MiniProgramPhone;
    try {
      answer = await this.deps.client.getPhoneNumber(p.code);
    } catch (error) {
      return this.platformRefusal(error, 'getuserphonenumber', {
        [ERRCODE_INVALID_CODE]: refuseMp('mp_phone_code_invalid', 'The getPhoneNumber code is wrong, used or expired', {
          errcode: ERRCODE_INVALID_CODE,
        }),
      });
    }
    const phone = `+${answer.countryCode.replace(/^\+/, '')}${answer.purePhoneNumber}`;
    const now = this.deps.clock.now();
    await this.deps.transactor.runRetrying(async (m) => {
      const contactId = await this.deps.contacts.linkIdentity(m, p.caller.contactId, { kind: 'phone', appId: '', value: phone });
      const changed = await executeCountingRows(m, 'UPDATE contacts SET phone = ?, updated_at = ? WHERE id = ? AND phone IS NULL', [
        phone,
        toSqlDate(now),
        contactId,
      ]);
      if (changed > 0) await refreshSearchTerms(m, [contactId]);
      await this.deps.interactions.recordInteraction(m, {
        type: 'mp_phone',
        channel: 'mp',
        occurredAt: now,
        detail: { countryCode: answer.countryCode },
        identity: null,
        contactId,
        // One per number per session: a second tap with the same number is the same fact.
        dedupeKey: `mp:phone:${p.caller.sessionId}:${createHash('sha256').update(phone).digest('hex').slice(0, 32)}`,
        ref: null,
      });
    });
    this.deps.onRecorded?.();
    this.deps.logger.info('mini-program phone bound', { contactId: p.caller.contactId, phone: maskPersonalData(phone) });
    return { ok: true, value: { phone, ...answer } };
  }

  /**
   * POST /api/mp/subscribe-consent: wx.requestSubscribeMessage's result applied to the contact's
   * grants (SubscribeConsentService.recordMiniProgramConsent) with an `mp_subscribe_consent`
   * interaction, in one transaction. `reportKey` (the mini-program's id for this report) makes a
   * re-sent report change nothing; without it each call is a new answer.
   */
  async recordSubscribeConsent(p: {
    caller: MpCaller;
    result: Record<string, string>;
    reportKey: string | null;
  }): Promise<{ applied: number }> {
    const consents = this.deps.consents;
    if (!consents) return { applied: 0 };
    const now = this.deps.clock.now();
    const key = p.reportKey ?? `${now.getTime()}:${randomBytes(6).toString('hex')}`;
    const accepted = Object.entries(p.result)
      .filter(([templateId, answer]) => templateId !== 'errMsg' && answer === 'accept')
      .map(([templateId]) => templateId);
    const answered = Object.keys(p.result).filter((templateId) => templateId !== 'errMsg');
    const outcome = await this.deps.transactor.runRetrying(async (m) => {
      const applied = await consents.recordMiniProgramConsent(p.caller.contactId, this.deps.appId, p.result, {
        reportKey: key,
        manager: m,
      });
      if (answered.length === 0) return applied;
      await this.deps.interactions.recordInteraction(m, {
        type: 'mp_subscribe_consent',
        channel: 'mp',
        occurredAt: now,
        detail: { accepted, templateIds: answered },
        identity: null,
        contactId: p.caller.contactId,
        dedupeKey: `mp:consent:${p.caller.contactId}:${key}`.slice(0, 191),
        ref: null,
      });
      return applied;
    });
    if (answered.length > 0) this.deps.onRecorded?.();
    return outcome;
  }

  /** GET /api/mp/me: whether the contact has a phone identity (the registration form can skip asking). */
  async hasPhone(caller: MpCaller): Promise<boolean> {
    const rows = await this.deps.dataSource.query<{ id: number }[]>(
      "SELECT id FROM contact_identities WHERE contact_id = ? AND kind = 'phone' LIMIT 1",
      [caller.contactId],
    );
    return rows.length > 0;
  }

  /** Housekeeping: sessions past their expiry are deleted. */
  async pruneExpired(): Promise<number> {
    return executeCountingRows(this.deps.dataSource.manager, 'DELETE FROM mp_sessions WHERE expires_at < ?', [
      toSqlDate(this.deps.sessionClock.now()),
    ]);
  }

  private async limitIp(ip: string | null): Promise<MpRefusal | null> {
    return this.reserve(`mp:ip:${(ip ?? 'unknown').slice(0, 64)}`, this.deps.rateLimits.perIp);
  }

  private async reserve(key: string, max: number): Promise<MpRefusal | null> {
    const reserved = await this.deps.throttle.countInWindow(key, { max, windowMs: this.deps.rateLimits.windowMs });
    if (reserved.ok) return null;
    return refuseMp('rate_limited', 'Too many requests: try again later', { retryAfterSeconds: Math.ceil(reserved.retryAfterMs / 1000) });
  }

  /**
   * WeChat's refusals the user can act on are answers (a new wx.login, another tap); anything else
   * is 502 `platform_refused` with the errcode. Never the error's text: it is logged without the
   * request (platform-http logs no URL, body or answer, so neither the code nor a session_key).
   */
  private platformRefusal(error: unknown, api: string, known: Record<number, MpRefusal>): MpRefusal {
    if (error instanceof PlatformApiError) {
      const answer = known[error.errcode];
      if (answer) return answer;
      this.deps.logger.warn(`mini-program ${api} refused`, { errcode: error.errcode });
      return refuseMp('platform_refused', `WeChat refused ${api}`, { errcode: error.errcode });
    }
    if (error instanceof PlatformTransportError) {
      this.deps.logger.warn(`mini-program ${api} failed`, { failure: error.failure });
      return refuseMp('platform_refused', `WeChat did not answer ${api}`, { errcode: null });
    }
    throw error;
  }
}
