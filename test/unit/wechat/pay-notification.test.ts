import { createCipheriv, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { decryptPayResource, verifyPayNotification } from '../../../server/wechat/pay-notification';
import { catchProtocolCode } from './fixtures';

const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
const SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
const PUB_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000';
const NOW = 1_700_000_000;

const rawBody = JSON.stringify({
  id: 'EV-2018022511223320873',
  create_time: '2015-05-20T13:29:35+08:00',
  resource_type: 'encrypt-resource',
  event_type: 'TRANSACTION.SUCCESS',
  summary: '支付成功',
  resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext: 'x', associated_data: 'transaction', nonce: 'n' },
});

function signWith(privateKey: KeyObject, timestamp: string, nonce: string, body: string): string {
  return sign('sha256', Buffer.from(`${timestamp}\n${nonce}\n${body}\n`, 'utf8'), privateKey).toString('base64');
}

function headersFor(p: { body?: string; timestamp?: string; key?: KeyObject; serial?: string } = {}) {
  const timestamp = p.timestamp ?? String(NOW);
  const nonce = 'fdasflkja484w';
  return {
    timestamp,
    nonce,
    serial: p.serial ?? SERIAL,
    signature: signWith(p.key ?? platform.privateKey, timestamp, nonce, p.body ?? rawBody),
  };
}

const publicKeys = new Map<string, KeyObject | string>([
  [SERIAL, platform.publicKey],
  [PUB_KEY_ID, platform.publicKey.export({ type: 'spki', format: 'pem' }).toString()],
]);

function verify(overrides: Partial<Parameters<typeof verifyPayNotification>[0]> = {}): void {
  verifyPayNotification({ rawBody, headers: headersFor(), publicKeys, nowSeconds: NOW, maxAgeSeconds: 300, ...overrides });
}

describe('verifyPayNotification', () => {
  it('accepts a notification signed by the platform certificate', () => {
    expect(() => verify()).not.toThrow();
  });

  it('accepts a WeChat Pay public key id serial with a PEM key', () => {
    expect(() => verify({ headers: headersFor({ serial: PUB_KEY_ID }) })).not.toThrow();
  });

  it('matches a certificate serial regardless of letter case', () => {
    expect(() => verify({ headers: headersFor({ serial: SERIAL.toLowerCase() }) })).not.toThrow();
  });

  it('reports bad_pay_signature for a tampered body', () => {
    const tampered = rawBody.replace('TRANSACTION.SUCCESS', 'REFUND.SUCCESS');
    expect(catchProtocolCode(() => verify({ rawBody: tampered }))).toBe('bad_pay_signature');
  });

  it('reports bad_pay_signature when signed by another key', () => {
    expect(catchProtocolCode(() => verify({ headers: headersFor({ key: stranger.privateKey }) }))).toBe('bad_pay_signature');
  });

  it('reports bad_pay_signature for an unknown serial', () => {
    expect(catchProtocolCode(() => verify({ headers: headersFor({ serial: 'DEADBEEF' }) }))).toBe('bad_pay_signature');
  });

  it('reports bad_pay_signature for a tampered timestamp or nonce', () => {
    const headers = headersFor();
    expect(catchProtocolCode(() => verify({ headers: { ...headers, timestamp: String(NOW + 1) } }))).toBe('bad_pay_signature');
    expect(catchProtocolCode(() => verify({ headers: { ...headers, nonce: 'other' } }))).toBe('bad_pay_signature');
  });

  it('reports bad_pay_signature for a signature test probe', () => {
    const headers = { ...headersFor(), signature: `WECHATPAY/SIGNTEST/${headersFor().signature}` };
    expect(catchProtocolCode(() => verify({ headers }))).toBe('bad_pay_signature');
  });

  it.each(['timestamp', 'nonce', 'signature', 'serial'] as const)('reports bad_pay_signature without %s', (name) => {
    const headers = { ...headersFor(), [name]: undefined };
    expect(catchProtocolCode(() => verify({ headers }))).toBe('bad_pay_signature');
  });

  it('reports pay_timestamp_expired for a stale or future timestamp', () => {
    const stale = headersFor({ timestamp: String(NOW - 301) });
    expect(catchProtocolCode(() => verify({ headers: stale }))).toBe('pay_timestamp_expired');
    const future = headersFor({ timestamp: String(NOW + 301) });
    expect(catchProtocolCode(() => verify({ headers: future }))).toBe('pay_timestamp_expired');
    expect(() => verify({ headers: headersFor({ timestamp: String(NOW - 300) }) })).not.toThrow();
  });

  it('reports pay_timestamp_expired for a signed timestamp that is not a number', () => {
    expect(catchProtocolCode(() => verify({ headers: headersFor({ timestamp: 'soon' }) }))).toBe('pay_timestamp_expired');
  });

  it('skips the age check when maxAgeSeconds is 0', () => {
    expect(() => verify({ headers: headersFor({ timestamp: '1000' }), maxAgeSeconds: 0 })).not.toThrow();
  });

  it('throws a configuration error for an invalid PEM key', () => {
    const broken = new Map<string, KeyObject | string>([[SERIAL, 'not a pem']]);
    expect(() => verify({ publicKeys: broken })).toThrow('not a valid PEM key');
  });
});

describe('decryptPayResource', () => {
  const apiV3Key = 'a'.repeat(16) + 'B'.repeat(16);
  const plain = JSON.stringify({ out_trade_no: '1217752501201407033233368018', trade_state: 'SUCCESS' });

  function encrypt(p: { key?: string; nonce?: string; aad?: string } = {}) {
    const nonce = p.nonce ?? 'fdasflkja484';
    const aad = p.aad ?? 'transaction';
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(p.key ?? apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { algorithm: 'AEAD_AES_256_GCM', ciphertext: body.toString('base64'), nonce, associated_data: aad };
  }

  function tamper(ciphertext: string, index: (length: number) => number): string {
    const data = Buffer.from(ciphertext, 'base64');
    const at = index(data.length);
    data[at] = (data[at] ?? 0) ^ 0x01;
    return data.toString('base64');
  }

  it('decrypts a resource', () => {
    expect(decryptPayResource({ apiV3Key, resource: encrypt() })).toBe(plain);
  });

  it('decrypts a resource without associated data', () => {
    const resource = encrypt({ aad: '' });
    const withoutAad = { algorithm: resource.algorithm, ciphertext: resource.ciphertext, nonce: resource.nonce };
    expect(decryptPayResource({ apiV3Key, resource: withoutAad })).toBe(plain);
  });

  it('reports pay_decrypt_failed for tampered ciphertext', () => {
    const resource = encrypt();
    const tampered = { ...resource, ciphertext: tamper(resource.ciphertext, () => 0) };
    expect(catchProtocolCode(() => decryptPayResource({ apiV3Key, resource: tampered }))).toBe('pay_decrypt_failed');
  });

  it('reports pay_decrypt_failed for a tampered tag', () => {
    const resource = encrypt();
    const tampered = { ...resource, ciphertext: tamper(resource.ciphertext, (length) => length - 1) };
    expect(catchProtocolCode(() => decryptPayResource({ apiV3Key, resource: tampered }))).toBe('pay_decrypt_failed');
  });

  it('reports pay_decrypt_failed for a wrong key, nonce or associated data', () => {
    const resource = encrypt();
    expect(catchProtocolCode(() => decryptPayResource({ apiV3Key: 'c'.repeat(32), resource }))).toBe('pay_decrypt_failed');
    expect(catchProtocolCode(() => decryptPayResource({ apiV3Key, resource: { ...resource, nonce: 'other-nonce!' } }))).toBe(
      'pay_decrypt_failed',
    );
    expect(catchProtocolCode(() => decryptPayResource({ apiV3Key, resource: { ...resource, associated_data: 'refund' } }))).toBe(
      'pay_decrypt_failed',
    );
  });

  it('reports pay_decrypt_failed for an unsupported algorithm, malformed or short ciphertext', () => {
    const resource = encrypt();
    const cases = [
      { ...resource, algorithm: 'AEAD_SM4_GCM' },
      { ...resource, ciphertext: 'not base64!' },
      { ...resource, ciphertext: randomBytes(16).toString('base64') },
      { ...resource, nonce: '' },
    ];
    for (const bad of cases) {
      expect(catchProtocolCode(() => decryptPayResource({ apiV3Key, resource: bad }))).toBe('pay_decrypt_failed');
    }
  });

  it('throws a configuration error for an APIv3 key that is not 32 bytes', () => {
    expect(() => decryptPayResource({ apiV3Key: 'short', resource: encrypt() })).toThrow('32 bytes');
  });
});
