import crypto from 'node:crypto';

/**
 * The two signed values of a visitor's identification, pure (node:crypto only):
 *
 * - the OAuth `state`, which WeChat hands back unchanged on the redirect. WeChat allows only
 *   a-z, A-Z, 0-9 and 128 bytes in it, so it is fixed-width alphanumeric fields:
 *   `V` + attempt (1 digit) + expiry (7 base-36 digits, Unix seconds) + nonce (24 hex) + MAC
 *   (32 hex, HMAC-SHA256 over the fields and the return path). The MAC binds the state to the
 *   page it was made for (a state carried to another path fails), the nonce binds it to the
 *   browser that was sent away (it must equal the browser's nonce cookie: a link with someone
 *   else's code and state, shared or planted, is never exchanged for this browser), and the
 *   expiry bounds replay;
 * - the visitor cookie: `<contactId>.<issued at, base 36>.<MAC, base64url>`.
 *
 * Each MAC starts with its own label, so neither value can be passed off as the other.
 */

/** How long the authorize round trip may take: the code itself lives 5 minutes. */
export const OAUTH_STATE_TTL_SECONDS = 10 * 60;

const STATE_PATTERN = /^V([0-9])([0-9a-z]{7})([0-9a-f]{24})([0-9a-f]{32})$/;
const COOKIE_PATTERN = /^([1-9][0-9]{0,14})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})$/;
/** A nonce cookie's value: 24 lower-case hex characters. */
export const OAUTH_NONCE_PATTERN = /^[0-9a-f]{24}$/;

export interface OauthStateFields {
  /** 0 on the first trip; 1 after a state that was not this browser's (loop guard). */
  attempt: number;
  expiresAt: number;
  nonce: string;
}

export type StateCheck =
  | { ok: true; state: OauthStateFields }
  /** Not a state we made, or made for another path: refused. */
  | { ok: false; reason: 'forged' }
  /** Ours, for this path, but past its expiry or not this browser's: start again. */
  | { ok: false; reason: 'expired' | 'other_browser'; state: OauthStateFields };

export function newOauthNonce(): string {
  return crypto.randomBytes(12).toString('hex');
}

export function signOauthState(p: { secret: Buffer; returnPath: string; nonce: string; attempt: number; nowSeconds: number }): string {
  if (!OAUTH_NONCE_PATTERN.test(p.nonce)) throw new Error('the OAuth nonce must be 24 hex characters');
  if (!Number.isInteger(p.attempt) || p.attempt < 0 || p.attempt > 9) throw new Error('the OAuth attempt must be 0 to 9');
  const expiry = (p.nowSeconds + OAUTH_STATE_TTL_SECONDS).toString(36).padStart(7, '0');
  const fields = `${p.attempt}${expiry}${p.nonce}`;
  return `V${fields}${stateMac(p.secret, fields, p.returnPath)}`;
}

/** `nonce`: the browser's nonce cookie, or null when it sent none. */
export function verifyOauthState(p: {
  secret: Buffer;
  state: string;
  returnPath: string;
  nonce: string | null;
  nowSeconds: number;
}): StateCheck {
  const match = STATE_PATTERN.exec(p.state);
  if (!match) return { ok: false, reason: 'forged' };
  const [, attempt, expiry, nonce, mac] = match;
  if (!equalText(mac, stateMac(p.secret, `${attempt}${expiry}${nonce}`, p.returnPath))) return { ok: false, reason: 'forged' };
  const state = { attempt: Number(attempt), expiresAt: parseInt(expiry, 36), nonce };
  if (state.expiresAt < p.nowSeconds) return { ok: false, reason: 'expired', state };
  if (p.nonce === null || !equalText(p.nonce, nonce)) return { ok: false, reason: 'other_browser', state };
  return { ok: true, state };
}

export function signVisitorCookie(p: { secret: Buffer; contactId: number; nowSeconds: number }): string {
  if (!Number.isSafeInteger(p.contactId) || p.contactId < 1) throw new Error('a visitor cookie names a contact id');
  const payload = `${p.contactId}.${p.nowSeconds.toString(36)}`;
  return `${payload}.${cookieMac(p.secret, payload)}`;
}

/** The contact id, or null for a cookie that is malformed, not ours, or older than maxAgeSeconds. */
export function verifyVisitorCookie(p: { secret: Buffer; value: string; nowSeconds: number; maxAgeSeconds: number }): number | null {
  const match = COOKIE_PATTERN.exec(p.value);
  if (!match) return null;
  const [, contactId, issued, mac] = match;
  if (!equalText(mac, cookieMac(p.secret, `${contactId}.${issued}`))) return null;
  const issuedAt = parseInt(issued, 36);
  if (issuedAt + p.maxAgeSeconds < p.nowSeconds || issuedAt > p.nowSeconds + 300) return null;
  const id = Number(contactId);
  return Number.isSafeInteger(id) ? id : null;
}

/**
 * The page to come back to: the request's path and query without the `code` and `state` WeChat
 * added, with its leading slashes collapsed to one (`//host` would be another site's address).
 * The state is signed over it and the visitor is sent back to it, always as a path of this site.
 */
export function returnPathOf(url: string): string {
  const parsed = new URL(url.replace(/^[/\\]+/, '/'), 'http://flywheel.invalid');
  parsed.searchParams.delete('code');
  parsed.searchParams.delete('state');
  const search = parsed.searchParams.toString();
  return `${parsed.pathname.replace(/^\/+/, '/')}${search ? `?${search}` : ''}`;
}

function stateMac(secret: Buffer, fields: string, returnPath: string): string {
  return crypto.createHmac('sha256', secret).update(`oauth-state\n${fields}\n${returnPath}`).digest('hex').slice(0, 32);
}

function cookieMac(secret: Buffer, payload: string): string {
  return crypto.createHmac('sha256', secret).update(`visitor\n${payload}`).digest().subarray(0, 16).toString('base64url');
}

function equalText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
