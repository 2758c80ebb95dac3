/**
 * The `Range` header of a GET for one file (RFC 9110 §14), pure. One range is served as 206; a
 * request for several is answered with the whole file (200), which §14.2 allows ("a server MAY
 * ignore the Range header field"), rather than a multipart body no video player asks for.
 */
export type RangeAnswer =
  /** No range asked, or one that is ignored: the whole file. */
  | { kind: 'whole' }
  /** Bytes start..end inclusive. */
  | { kind: 'partial'; start: number; end: number }
  /** 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' };

export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined || header.trim() === '') return { kind: 'whole' };
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  // Another unit, or a header we cannot read: ignored (§14.2).
  if (!match) return { kind: 'whole' };
  const specs = match[1].split(',').map((spec) => spec.trim());
  if (specs.length !== 1) return { kind: 'whole' };
  const spec = /^(\d*)-(\d*)$/.exec(specs[0]);
  if (!spec || (spec[1] === '' && spec[2] === '')) return { kind: 'whole' };
  if (spec[1] === '') {
    // A suffix: the last n bytes (all of them when n is larger than the file).
    const length = Number(spec[2]);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(spec[1]);
  const end = spec[2] === '' ? size - 1 : Math.min(Number(spec[2]), size - 1);
  if (spec[2] !== '' && Number(spec[2]) < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}
