import type { XmlFields, XmlValue } from './xml';

/** Text of a field; for a field that appears twice, its first text. Nested elements are not text. */
export function readText(fields: XmlFields, name: string): string | undefined {
  return firstText(fields[name]);
}

function firstText(value: XmlValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return firstText(value[0]);
  return undefined;
}

/** Every text of a field, whether it appears once or many times. */
export function readTexts(fields: XmlFields, name: string): string[] {
  const value = fields[name];
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.filter((item): item is string => typeof item === 'string');
}

/** Every nested element of a field, whether it appears once or many times. */
export function readElements(fields: XmlFields, name: string): XmlFields[] {
  const value = fields[name];
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.filter(isElement);
}

/** A non-empty, finite decimal; WeChat sends coordinates and times as text. */
export function readNumber(fields: XmlFields, name: string): number | undefined {
  const text = readText(fields, name)?.trim();
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** A value that is present and not blank. */
export function readNonEmpty(fields: XmlFields, name: string): string | undefined {
  const text = readText(fields, name);
  return text === undefined || text.trim() === '' ? undefined : text;
}

function isElement(value: XmlValue): value is XmlFields {
  return typeof value === 'object' && !Array.isArray(value);
}

/**
 * How much of an unrecognised push is copied into an interaction's detail (the raw body is not
 * kept): enough for any documented event, bounded so a hostile signed body cannot bloat the row.
 */
export const COLLECTED_FIELD_LIMITS = {
  /** Fields copied, in document order. */
  maxFields: 32,
  /** Characters of one value (or of one item of a repeated field). */
  maxValueChars: 1_000,
  /** Characters of all values together. */
  maxTotalChars: 8_000,
} as const;

export interface CollectedFields {
  /** Keyed by the XML element name, so they cannot collide with Flywheel's camelCase detail keys. */
  fields: Record<string, string | string[]>;
  /** Something was cut or left out to stay within COLLECTED_FIELD_LIMITS. */
  truncated: boolean;
}

/**
 * The top-level fields of a push that no parser knows, as detail values, so that a new WeChat or
 * WeCom event is recorded with what it said: text as it is, a repeated text field as a list, a
 * nested element (or a field repeated with elements) as its JSON text.
 */
export function collectFields(fields: XmlFields, exclude: ReadonlySet<string>): CollectedFields {
  const { maxFields, maxValueChars, maxTotalChars } = COLLECTED_FIELD_LIMITS;
  const out: Record<string, string | string[]> = {};
  let truncated = false;
  let count = 0;
  let budget: number = maxTotalChars;
  const cut = (text: string): string => {
    const limit = Math.min(maxValueChars, budget);
    if (text.length > limit) truncated = true;
    const kept = text.length > limit ? text.slice(0, limit) : text;
    budget -= kept.length;
    return kept;
  };
  for (const [name, value] of Object.entries(fields)) {
    if (exclude.has(name) || name === '_') continue;
    if (count === maxFields || budget === 0) {
      truncated = true;
      break;
    }
    count += 1;
    if (typeof value === 'string') out[name] = cut(value);
    else if (Array.isArray(value) && value.every((item): item is string => typeof item === 'string')) out[name] = value.map(cut);
    else out[name] = cut(JSON.stringify(value));
  }
  return { fields: out, truncated };
}
