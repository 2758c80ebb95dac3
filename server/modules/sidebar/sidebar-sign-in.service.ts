import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { PlatformApiError, PlatformTransportError } from '../../adapters/platform-error';
import type { WecomOauthIdentity } from '../../adapters/wecom-agent.client';
import { buildAuthorizeUrl } from '../../wechat/web-oauth';
import type { OperatorsService } from '../operators/operators.service';
import { newOauthNonce, OAUTH_NONCE_PATTERN, returnPathOf, signOauthState, verifyOauthState } from '../visitors/visitor-tokens';

/** "40029 invalid code": never issued, used already, or past its 5 minutes. */
const ERRCODE_INVALID_CODE = 40029;

/** Where the sidebar's OAuth2 comes back to (server/http/sidebar-web.ts). */
export const SIDEBAR_AUTH_PATH = '/sidebar/auth';

export interface SidebarSignInDeps {
  /** The operators' clock: the state's expiry must not move with the sandbox's skips. */
  clock: Clock;
  logger: Logger;
  /** The key of the OAuth state: the visitors' (loadVisitorSecret), one key for both flows. */
  secret: () => Promise<Buffer>;
  operators: Pick<OperatorsService, 'openWecomSession'>;
  /** null: WeCom (or its self-built app) is not configured, so no rep can sign in. */
  wecom: {
    corpId: string;
    agentId: string;
    /** open.weixin.qq.com (WeCom's OAuth2 page is on WeChat's host), or the sandbox's authorize page. */
    authorizeBase: string;
    /** The site's public origin: redirect_uri is built on it (the app's 可信域名). */
    publicBaseUrl: string;
    exchangeCode: (code: string) => Promise<WecomOauthIdentity>;
  } | null;
}

export type SidebarSignInOutcome =
  | { kind: 'signed_in'; token: string; csrfToken: string; expiresAt: Date; returnPath: string }
  /** The state is not one this site made for that page: a forged or edited link. */
  | { kind: 'state_forged' }
  /** Ours, but too old, or another browser's (a shared link) after one fresh trip already. */
  | { kind: 'state_expired'; returnPath: string }
  /** Another browser's state on a first trip: send this browser through OAuth once more. */
  | { kind: 'retry'; returnPath: string }
  /** 40029: the code is unknown, used, or older than 5 minutes. */
  | { kind: 'code_invalid'; returnPath: string }
  /** WeCom refused otherwise or did not answer; `message` names the errcode. */
  | { kind: 'wecom_error'; returnPath: string; message: string }
  /** Someone outside the corp (a customer's WeChat): the sidebar is for members. */
  | { kind: 'not_member'; returnPath: string }
  /** A member no operator is linked to (operators.wecom_user_id). */
  | { kind: 'no_operator'; returnPath: string; userId: string }
  | { kind: 'operator_disabled'; returnPath: string; userId: string };

/**
 * Who is looking at the sidebar: a rep signed in through WeCom's OAuth2 (snsapi_base, silent inside
 * WeCom), whose userid names an operator; the session made for them is an ordinary operator
 * session, so it outlives one chat. The state is the visitors' signed state (visitor-tokens.ts),
 * tied to the browser by the same nonce cookie; it is signed over the return path with a
 * `sidebar` label, so a state made for a public page never passes here. The HTTP half is
 * server/http/sidebar-web.ts.
 * @link https://developer.work.weixin.qq.com/document/path/91022 (构造网页授权链接)
 */
export class SidebarSignInService {
  constructor(private readonly deps: SidebarSignInDeps) {}

  get enabled(): boolean {
    return this.deps.wecom !== null;
  }

  /**
   * Where to send a browser with no session: WeCom's authorize page, coming back to
   * /sidebar/auth?next=<the page> with a state signed over that page and the browser's nonce (its
   * cookie's, or a new one for the caller to set).
   */
  async startAuthorization(p: { url: string; nonce: string | null; attempt: number }): Promise<{ location: string; nonce: string }> {
    const wecom = this.requireWecom();
    const returnPath = returnPathOf(p.url);
    const nonce = p.nonce !== null && OAUTH_NONCE_PATTERN.test(p.nonce) ? p.nonce : newOauthNonce();
    const state = signOauthState({
      secret: await this.deps.secret(),
      returnPath: signedPath(returnPath),
      nonce,
      attempt: p.attempt,
      nowSeconds: this.nowSeconds(),
    });
    const location = buildAuthorizeUrl({
      base: wecom.authorizeBase,
      appId: wecom.corpId,
      redirectUri: `${wecom.publicBaseUrl}${SIDEBAR_AUTH_PATH}?next=${encodeURIComponent(returnPath)}`,
      state,
      agentId: wecom.agentId,
    });
    return { location, nonce };
  }

  /**
   * The return from WeCom: the state checked against `next` and the browser's nonce, the code
   * exchanged with the app's token, the member's operator found and a session opened. Every refusal
   * is an outcome for the page to explain, never thrown.
   */
  async completeSignIn(p: {
    next: string | null;
    state: string | null;
    code: string | null;
    nonce: string | null;
    ip: string | null;
  }): Promise<SidebarSignInOutcome> {
    const wecom = this.requireWecom();
    if (p.next === null || p.state === null || !isSidebarPath(p.next)) return { kind: 'state_forged' };
    const returnPath = p.next;
    const check = verifyOauthState({
      secret: await this.deps.secret(),
      state: p.state,
      returnPath: signedPath(returnPath),
      nonce: p.nonce,
      nowSeconds: this.nowSeconds(),
    });
    if (!check.ok && check.reason === 'forged') return { kind: 'state_forged' };
    if (!check.ok && check.reason === 'other_browser' && check.state.attempt === 0) return { kind: 'retry', returnPath };
    if (!check.ok) return { kind: 'state_expired', returnPath };
    // snsapi_base never asks the member, so a return without a code is WeCom's own failure.
    if (p.code === null || p.code === '') return { kind: 'wecom_error', returnPath, message: 'WeCom sent no code' };

    let identity: WecomOauthIdentity;
    try {
      identity = await wecom.exchangeCode(p.code);
    } catch (error) {
      if (error instanceof PlatformApiError && error.errcode === ERRCODE_INVALID_CODE) return { kind: 'code_invalid', returnPath };
      if (error instanceof PlatformApiError || error instanceof PlatformTransportError) {
        this.deps.logger.warn('sidebar OAuth2 code exchange failed', { error: error.message });
        const message = error instanceof PlatformApiError ? `errcode ${error.errcode}` : 'no answer';
        return { kind: 'wecom_error', returnPath, message };
      }
      throw error;
    }
    if (identity.kind === 'non_member') return { kind: 'not_member', returnPath };
    const opened = await this.deps.operators.openWecomSession({ wecomUserId: identity.userId, ip: p.ip });
    if (!opened.ok && opened.reason === 'no_operator') return { kind: 'no_operator', returnPath, userId: identity.userId };
    if (!opened.ok) return { kind: 'operator_disabled', returnPath, userId: identity.userId };
    return { kind: 'signed_in', token: opened.token, csrfToken: opened.csrfToken, expiresAt: opened.expiresAt, returnPath };
  }

  private requireWecom(): NonNullable<SidebarSignInDeps['wecom']> {
    if (this.deps.wecom === null) throw new Error('the sidebar sign-in needs WeCom and its self-built app configured');
    return this.deps.wecom;
  }

  private nowSeconds(): number {
    return Math.floor(this.deps.clock.now().getTime() / 1000);
  }
}

/** The sidebar's own pages only: `next` is a path of this site under /sidebar, never another host. */
export function isSidebarPath(path: string): boolean {
  return (path === '/sidebar' || path.startsWith('/sidebar/') || path.startsWith('/sidebar?')) && !path.startsWith(SIDEBAR_AUTH_PATH);
}

/** The MAC covers the flow's label with the path: a public page's state is refused here, and this one there. */
function signedPath(returnPath: string): string {
  return `sidebar\n${returnPath}`;
}
