import { createDecipheriv, createPublicKey, verify, constants, type KeyObject } from 'node:crypto';
import { ProtocolError } from './protocol-error';

/**
 * WeChat Pay API v3 notifications: verify the Wechatpay-* signature, then decrypt `resource`.
 * @link https://pay.weixin.qq.com/doc/v3/merchant/4012365342 (验证签名)
 * @link https://pay.weixin.qq.com/doc/v3/merchant/4012071382 (回调报文解密)
 */
export interface PayNotificationHeaders {
  /** Wechatpay-Timestamp */
  timestamp?: string;
  /** Wechatpay-Nonce */
  nonce?: string;
  /** Wechatpay-Signature (base64) */
  signature?: string;
  /** Wechatpay-Serial: a platform certificate serial, or a WeChat Pay public key id `PUB_KEY_ID_...` */
  serial?: string;
}

export interface VerifyPayNotificationParams {
  /** The body exactly as received: re-serialised JSON would not match the signature. */
  rawBody: string;
  headers: PayNotificationHeaders;
  /** Serial or public key id → public key (KeyObject or PEM). */
  publicKeys: ReadonlyMap<string, KeyObject | string>;
  nowSeconds: number;
  /** Largest allowed distance between Wechatpay-Timestamp and now; 0 turns the check off. */
  maxAgeSeconds: number;
}

export interface PayResource {
  algorithm: string;
  ciphertext: string;
  nonce: string;
  associated_data?: string;
}

export interface DecryptPayResourceParams {
  apiV3Key: string;
  resource: PayResource;
}

const GCM_TAG_LENGTH = 16;
const API_V3_KEY_LENGTH = 32;

/**
 * Signed message: "应答时间戳\n应答随机串\n应答报文主体\n", RSA with SHA-256 (PKCS#1 v1.5).
 * Probe notifications signed `WECHATPAY/SIGNTEST/...` fail here on purpose: they exist to check
 * that merchants do verify.
 */
export function verifyPayNotification(p: VerifyPayNotificationParams): void {
  const { timestamp, nonce, signature, serial } = p.headers;
  if (!timestamp || !nonce || !signature || !serial) {
    throw new ProtocolError('bad_pay_signature', 'Wechatpay-Timestamp, -Nonce, -Signature and -Serial are required');
  }
  const key = findPublicKey(p.publicKeys, serial);
  if (key === undefined) {
    throw new ProtocolError('bad_pay_signature', `no WeChat Pay public key for serial ${serial}`);
  }
  const message = Buffer.from(`${timestamp}\n${nonce}\n${p.rawBody}\n`, 'utf8');
  if (!verifyRsaSha256(key, message, signature)) {
    throw new ProtocolError('bad_pay_signature', 'WeChat Pay signature does not match');
  }
  if (p.maxAgeSeconds > 0) {
    const sentAt = /^\d{1,15}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
    if (!Number.isFinite(sentAt) || Math.abs(p.nowSeconds - sentAt) > p.maxAgeSeconds) {
      throw new ProtocolError('pay_timestamp_expired', 'Wechatpay-Timestamp is outside the allowed window');
    }
  }
}

function findPublicKey(keys: ReadonlyMap<string, KeyObject | string>, serial: string): KeyObject | undefined {
  // Certificate serials are hex; sources differ on letter case.
  let found = keys.get(serial);
  if (found === undefined) {
    for (const [candidate, key] of keys) {
      if (candidate.toUpperCase() === serial.toUpperCase()) found = key;
    }
  }
  if (found === undefined) return undefined;
  if (typeof found !== 'string') return found;
  try {
    return createPublicKey(found);
  } catch {
    throw new Error(`the WeChat Pay public key configured for serial ${serial} is not a valid PEM key`);
  }
}

function verifyRsaSha256(key: KeyObject, message: Buffer, signatureBase64: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureBase64)) return false;
  try {
    return verify('sha256', message, { key, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(signatureBase64, 'base64'));
  } catch {
    // A signature the key cannot even check (wrong length, unusable key) is simply not valid.
    return false;
  }
}

/**
 * AEAD_AES_256_GCM with the APIv3 key; the last 16 bytes of `ciphertext` are the auth tag.
 * `final()` checks the tag, so a tampered resource is an error, never garbage.
 */
export function decryptPayResource(p: DecryptPayResourceParams): string {
  const key = Buffer.from(p.apiV3Key, 'utf8');
  if (key.length !== API_V3_KEY_LENGTH) throw new Error('the WeChat Pay APIv3 key must be 32 bytes');
  const { algorithm, ciphertext, nonce, associated_data: associatedData } = p.resource;
  if (algorithm !== 'AEAD_AES_256_GCM') {
    throw new ProtocolError('pay_decrypt_failed', `unsupported resource algorithm ${algorithm}`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(ciphertext) || nonce.length === 0) {
    throw new ProtocolError('pay_decrypt_failed', 'resource ciphertext or nonce is malformed');
  }
  const data = Buffer.from(ciphertext, 'base64');
  if (data.length <= GCM_TAG_LENGTH) {
    throw new ProtocolError('pay_decrypt_failed', 'resource ciphertext is shorter than the auth tag');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'utf8'), {
      authTagLength: GCM_TAG_LENGTH,
    });
    decipher.setAuthTag(data.subarray(data.length - GCM_TAG_LENGTH));
    decipher.setAAD(Buffer.from(associatedData ?? '', 'utf8'));
    const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - GCM_TAG_LENGTH)), decipher.final()]);
    return plain.toString('utf8');
  } catch {
    throw new ProtocolError('pay_decrypt_failed', 'resource failed AES-GCM authentication');
  }
}
