import {
  OAUTH_STATE_TTL_SECONDS,
  returnPathOf,
  signOauthState,
  signVisitorCookie,
  verifyOauthState,
  verifyVisitorCookie,
} from '../../../server/modules/visitors/visitor-tokens';
import { WEB_OAUTH_STATE_PATTERN } from '../../../server/wechat/web-oauth';

const secret = Buffer.alloc(32, 7);
const other = Buffer.alloc(32, 8);
const now = 1_800_000_000;
const nonce = '0123456789abcdef01234567';

describe('OAuth state', () => {
  const sign = (returnPath = '/e/12?ch=3', attempt = 0) => signOauthState({ secret, returnPath, nonce, attempt, nowSeconds: now });

  it('is what WeChat carries back (a-zA-Z0-9, at most 128 bytes) and verifies for its page and browser', () => {
    const state = sign();
    expect(state).toMatch(WEB_OAUTH_STATE_PATTERN);
    expect(state.length).toBeLessThanOrEqual(128);
    expect(verifyOauthState({ secret, state, returnPath: '/e/12?ch=3', nonce, nowSeconds: now + 60 })).toEqual({
      ok: true,
      state: { attempt: 0, expiresAt: now + OAUTH_STATE_TTL_SECONDS, nonce },
    });
  });

  it('is refused as forged when changed, signed with another key, made for another page, or not ours at all', () => {
    const state = sign();
    const flipped = `${state.slice(0, -1)}${state.endsWith('0') ? '1' : '0'}`;
    const check = (s: string, returnPath = '/e/12?ch=3', key = secret) =>
      verifyOauthState({ secret: key, state: s, returnPath, nonce, nowSeconds: now });
    expect(check(flipped)).toEqual({ ok: false, reason: 'forged' });
    expect(check(state, '/e/12?ch=3', other)).toEqual({ ok: false, reason: 'forged' });
    expect(check(state, '/e/13?ch=3')).toEqual({ ok: false, reason: 'forged' });
    expect(check(state, '/e/12')).toEqual({ ok: false, reason: 'forged' });
    expect(check('123')).toEqual({ ok: false, reason: 'forged' });
    // The attempt is signed too: a state cannot be re-labelled to dodge the loop guard.
    expect(check(`V1${state.slice(2)}`)).toEqual({ ok: false, reason: 'forged' });
  });

  it('is another browser’s when the nonce cookie differs or is missing, and expired after its ten minutes', () => {
    const state = sign('/c/abc', 1);
    const base = { secret, state, returnPath: '/c/abc' };
    expect(verifyOauthState({ ...base, nonce: 'ffffffffffffffffffffffff', nowSeconds: now })).toMatchObject({
      ok: false,
      reason: 'other_browser',
      state: { attempt: 1 },
    });
    expect(verifyOauthState({ ...base, nonce: null, nowSeconds: now })).toMatchObject({ ok: false, reason: 'other_browser' });
    expect(verifyOauthState({ ...base, nonce, nowSeconds: now + OAUTH_STATE_TTL_SECONDS })).toMatchObject({ ok: true });
    expect(verifyOauthState({ ...base, nonce, nowSeconds: now + OAUTH_STATE_TTL_SECONDS + 1 })).toMatchObject({
      ok: false,
      reason: 'expired',
    });
  });

  it('refuses a malformed nonce or attempt when signing', () => {
    expect(() => signOauthState({ secret, returnPath: '/', nonce: 'xyz', attempt: 0, nowSeconds: now })).toThrow(/nonce/);
    expect(() => signOauthState({ secret, returnPath: '/', nonce, attempt: 10, nowSeconds: now })).toThrow(/attempt/);
  });
});

describe('visitor cookie', () => {
  it('names its contact while fresh; forged, foreign, malformed or old cookies name nobody', () => {
    const cookie = signVisitorCookie({ secret, contactId: 42, nowSeconds: now });
    const read = (value: string, at = now, key = secret) =>
      verifyVisitorCookie({ secret: key, value, nowSeconds: at, maxAgeSeconds: 3600 });
    expect(read(cookie)).toBe(42);
    expect(read(cookie, now + 3600)).toBe(42);
    expect(read(cookie, now + 3601)).toBeNull();
    expect(read(cookie, now, other)).toBeNull();
    expect(read(cookie.replace(/^42\./, '43.'))).toBeNull();
    expect(read('42')).toBeNull();
    expect(read('')).toBeNull();
    // Issued in the future (a clock far ahead when it was signed): not trusted.
    expect(read(signVisitorCookie({ secret, contactId: 42, nowSeconds: now + 3600 }))).toBeNull();
  });

  it('refuses to name a non-contact', () => {
    expect(() => signVisitorCookie({ secret, contactId: 0, nowSeconds: now })).toThrow();
  });
});

describe('returnPathOf', () => {
  it('keeps the page and its query without WeChat’s code and state, always as one path of this site', () => {
    expect(returnPathOf('/e/12?ch=3&code=abc&state=V0x')).toBe('/e/12?ch=3');
    expect(returnPathOf('/e/12?code=abc&state=V0x')).toBe('/e/12');
    expect(returnPathOf('/c/xyz')).toBe('/c/xyz');
    expect(returnPathOf('//evil.example/x?y=1')).toBe('/evil.example/x?y=1');
    expect(returnPathOf('/\\evil.example/x')).toBe('/evil.example/x');
  });
});
