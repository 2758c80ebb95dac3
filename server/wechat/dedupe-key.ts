import { createHash } from 'node:crypto';

/** 191 characters is the longest utf8mb4 VARCHAR a MySQL InnoDB unique index takes (767-byte prefix). */
const MAX_KEY_LENGTH = 191;
const KEPT_PREFIX_LENGTH = 120;

/**
 * Keeps a dedupe key short enough for a unique index while still unique: long keys keep a
 * readable prefix and append the SHA-256 of the whole key.
 */
export function compactKey(key: string): string {
  if (key.length <= MAX_KEY_LENGTH) return key;
  const digest = createHash('sha256').update(key, 'utf8').digest('hex');
  return `${key.slice(0, KEPT_PREFIX_LENGTH)}#${digest}`;
}

/** A short, stable digest of a parsed body: WeChat retries resend the same body, in the same order. */
export function digestFields(fields: object): string {
  return createHash('sha256').update(JSON.stringify(fields), 'utf8').digest('hex').slice(0, 16);
}
