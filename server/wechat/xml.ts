import { Parser } from 'xml2js';
import { ProtocolError } from './protocol-error';

/** The children of one XML element: text as strings, nested elements as objects, repeats as arrays. */
export type XmlValue = string | XmlFields | XmlValue[];
export interface XmlFields {
  [name: string]: XmlValue;
}

export type XmlBuildValue = string | number | XmlBuildFields | XmlBuildValue[];
export interface XmlBuildFields {
  [name: string]: XmlBuildValue;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
// WeChat never sends a DTD; refusing one up front rules out entity expansion and XXE. Comments
// and CDATA are skipped whole, so a user who types "<!DOCTYPE" into a message is not refused.
const DTD_SCAN = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<!(DOCTYPE|ENTITY)/gi;

/**
 * Parses a callback body `<xml>...</xml>` and returns the root's children.
 * CDATA content is kept byte for byte (no trimming), elements named twice become arrays.
 */
export function parseXmlMessage(xml: string, maxBytes: number = DEFAULT_MAX_BYTES): XmlFields {
  if (Buffer.byteLength(xml, 'utf8') > maxBytes) {
    throw new ProtocolError('xml_too_large', `XML body is larger than ${maxBytes} bytes`);
  }
  if (declaresDtd(xml)) {
    throw new ProtocolError('malformed_xml', 'XML with a DTD or entity declaration is refused');
  }
  const parsed = parseStrictly(xml);
  if (!isPlainObject(parsed)) throw new ProtocolError('malformed_xml', 'XML has no root element');
  const names = Object.keys(parsed);
  const root: unknown = parsed['xml'];
  if (names.length !== 1 || root === undefined) {
    throw new ProtocolError('malformed_xml', 'XML root element must be <xml>');
  }
  if (typeof root === 'string') {
    // `<xml></xml>` or `<xml>text</xml>`: a root with no fields.
    if (root.trim() !== '') throw new ProtocolError('malformed_xml', 'XML root holds text, not fields');
    return {};
  }
  if (!isPlainObject(root)) throw new ProtocolError('malformed_xml', 'XML root element must be <xml>');
  return toXmlFields(root);
}

function declaresDtd(xml: string): boolean {
  for (const match of xml.matchAll(DTD_SCAN)) {
    if (match[1] !== undefined) return true;
  }
  return false;
}

/** Copies xml2js's untyped result into XmlFields, checking every value on the way. */
function toXmlFields(source: Record<string, unknown>): XmlFields {
  const fields: XmlFields = {};
  for (const [name, value] of Object.entries(source)) fields[name] = toXmlValue(value);
  return fields;
}

function toXmlValue(value: unknown): XmlValue {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((item: unknown) => toXmlValue(item));
  if (isPlainObject(value)) return toXmlFields(value);
  throw new ProtocolError('malformed_xml', 'XML produced an unexpected value');
}

function parseStrictly(xml: string): unknown {
  let result: unknown = null;
  let ends = 0;
  let failure: unknown = null;
  // Assigned inside the parser's callback, which TypeScript's flow analysis does not see.
  let unsafeName = null as string | null;
  const parser = new Parser({
    strict: true,
    async: false,
    explicitArray: false,
    explicitRoot: true,
    ignoreAttrs: true,
    trim: false,
    normalize: false,
    emptyTag: '',
    // xml2js merges an element named like an Object.prototype member (`__proto__`, `toString`)
    // with the inherited value; WeChat never sends such names, so they are refused.
    tagNameProcessors: [
      (name: string): string => {
        if (name in Object.prototype) unsafeName = unsafeName ?? name;
        return name;
      },
    ],
  });
  // Listeners instead of the parseString callback: the callback resets the parser on the first
  // root close, which would drop errors in trailing content (a second root, junk after </xml>).
  parser.on('end', (value: unknown) => {
    ends += 1;
    result = value;
  });
  parser.on('error', (error: unknown) => {
    failure = failure ?? error;
  });
  try {
    parser.parseString(xml);
  } catch (error) {
    failure = failure ?? error;
  }
  if (unsafeName !== null) throw new ProtocolError('malformed_xml', `XML element name <${unsafeName}> is refused`);
  if (failure !== null || ends !== 1 || result === null) {
    throw new ProtocolError('malformed_xml', `XML could not be parsed: ${describe(failure)}`);
  }
  return result;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.message;
  return 'no single root element';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Builds `<xml>...</xml>` the way WeChat writes it: strings in CDATA, numbers bare, arrays as
 * repeated elements, objects as nested elements.
 */
export function buildXml(fields: XmlBuildFields): string {
  return `<xml>${buildChildren(fields)}</xml>`;
}

function buildChildren(fields: XmlBuildFields): string {
  return Object.entries(fields)
    .map(([name, value]) => buildElement(name, value))
    .join('');
}

function buildElement(name: string, value: XmlBuildValue): string {
  assertElementName(name);
  if (Array.isArray(value)) return value.map((item) => buildElement(name, item)).join('');
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`XML element <${name}> needs a finite number`);
    return `<${name}>${String(value)}</${name}>`;
  }
  if (typeof value === 'string') return `<${name}>${wrapCdata(value)}</${name}>`;
  return `<${name}>${buildChildren(value)}</${name}>`;
}

/** A CDATA section cannot contain `]]>`; close it between `]]` and `>` and reopen. */
function wrapCdata(text: string): string {
  return `<![CDATA[${text.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

const ELEMENT_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function assertElementName(name: string): void {
  if (!ELEMENT_NAME_PATTERN.test(name)) throw new Error(`invalid XML element name: ${name}`);
}
