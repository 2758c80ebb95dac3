import type { Context, Next } from 'koa';
import { returnPathOf } from '../modules/visitors/visitor-tokens';
import type { VisitorsService } from '../modules/visitors/visitors.service';
import { isWechatBrowser } from '../wechat/web-oauth';
import { serializeCookie } from './session-cookies';

/** The visitor's signed contact id (httpOnly: the page never reads it, it asks the server). */
export const VISITOR_COOKIE = 'fw_visitor';
/** This browser's OAuth nonce, which the state must carry back (server/modules/visitors/visitor-tokens.ts). */
export const OAUTH_NONCE_COOKIE = 'fw_oauth_nonce';
const NONCE_MAX_AGE_SECONDS = 10 * 60;

export interface VisitorMiddlewareDeps {
  visitors: VisitorsService;
  /** Secure cookies when the site is https (PUBLIC_BASE_URL), or the request came over TLS. */
  publicBaseUrl: string;
}

interface VisitorState {
  contactId: number | null;
}

/**
 * The contact of the visitor of a public H5 page, or null: outside WeChat until they identify
 * themselves otherwise, on a snapshot page, or when WeChat did not answer. Set by the visitor
 * middleware; null on a route it does not wrap. A merged contact's id still works as a
 * recordInteraction `contactId` (it is followed to the survivor).
 */
export function visitorContactId(ctx: Pick<Context, 'state'>): number | null {
  const visitor: unknown = ctx.state.visitor;
  if (typeof visitor !== 'object' || visitor === null || !('contactId' in visitor)) return null;
  return typeof visitor.contactId === 'number' ? visitor.contactId : null;
}

/**
 * Wraps the public H5 routes (/e, /c). Every request: a valid visitor cookie sets
 * visitorContactId. A page request (GET/HEAD) from inside WeChat without one is sent through web
 * OAuth (snsapi_base, silent) and comes back here with `?code=&state=`: the state is checked (a
 * forged one, or one for another page, is refused with a page saying so), the code exchanged, the
 * contact found or created for the openid, the cookie set, and the visitor sent on to the clean
 * URL. Outside WeChat nothing is redirected; API calls (POST) are never redirected.
 *
 * The state is tied to this browser by a nonce cookie: a URL carrying someone else's code and
 * state (a link shared from inside WeChat, or planted to sign a victim in as the attacker) is not
 * exchanged; the visitor is sent through OAuth again, once (a browser that keeps no cookies would
 * otherwise loop), and after that served without an identity.
 */
export function createVisitorMiddleware(deps: VisitorMiddlewareDeps) {
  const { visitors } = deps;
  const siteIsHttps = deps.publicBaseUrl.startsWith('https:');
  const cookie = (ctx: Context, name: string, value: string, maxAge: number): void => {
    ctx.append('Set-Cookie', serializeCookie(name, value, { maxAge, httpOnly: true, secure: siteIsHttps || ctx.secure }));
  };

  const authorize = async (ctx: Context, attempt: number): Promise<Answered> => {
    const browserNonce = readCookie(ctx, OAUTH_NONCE_COOKIE);
    const { location, nonce } = await visitors.startAuthorization({ url: ctx.url, nonce: browserNonce, attempt });
    // A nonce already set is kept, so two tabs sent away at once both come back to a match.
    if (nonce !== browserNonce) cookie(ctx, OAUTH_NONCE_COOKIE, nonce, NONCE_MAX_AGE_SECONDS);
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(location);
    return 'answered';
  };

  /** Answers the request itself (a redirect, the error page), or says the page should be served. */
  const identify = async (ctx: Context): Promise<'serve' | Answered> => {
    const state: VisitorState = { contactId: await visitors.readVisitorCookie(readCookie(ctx, VISITOR_COOKIE)) };
    ctx.state.visitor = state;
    const page = ctx.method === 'GET' || ctx.method === 'HEAD';
    const returned = typeof ctx.query.state === 'string' ? ctx.query.state : null;
    const code = typeof ctx.query.code === 'string' ? ctx.query.code : null;
    if (!page || !visitors.enabled) return 'serve';
    if (state.contactId !== null) {
      // Already known: a code in the URL (a reload, a shared link) is not needed, and not left there.
      if (code !== null && returned !== null) return cleanRedirect(ctx);
      return 'serve';
    }
    if (returned === null) {
      if (isWechatBrowser(ctx.get('User-Agent'))) return authorize(ctx, 0);
      return 'serve';
    }

    const check = await visitors.checkReturn({ url: ctx.url, state: returned, nonce: readCookie(ctx, OAUTH_NONCE_COOKIE) });
    if (!check.ok && check.reason === 'forged') return errorPage(ctx, 'forged');
    if (!check.ok) {
      // Not this browser's trip (a shared or planted URL), or an old one: once more, then give up.
      if (check.state.attempt === 0 && isWechatBrowser(ctx.get('User-Agent'))) return authorize(ctx, 1);
      return 'serve';
    }
    // No code: the visitor declined (snsapi_userinfo only; snsapi_base never asks).
    if (code === null) return 'serve';

    const outcome = await visitors.identifyByCode(code);
    switch (outcome.kind) {
      case 'identified':
        cookie(ctx, VISITOR_COOKIE, outcome.cookie, visitors.cookieMaxAgeSeconds);
        return cleanRedirect(ctx);
      case 'code_invalid':
      case 'code_used':
        return errorPage(ctx, outcome.kind);
      case 'snapshot_user':
      case 'platform_unavailable':
        return 'serve';
    }
  };

  return async function identifyVisitor(ctx: Context, next: Next): Promise<void> {
    if ((await identify(ctx)) === 'serve') await next();
  };
}

/**
 * For the public API routes the pages call (fetch): the visitor's cookie read into
 * visitorContactId, never a redirect (an API call sent to OAuth would fail as a cross-origin fetch;
 * the page itself went through OAuth when it loaded).
 */
export function createVisitorReader(visitors: Pick<VisitorsService, 'readVisitorCookie'>) {
  return async function readVisitor(ctx: Context, next: Next): Promise<void> {
    const state: VisitorState = { contactId: await visitors.readVisitorCookie(readCookie(ctx, VISITOR_COOKIE)) };
    ctx.state.visitor = state;
    await next();
  };
}

/** What a step that wrote the answer itself (a redirect, the error page) returns. */
type Answered = 'answered';

/** To the same page without `code` and `state`: a relative path of this site, never another host. */
function cleanRedirect(ctx: Context): Answered {
  ctx.set('Cache-Control', 'no-store');
  ctx.redirect(returnPath(ctx));
  return 'answered';
}

function returnPath(ctx: Context): string {
  return returnPathOf(ctx.url);
}

type VisitorError = 'forged' | 'code_invalid' | 'code_used';

const ERROR_TEXT: Record<VisitorError, { zh: string; en: string }> = {
  forged: { zh: '链接无效：它不是本站发出的授权链接。', en: 'This link is not valid: it is not a sign-in link this site made.' },
  code_invalid: { zh: '授权已过期，请重新打开页面。', en: 'The WeChat sign-in has expired. Please open the page again.' },
  code_used: {
    zh: '这个授权链接已经用过了，请重新打开页面。',
    en: 'This WeChat sign-in link was already used. Please open the page again.',
  },
};

/** A 400 page for a phone (the visitor is a person, not a script): what happened, and the way back. */
function errorPage(ctx: Context, kind: VisitorError): Answered {
  const text = ERROR_TEXT[kind];
  ctx.status = 400;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = `<!doctype html>
<html lang="zh-CN" data-error="${kind}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>无法打开页面</title></head>
<body style="font-family: -apple-system, sans-serif; padding: 2rem 1.25rem; line-height: 1.6">
<p>${text.zh}</p>
<p lang="en" style="color: #666">${text.en}</p>
<p><a href="${escapeHtml(returnPath(ctx))}">重新打开 / Open again</a></p>
</body>
</html>
`;
  return 'answered';
}

function readCookie(ctx: Context, name: string): string | null {
  const value = ctx.cookies.get(name, { signed: false });
  return value ? value : null;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
