import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Tencent Cloud API 3.0's request signature (TC3-HMAC-SHA256), checked as the platform checks it:
 * the canonical request is rebuilt from the bytes and headers received, the string to sign from the
 * timestamp and the credential scope, and the key from the chain TC3<SecretKey> → date → service →
 * tc3_request. Pure: the sandbox passes the request and the keys it knows.
 * @link https://cloud.tencent.com/document/api/382/52072 (签名方法 v3)
 */

/** How far X-TC-Timestamp may be from the server's time: "时间戳与服务器时间相差超过五分钟" → AuthFailure.SignatureExpire. */
export const TC3_MAX_SKEW_S = 300;

export interface Tc3Request {
  method: string;
  /** The request's path (`/`, or the sandbox's `/sandbox/sms/`) and query, as received. */
  path: string;
  query: string;
  /** Header names in lower case, as received. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export type Tc3Failure =
  'AuthFailure.InvalidAuthorization' | 'AuthFailure.SignatureExpire' | 'AuthFailure.SecretIdNotFound' | 'AuthFailure.SignatureFailure';

export type Tc3Result = { ok: true; secretId: string } | { ok: false; code: Tc3Failure; message: string };

/**
 * Verifies a request's Authorization against `secrets` (SecretId → SecretKey) for `service` (the
 * product the host names, `sms`). `nowS` is the platform's time in seconds.
 */
export function verifyTc3Request(req: Tc3Request, p: { service: string; secrets: ReadonlyMap<string, string>; nowS: number }): Tc3Result {
  const auth =
    /^TC3-HMAC-SHA256 Credential=([^/\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      req.headers.authorization ?? '',
    );
  if (!auth)
    return fail(
      'AuthFailure.InvalidAuthorization',
      'Authorization header is not TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…',
    );
  const [, secretId, date, service, signedHeaders, signature] = auth;
  const timestampText = req.headers['x-tc-timestamp'] ?? '';
  if (!/^\d{1,12}$/.test(timestampText)) return fail('AuthFailure.InvalidAuthorization', 'X-TC-Timestamp is missing or not a number');
  const timestamp = Number(timestampText);
  if (Math.abs(p.nowS - timestamp) > TC3_MAX_SKEW_S)
    return fail(
      'AuthFailure.SignatureExpire',
      `signature expired: X-TC-Timestamp ${timestamp} is more than 5 minutes from the server time ${p.nowS}`,
    );
  const secretKey = p.secrets.get(secretId);
  if (secretKey === undefined) return fail('AuthFailure.SecretIdNotFound', 'the SecretId is not found');
  // The scope must be the timestamp's UTC day and this product; content-type and host must be signed.
  const names = signedHeaders.split(';');
  if (date !== utcDate(timestamp) || service !== p.service || !names.includes('content-type') || !names.includes('host'))
    return fail('AuthFailure.SignatureFailure', 'the credential scope or the signed headers do not match the request');
  const canonicalHeaders = names.map((name) => `${name}:${headerValue(req.headers, name)}\n`).join('');
  const canonicalRequest = [req.method.toUpperCase(), req.path, req.query, canonicalHeaders, signedHeaders, sha256Hex(req.body)].join('\n');
  const expected = tc3Signature({ secretKey, date, service, timestamp, canonicalRequest });
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(signature, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b))
    return fail('AuthFailure.SignatureFailure', 'the request signature we calculated does not match the signature you provided');
  return { ok: true, secretId };
}

/** The hex signature of a canonical request (the signer's half, also used by tests). */
export function tc3Signature(p: { secretKey: string; date: string; service: string; timestamp: number; canonicalRequest: string }): string {
  const scope = `${p.date}/${p.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(p.timestamp), scope, sha256Hex(p.canonicalRequest)].join('\n');
  const kDate = hmac(`TC3${p.secretKey}`, p.date);
  const kService = hmac(kDate, p.service);
  const kSigning = hmac(kService, 'tc3_request');
  return createHmac('sha256', kSigning).update(stringToSign).digest('hex');
}

/**
 * A signed header's value as the canonical request has it: lower case, trimmed ("头部 key 和 value
 * 统一转成小写，并去掉首尾的空格"). Host is the host without its port: the
 * platform is on the default port, where Host carries none, and the SDK signs the URL's hostname;
 * the sandbox listens on a port of its own.
 */
function headerValue(headers: Tc3Request['headers'], name: string): string {
  const value = (headers[name] ?? '').trim().toLowerCase();
  return name === 'host' ? value.replace(/:\d+$/, '') : value;
}

function utcDate(timestampS: number): string {
  return new Date(timestampS * 1000).toISOString().slice(0, 10);
}

function hmac(key: string | Buffer, message: string): Buffer {
  return createHmac('sha256', key).update(message).digest();
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function fail(code: Tc3Failure, message: string): Tc3Result {
  return { ok: false, code, message };
}
