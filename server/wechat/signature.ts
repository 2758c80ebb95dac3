import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The SHA-1 signature WeChat puts on callbacks: sort the parts in dictionary order, concatenate,
 * hex-encode the SHA-1.
 * - Official Account plain mode `signature`: [token, timestamp, nonce]
 * - safe mode and WeCom `msg_signature`: [token, timestamp, nonce, encrypt]
 * @link https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 * @link https://developer.work.weixin.qq.com/document/path/90968
 */
export function computeSha1Signature(parts: string[]): string {
  // Default sort compares UTF-16 code units, which for the ASCII parts WeChat uses is the
  // byte-wise dictionary order the platform's reference code (Java Arrays.sort) applies.
  const joined = [...parts].sort().join('');
  return createHash('sha1').update(joined, 'utf8').digest('hex');
}

/** Constant-time check so the comparison does not leak how many leading characters matched. */
export function verifySha1Signature(signature: string | undefined, parts: string[]): boolean {
  if (typeof signature !== 'string' || signature.length === 0) return false;
  const expected = Buffer.from(computeSha1Signature(parts), 'utf8');
  const given = Buffer.from(signature.toLowerCase(), 'utf8');
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}
