import { loadStoredSecret } from '../../db/stored-secret';
import type { DataSource } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import type { WebOauthIdentity } from '../../adapters/official-account.client';
import { PlatformApiError, PlatformTransportError } from '../../adapters/platform-error';
import type { Transactor } from '../../db/transaction';
import { buildAuthorizeUrl } from '../../wechat/web-oauth';
import type { ContactsService } from '../contacts/contacts.service';
import {
  newOauthNonce,
  OAUTH_NONCE_PATTERN,
  returnPathOf,
  signOauthState,
  signVisitorCookie,
  verifyOauthState,
  verifyVisitorCookie,
  type StateCheck,
} from './visitor-tokens';

/** "40029 invalid code": never issued, for another appid, or past its 5 minutes. */
const ERRCODE_INVALID_CODE = 40029;
/** "40163 code been used": a code is exchanged once. */
const ERRCODE_CODE_USED = 40163;

export interface VisitorsServiceDeps {
  transactor: Transactor;
  contacts: ContactsService;
  clock: Clock;
  logger: Logger;
  /** The key of the state and the cookie (loadVisitorSecret). */
  secret: () => Promise<Buffer>;
  /** null: no Official Account is configured, so nobody is identified through it. */
  oauth: {
    appId: string;
    /** open.weixin.qq.com, or the sandbox's authorize page. */
    authorizeBase: string;
    /** The site's public origin: redirect_uri is built on it (the account's 网页授权域名). */
    publicBaseUrl: string;
    exchangeCode: (code: string) => Promise<WebOauthIdentity>;
  } | null;
  cookieMaxAgeSeconds: number;
}

export type IdentifyOutcome =
  | { kind: 'identified'; contactId: number; created: boolean; cookie: string }
  /** 40029: the code was never issued, or expired. */
  | { kind: 'code_invalid' }
  /** 40163: the code was exchanged before (a reload of the return URL, a shared one). */
  | { kind: 'code_used' }
  /** A visitor on a Moments snapshot page: its openid is a virtual one, so no contact is made. */
  | { kind: 'snapshot_user' }
  /** WeChat refused otherwise, or did not answer: the page is served without an identity. */
  | { kind: 'platform_unavailable'; message: string };

/**
 * Who is visiting a public H5 page (/e, /c), identified inside WeChat by the Official Account's
 * web OAuth (snsapi_base: silent, an openid) and remembered by a signed cookie. The HTTP half
 * (redirects, cookies, the error page) is server/http/visitor.middleware.ts.
 */
export class VisitorsService {
  constructor(private readonly deps: VisitorsServiceDeps) {}

  /** Whether web OAuth can identify anyone here (an Official Account is configured). */
  get enabled(): boolean {
    return this.deps.oauth !== null;
  }

  /** The contact a visitor cookie names, or null (absent, forged, expired). */
  async readVisitorCookie(value: string | null): Promise<number | null> {
    if (!value) return null;
    return verifyVisitorCookie({
      secret: await this.deps.secret(),
      value,
      nowSeconds: this.nowSeconds(),
      maxAgeSeconds: this.deps.cookieMaxAgeSeconds,
    });
  }

  /**
   * Where to send a visitor inside WeChat who has no cookie: the authorize page, with a state
   * signed over the page (`url`, the request's path and query) and the browser's nonce (its
   * cookie's, or a new one for the caller to set).
   */
  async startAuthorization(p: { url: string; nonce: string | null; attempt: number }): Promise<{ location: string; nonce: string }> {
    const oauth = this.requireOauth();
    const returnPath = returnPathOf(p.url);
    const nonce = p.nonce !== null && OAUTH_NONCE_PATTERN.test(p.nonce) ? p.nonce : newOauthNonce();
    const state = signOauthState({
      secret: await this.deps.secret(),
      returnPath,
      nonce,
      attempt: p.attempt,
      nowSeconds: this.nowSeconds(),
    });
    const location = buildAuthorizeUrl({
      base: oauth.authorizeBase,
      appId: oauth.appId,
      redirectUri: `${oauth.publicBaseUrl}${returnPath}`,
      state,
    });
    return { location, nonce };
  }

  /** The state WeChat brought back on `url`, checked against the page and the browser's nonce. */
  async checkReturn(p: { url: string; state: string; nonce: string | null }): Promise<StateCheck> {
    return verifyOauthState({
      secret: await this.deps.secret(),
      state: p.state,
      returnPath: returnPathOf(p.url),
      nonce: p.nonce,
      nowSeconds: this.nowSeconds(),
    });
  }

  /**
   * Exchanges the code for the openid and finds or creates its contact (an `oa_openid`
   * identity of this account), then signs the cookie that names it. The platform's refusals are
   * outcomes, never thrown.
   */
  async identifyByCode(code: string): Promise<IdentifyOutcome> {
    const oauth = this.requireOauth();
    let identity: WebOauthIdentity;
    try {
      identity = await oauth.exchangeCode(code);
    } catch (error) {
      if (error instanceof PlatformApiError && error.errcode === ERRCODE_INVALID_CODE) return { kind: 'code_invalid' };
      if (error instanceof PlatformApiError && error.errcode === ERRCODE_CODE_USED) return { kind: 'code_used' };
      if (error instanceof PlatformApiError || error instanceof PlatformTransportError) {
        this.deps.logger.warn('web OAuth code exchange failed; the page is served without an identity', { error: error.message });
        return { kind: 'platform_unavailable', message: error.message };
      }
      throw error;
    }
    if (identity.snapshotUser) return { kind: 'snapshot_user' };
    const ref = { kind: 'oa_openid' as const, appId: oauth.appId, value: identity.openid };
    // Two tabs coming back at once may both create the contact: the loser's unique key rolls it
    // back and the retry finds the winner's.
    const resolved = await this.deps.transactor.runRetrying((manager) => this.deps.contacts.resolveContact(manager, ref));
    const cookie = signVisitorCookie({ secret: await this.deps.secret(), contactId: resolved.contactId, nowSeconds: this.nowSeconds() });
    return { kind: 'identified', contactId: resolved.contactId, created: resolved.created, cookie };
  }

  get cookieMaxAgeSeconds(): number {
    return this.deps.cookieMaxAgeSeconds;
  }

  private requireOauth(): NonNullable<VisitorsServiceDeps['oauth']> {
    if (!this.deps.oauth) throw new Error('web OAuth needs an Official Account');
    return this.deps.oauth;
  }

  private nowSeconds(): number {
    return Math.floor(this.deps.clock.now().getTime() / 1000);
  }
}

const SECRET_SETTING = 'visitors.hmac_secret';

/**
 * The visitors' key. VISITOR_SECRET when configured; without it a random 32-byte key is made on
 * first use and kept in `settings` (`visitors.hmac_secret`), shared by every instance through the
 * database, never a published constant. Two instances making one at once insert-or-ignore and
 * both read the winner.
 */
export async function loadVisitorSecret(p: { dataSource: DataSource; clock: Clock; configured: string | null }): Promise<Buffer> {
  return loadStoredSecret({ ...p, setting: SECRET_SETTING });
}
