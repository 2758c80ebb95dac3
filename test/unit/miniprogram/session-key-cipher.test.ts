import { openSessionKey, sealSessionKey } from '../../../server/modules/miniprogram/session-key-cipher';

/** The sample session_key of WeChat's decryption example (tdBase64 in its demo). */
const SESSION_KEY = 'tiihtNczf5v6AKRyjwEUhQ==';

describe('session-key-cipher', () => {
  const secret = Buffer.from('a-stored-secret-of-thirty-two-bytes!', 'utf8');

  it('seals with a fresh IV each time and opens with the same secret', () => {
    const a = sealSessionKey(secret, SESSION_KEY);
    const b = sealSessionKey(secret, SESSION_KEY);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toContain(SESSION_KEY);
    expect(openSessionKey(secret, a)).toBe(SESSION_KEY);
    expect(openSessionKey(secret, b)).toBe(SESSION_KEY);
    expect(a.length).toBeLessThanOrEqual(255);
  });

  it('refuses another secret, an altered value and a malformed one', () => {
    const sealed = sealSessionKey(secret, SESSION_KEY);
    expect(openSessionKey(Buffer.from('another-secret-of-thirty-two-bytes!!'), sealed)).toBeNull();
    const [v, iv, tag, data] = sealed.split('.');
    const flipped = `${data.startsWith('A') ? 'B' : 'A'}${data.slice(1)}`;
    expect(openSessionKey(secret, [v, iv, tag, flipped].join('.'))).toBeNull();
    expect(openSessionKey(secret, 'v2.a.b.c')).toBeNull();
    expect(openSessionKey(secret, 'garbage')).toBeNull();
  });
});
