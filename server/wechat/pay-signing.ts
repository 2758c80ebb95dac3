import { constants, createCipheriv, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { PayResource } from './pay-notification';

/**
 * The signing half of WeChat Pay API v3, beside pay-notification.ts (the verifying half): the
 * request signature a merchant sends in `Authorization`, and what the platform does to sign and
 * encrypt a notification. The sandbox plays the platform with these; Flywheel checks the client's
 * pay-sign parameters with them in tests.
 * @link https://pay.weixin.qq.com/doc/v3/merchant/4012365336 (签名生成)
 */

export const PAY_AUTH_SCHEME = 'WECHATPAY2-SHA256-RSA2048';

export interface PayAuthorization {
  mchid: string;
  nonceStr: string;
  timestamp: string;
  serialNo: string;
  signature: string;
}

/** SHA256withRSA (PKCS#1 v1.5), base64. */
export function signPayMessage(privateKey: KeyObject | string, message: string): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return sign('sha256', Buffer.from(message, 'utf8'), { key, padding: constants.RSA_PKCS1_PADDING }).toString('base64');
}

export function verifyPayMessage(publicKey: KeyObject | string, message: string, signatureBase64: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureBase64)) return false;
  try {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    return verify(
      'sha256',
      Buffer.from(message, 'utf8'),
      { key, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from(signatureBase64, 'base64'),
    );
  } catch {
    return false;
  }
}

/** "HTTP请求方法\nURL\n请求时间戳\n请求随机串\n请求报文主体\n"; a GET has an empty body line. */
export function payRequestMessage(p: { method: string; path: string; timestamp: string; nonceStr: string; body: string }): string {
  return `${p.method}\n${p.path}\n${p.timestamp}\n${p.nonceStr}\n${p.body}\n`;
}

/** `WECHATPAY2-SHA256-RSA2048 mchid="...",nonce_str="...",timestamp="...",serial_no="...",signature="..."`, or null. */
export function parsePayAuthorization(header: string | undefined): PayAuthorization | null {
  if (!header?.startsWith(`${PAY_AUTH_SCHEME} `)) return null;
  const fields = new Map<string, string>();
  for (const match of header.slice(PAY_AUTH_SCHEME.length + 1).matchAll(/\s*([a-z_]+)="([^"]*)"\s*,?/g)) fields.set(match[1], match[2]);
  const mchid = fields.get('mchid');
  const nonceStr = fields.get('nonce_str');
  const timestamp = fields.get('timestamp');
  const serialNo = fields.get('serial_no');
  const signature = fields.get('signature');
  if (!mchid || !nonceStr || !timestamp || !serialNo || !signature) return null;
  return { mchid, nonceStr, timestamp, serialNo, signature };
}

/** The JSAPI pay-sign message: "appId\ntimeStamp\nnonceStr\npackage\n" (调起支付签名). */
export function jsapiPaySignMessage(p: { appId: string; timeStamp: string; nonceStr: string; package: string }): string {
  return `${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`;
}

/** AEAD_AES_256_GCM as the platform encrypts `resource`: ciphertext and its 16-byte tag, base64. */
export function encryptPayResource(p: { apiV3Key: string; plaintext: string; associatedData: string; nonce: string }): PayResource {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(p.apiV3Key, 'utf8'), Buffer.from(p.nonce, 'utf8'), { authTagLength: 16 });
  cipher.setAAD(Buffer.from(p.associatedData, 'utf8'));
  const data = Buffer.concat([cipher.update(p.plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { algorithm: 'AEAD_AES_256_GCM', ciphertext: data.toString('base64'), nonce: p.nonce, associated_data: p.associatedData };
}
