import type { Context } from 'koa';

/**
 * The browser session's cookies. Written by hand rather than through ctx.cookies.set: the
 * `cookies` package emits only Expires, computed from the process clock, and the session's
 * lifetime is a Max-Age (RFC 6265 §5.2.2 makes it win over Expires).
 */
export const SESSION_COOKIE = 'fw_session';
/** Readable by the page (not httpOnly): it sends the value back in X-CSRF-Token. */
export const CSRF_COOKIE = 'fw_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

export interface SetSessionCookiesParams {
  token: string;
  csrfToken: string;
  maxAgeSeconds: number;
}

/**
 * SameSite=Lax keeps the session cookie off cross-site POSTs and subresource requests; the CSRF
 * token covers what Lax leaves open (same-site subdomains, old browsers). Secure only when the
 * request is HTTPS (ctx.secure; behind a proxy, TRUST_PROXY decides whether X-Forwarded-Proto
 * counts), or `npm start` on http://localhost could never keep a session.
 */
export function setSessionCookies(ctx: Context, params: SetSessionCookiesParams): void {
  const maxAge = Math.max(0, Math.floor(params.maxAgeSeconds));
  ctx.append('Set-Cookie', serializeCookie(SESSION_COOKIE, params.token, { maxAge, httpOnly: true, secure: ctx.secure }));
  ctx.append('Set-Cookie', serializeCookie(CSRF_COOKIE, params.csrfToken, { maxAge, httpOnly: false, secure: ctx.secure }));
}

/** Max-Age=0 and an Expires in the past (for browsers that predate Max-Age) delete both cookies. */
export function clearSessionCookies(ctx: Context): void {
  ctx.append('Set-Cookie', serializeCookie(SESSION_COOKIE, '', { maxAge: 0, httpOnly: true, secure: ctx.secure }));
  ctx.append('Set-Cookie', serializeCookie(CSRF_COOKIE, '', { maxAge: 0, httpOnly: false, secure: ctx.secure }));
}

/** The fw_session cookie's value, or null. */
export function readSessionCookie(ctx: Pick<Context, 'cookies'>): string | null {
  const value = ctx.cookies.get(SESSION_COOKIE, { signed: false });
  return value ? value : null;
}

export interface CookieOptions {
  maxAge: number;
  httpOnly: boolean;
  secure: boolean;
}

/** A Set-Cookie value, `Path=/` and SameSite=Lax. Values are tokens or empty, so they need no quoting or escaping. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/', `Max-Age=${options.maxAge}`];
  if (options.maxAge === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (options.httpOnly) parts.push('HttpOnly');
  parts.push('SameSite=Lax');
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
