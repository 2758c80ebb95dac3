import type { Context, Middleware, Next } from 'koa';
import { SESSION_TTL_MS } from '../modules/operators/operators.service';
import { SIDEBAR_AUTH_PATH, type SidebarSignInOutcome, type SidebarSignInService } from '../modules/sidebar/sidebar-sign-in.service';
import { readSessionCookie, serializeCookie, setSessionCookies } from './session-cookies';
import { createSpaWebMiddleware } from './spa-web';
import { OAUTH_NONCE_COOKIE } from './visitor.middleware';

export interface SidebarWebParams {
  /** The built sidebar (dist/web/sidebar): index.html and assets/. */
  root: string;
  signIn: SidebarSignInService;
  /** Whether a session token is live (OperatorsService.authenticateSession). */
  hasLiveSession: (token: string) => Promise<boolean>;
  /** Secure cookies when the site is https (PUBLIC_BASE_URL), or the request came over TLS. */
  publicBaseUrl: string;
}

/** How long the OAuth trip may take (the state's own expiry, visitor-tokens.ts). */
const NONCE_MAX_AGE_SECONDS = 10 * 60;

/**
 * The sidebar's policy: the public pages' (mobile-web.ts MOBILE_CSP says why style-src needs
 * 'unsafe-inline'), with customers' avatars from WeCom's and WeChat's image hosts. The JS-SDK
 * (@wecom/jssdk) is bundled, and talks to the client only through `window.WeixinJSBridge`, which
 * the WeCom client injects: no script from elsewhere.
 */
export const SIDEBAR_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https://wework.qpic.cn https://wx.qlogo.cn https://thirdwx.qlogo.cn",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the WeCom sidebar (web/mobile/sidebar) at /sidebar/ through spa-web.ts, and signs its
 * rep in: a page request from a browser without a live operator session is sent through WeCom's
 * OAuth2 (snsapi_base: silent inside WeCom), which comes back to `GET /sidebar/auth?next=&code=&state=`;
 * that checks the state, exchanges the code for the member's userid, opens an ordinary operator
 * session for the operator with that wecom_user_id, sets the session cookies and sends the
 * browser on to the page it asked for. Each refusal is a small zh-CN page saying what to do.
 */
export function createSidebarWebMiddleware(params: SidebarWebParams): Middleware {
  const { signIn } = params;
  const siteIsHttps = params.publicBaseUrl.startsWith('https:');

  const authorize = async (ctx: Context, url: string, attempt: number): Promise<void> => {
    const browserNonce = readCookie(ctx, OAUTH_NONCE_COOKIE);
    const { location, nonce } = await signIn.startAuthorization({ url, nonce: browserNonce, attempt });
    // A nonce already set is kept, so two tabs sent away at once both come back to a match.
    if (nonce !== browserNonce)
      ctx.append(
        'Set-Cookie',
        serializeCookie(OAUTH_NONCE_COOKIE, nonce, { maxAge: NONCE_MAX_AGE_SECONDS, httpOnly: true, secure: siteIsHttps || ctx.secure }),
      );
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(location);
  };

  const guard = async (ctx: Context, next: Next): Promise<void> => {
    if (!signIn.enabled) return notConfiguredPage(ctx);
    const token = readSessionCookie(ctx);
    if (token !== null && (await params.hasLiveSession(token))) {
      await next();
      return;
    }
    await authorize(ctx, ctx.url, 0);
  };

  const spa = createSpaWebMiddleware({
    root: params.root,
    prefix: '/sidebar',
    csp: SIDEBAR_CSP,
    notBuilt: { code: 'sidebar_not_built', message: 'The WeCom sidebar is not built: run npm run build' },
    beforePage: guard,
  });

  return async function serveSidebar(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== SIDEBAR_AUTH_PATH || ctx.method !== 'GET') return spa(ctx, next);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'same-origin');
    if (!signIn.enabled) return notConfiguredPage(ctx);
    const outcome = await signIn.completeSignIn({
      next: queryText(ctx, 'next'),
      state: queryText(ctx, 'state'),
      code: queryText(ctx, 'code'),
      nonce: readCookie(ctx, OAUTH_NONCE_COOKIE),
      ip: ctx.ip,
    });
    if (outcome.kind === 'signed_in') {
      setSessionCookies(ctx, { token: outcome.token, csrfToken: outcome.csrfToken, maxAgeSeconds: SESSION_TTL_MS / 1000 });
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect(outcome.returnPath);
      return;
    }
    if (outcome.kind === 'retry') return authorize(ctx, outcome.returnPath, 1);
    errorPage(ctx, outcome);
  };
}

type Refusal = Exclude<SidebarSignInOutcome, { kind: 'signed_in' } | { kind: 'retry' }>;

/** What each refusal says, in Chinese (the reps' language), with what to do about it. */
function describeRefusal(outcome: Refusal): { status: number; text: string } {
  switch (outcome.kind) {
    case 'state_forged':
      return {
        status: 400,
        text: '登录链接无效：它不是 Flywheel 发出的企业微信授权链接，或已被改动。请从企业微信的聊天工具栏重新打开侧边栏。',
      };
    case 'state_expired':
      return { status: 400, text: '登录已过期（授权须在 10 分钟内完成），或这个链接来自另一台设备。请重新打开侧边栏。' };
    case 'code_invalid':
      return { status: 400, text: '企业微信的授权码无效、已用过或已过期（5 分钟内有效）。请重新打开侧边栏。' };
    case 'wecom_error':
      return {
        status: 502,
        text: `企业微信没有完成身份确认（${outcome.message}）。请稍后重新打开侧边栏；若一直如此，请管理员检查应用的 Secret 与可信域名。`,
      };
    case 'not_member':
      return { status: 403, text: '侧边栏只供本企业的成员使用：企业微信确认你不是本企业的成员。' };
    case 'no_operator':
      return { status: 403, text: `请管理员在 Flywheel 的操作员页为你填写企业微信账号 ${outcome.userId}` };
    case 'operator_disabled':
      return { status: 403, text: `企业微信账号 ${outcome.userId} 对应的 Flywheel 操作员已停用，请联系管理员。` };
  }
}

function errorPage(ctx: Context, outcome: Refusal): void {
  const { status, text } = describeRefusal(outcome);
  const again = outcome.kind === 'state_forged' ? '/sidebar/' : outcome.returnPath;
  sendPage(ctx, status, outcome.kind, `<p>${escapeHtml(text)}</p>\n<p><a href="${escapeHtml(again)}">重新打开侧边栏</a></p>`);
}

function notConfiguredPage(ctx: Context): void {
  sendPage(
    ctx,
    503,
    'wecom_not_configured',
    '<p>Flywheel 还没有配置企业微信的自建应用（WECOM_CORP_ID、WECOM_AGENT_ID、WECOM_AGENT_SECRET），侧边栏无法确认你的身份。请管理员在设置页完成企业微信配置。</p>',
  );
}

/** A small page for a person in WeCom's webview (about 360 px wide), not for a script. */
function sendPage(ctx: Context, status: number, kind: string, body: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = `<!doctype html>
<html lang="zh-CN" data-error="${kind}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>无法打开侧边栏</title></head>
<body style="font-family: -apple-system, sans-serif; padding: 2rem 1.25rem; line-height: 1.6">
${body}
</body>
</html>
`;
}

function queryText(ctx: Context, name: string): string | null {
  const value = ctx.query[name];
  return typeof value === 'string' ? value : null;
}

function readCookie(ctx: Context, name: string): string | null {
  const value = ctx.cookies.get(name, { signed: false });
  return value ? value : null;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
