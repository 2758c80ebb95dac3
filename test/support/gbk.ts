import { TextDecoder } from 'node:util';

let table: Map<string, Buffer> | null = null;

/**
 * Text as Excel in China saves it (GBK, code page 936), for test files. Node encodes no GBK, so
 * the table is built backwards from the decoder: every two-byte GBK code decoded once.
 */
export function encodeGbk(text: string): Buffer {
  table ??= buildTable();
  const parts: Buffer[] = [];
  for (const char of text) {
    if (char.charCodeAt(0) < 0x80) parts.push(Buffer.from(char, 'latin1'));
    else {
      const bytes = table.get(char);
      if (!bytes) throw new Error(`no GBK code for ${char}`);
      parts.push(bytes);
    }
  }
  return Buffer.concat(parts);
}

function buildTable(): Map<string, Buffer> {
  const decoder = new TextDecoder('gbk');
  const map = new Map<string, Buffer>();
  for (let lead = 0x81; lead <= 0xfe; lead += 1)
    for (let trail = 0x40; trail <= 0xfe; trail += 1) {
      if (trail === 0x7f) continue;
      const bytes = Buffer.from([lead, trail]);
      const char = decoder.decode(bytes);
      if (char.length === 1 && char !== '\uFFFD' && !map.has(char)) map.set(char, bytes);
    }
  return map;
}
