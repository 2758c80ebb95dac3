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
