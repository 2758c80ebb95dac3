import { isUtf8 } from 'node:buffer';

export interface DecodedText {
  text: string;
  /** The bytes were not valid UTF-8; each bad sequence became U+FFFD. */
  invalidUtf8: boolean;
}

/**
 * Decodes a callback body (or a decrypted message) as UTF-8, replacing invalid sequences with
 * U+FFFD instead of refusing them. The rule: a verified signature proves the bytes came from
 * WeChat, and losing a real message is worse than one replaced character; the caller stores the
 * text and flags the interaction (`invalidUtf8: true`). Plain and encrypted callbacks both decode
 * here, so the two modes cannot disagree. A BOM is kept as U+FEFF, as Buffer#toString keeps it.
 */
export function decodeUtf8Replacing(bytes: Uint8Array): DecodedText {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { text: buffer.toString('utf8'), invalidUtf8: !isUtf8(buffer) };
}
