import type { AuditDetail } from '../shared/types';

/**
 * The audit screen's logic, pure so jest tests it: the detail as readable lines, and the date
 * filter's days turned into instants in the business time zone (the API takes ISO times).
 */
export interface DetailLine {
  field: string;
  text: string;
}

function show(value: AuditDetail[string] | undefined): string {
  if (value === undefined || value === null || value === '') return '∅';
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

/** An update's `changed` + `before.x`/`after.x` become one "before → after" line per field; other keys as they are. */
export function auditDetailLines(detail: AuditDetail | null | undefined): DetailLine[] {
  if (!detail) return [];
  const lines: DetailLine[] = [];
  const changed = Array.isArray(detail.changed) ? detail.changed.map(String) : [];
  for (const field of changed) lines.push({ field, text: `${show(detail[`before.${field}`])} → ${show(detail[`after.${field}`])}` });
  for (const [key, value] of Object.entries(detail)) {
    if (key === 'changed') continue;
    const dot = key.indexOf('.');
    if (dot > 0 && (key.startsWith('before.') || key.startsWith('after.')) && changed.includes(key.slice(dot + 1))) continue;
    lines.push({ field: key, text: show(value) });
  }
  return lines;
}

/** The offset of `timeZone` from UTC at `at`, in milliseconds (positive east of Greenwich). */
function offsetAt(at: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  const formatter = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    hourCycle: 'h23',
  });
  for (const part of formatter.formatToParts(new Date(at))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return wall - Math.floor(at / 1000) * 1000;
}

/** Midnight starting day `YYYY-MM-DD` (plus `addDays`) in the zone, as an ISO instant; null for no day. */
export function dayStartIso(day: string | null | undefined, timeZone: string, addDays = 0): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day ?? '');
  if (!match) return null;
  const guess = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + addDays);
  // Two passes: the offset at the guessed instant, then at the corrected one (daylight-saving edges).
  let at = guess - offsetAt(guess, timeZone);
  at = guess - offsetAt(at, timeZone);
  return new Date(at).toISOString();
}

/** The audit-log query for a from..to day range (both days included). */
export function auditRange(from: string | null, to: string | null, timeZone: string): { from?: string; to?: string } {
  const out: { from?: string; to?: string } = {};
  const start = dayStartIso(from, timeZone);
  const end = dayStartIso(to, timeZone, 1);
  if (start) out.from = start;
  if (end) out.to = end;
  return out;
}
