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
const MAX_DEPTH = 32;

/**
 * Parses a callback body `<xml>...</xml>` and returns the root's children.
 *
 * WeChat and WeCom send a small, fixed subset of XML: elements, CDATA, plain text, an optional
 * declaration. This parser reads exactly that, strictly, in one pass. It has no DTD support at
 * all, so entity expansion and XXE cannot happen: a DOCTYPE or ENTITY declaration is refused.
 * It replaced xml2js (sax) here because two sax parses were the largest CPU cost of a callback
 * (about 56 µs of ~450 µs, docs/BENCHMARKS.md); its results are checked against xml2js's in
 * test/unit/wechat/xml.test.ts, which stays the reference.
 *
 * Results follow xml2js with `explicitArray: false, ignoreAttrs: true, trim: false`: text as a
 * string, kept byte for byte (CDATA too); elements named twice become arrays; an element with
 * children and non-blank text keeps the text under `_`.
 */
export function parseXmlMessage(xml: string, maxBytes: number = DEFAULT_MAX_BYTES): XmlFields {
  // Cheap bound first: a UTF-16 unit is at least one UTF-8 byte.
  if (xml.length > maxBytes || Buffer.byteLength(xml, 'utf8') > maxBytes) {
    throw new ProtocolError('xml_too_large', `XML body is larger than ${maxBytes} bytes`);
  }
  const reader = new XmlReader(xml);
  const root = reader.readDocument();
  if (root.name !== 'xml') throw malformed('XML root element must be <xml>');
  if (typeof root.value === 'string') {
    // `<xml></xml>` or `<xml>text</xml>`: a root with no fields.
    if (!isBlank(root.value)) throw malformed('XML root holds text, not fields');
    return {};
  }
  if (Array.isArray(root.value)) throw malformed('XML root element must be <xml>');
  return root.value;
}

function malformed(reason: string): ProtocolError {
  return new ProtocolError('malformed_xml', reason.startsWith('XML') ? reason : `XML could not be parsed: ${reason}`);
}

const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f; // /
const BANG = 0x21; // !
const QUESTION = 0x3f; // ?

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

function isNameStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x3a;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e;
}

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** `&amp;` and friends and numeric references; anything else would need a DTD, so it is refused. */
function decodeEntities(text: string): string {
  if (text.indexOf('&') === -1) return text;
  return text.replace(/&([^;&<]*);?/g, (match: string, name: string) => {
    if (!match.endsWith(';')) throw malformed('a bare & in text');
    const predefined = PREDEFINED_ENTITIES[name];
    if (predefined !== undefined) return predefined;
    const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name);
    const code = numeric ? Number.parseInt(numeric[1] ?? numeric[2] ?? '', numeric[1] !== undefined ? 16 : 10) : NaN;
    if (!isXmlChar(code)) throw malformed(`unknown entity &${name};`);
    return String.fromCodePoint(code);
  });
}

/** XML 1.0's Char production: references to control characters or surrogates are refused. */
function isXmlChar(code: number): boolean {
  if (code < 0x20) return code === 0x09 || code === 0x0a || code === 0x0d;
  return code <= 0xd7ff || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

/** A single forward pass over the document; every method leaves `pos` after what it read. */
class XmlReader {
  private pos = 0;

  constructor(private readonly src: string) {}

  readDocument(): { name: string; value: XmlValue } {
    if (this.src.charCodeAt(0) === 0xfeff) this.pos = 1;
    this.skipMisc();
    if (this.src.charCodeAt(this.pos) !== LT || !isNameStart(this.src.charCodeAt(this.pos + 1))) {
      throw malformed(this.pos >= this.src.length ? 'no root element' : 'text before the root element');
    }
    this.pos += 1;
    const name = this.readName();
    const value = this.readElement(name, 1);
    this.skipMisc();
    if (this.pos < this.src.length) throw malformed('content after the root element');
    return { name, value };
  }

  /** Whitespace, comments and processing instructions (the XML declaration) around the root. */
  private skipMisc(): void {
    for (;;) {
      this.skipBlanks();
      if (this.src.startsWith('<?', this.pos)) this.skipProcessingInstruction(this.pos + 2);
      else if (this.src.startsWith('<!--', this.pos)) this.skipComment(this.pos + 4);
      else if (this.src.charCodeAt(this.pos) === LT && this.src.charCodeAt(this.pos + 1) === BANG) throw this.declarationRefused();
      else return;
    }
  }

  private declarationRefused(): ProtocolError {
    const word = this.src.slice(this.pos + 2, this.pos + 9).toUpperCase();
    return word.startsWith('DOCTYPE') || word.startsWith('ENTITY')
      ? malformed('XML with a DTD or entity declaration is refused')
      : malformed('an unexpected <! declaration');
  }

  /** From just after `<?`. The XML declaration is the only one WeChat sends; markup inside is refused. */
  private skipProcessingInstruction(from: number): void {
    const end = this.src.indexOf('?>', from);
    if (end === -1) throw malformed('an unclosed processing instruction');
    if (this.src.slice(from, end).includes('<')) throw malformed('markup inside a processing instruction');
    this.pos = end + 2;
  }

  /** From just after `<!--`: a comment ends at its first `--`, which must be followed by `>`. */
  private skipComment(from: number): void {
    const dashes = this.src.indexOf('--', from);
    if (dashes === -1) throw malformed('an unclosed comment');
    if (this.src.charCodeAt(dashes + 2) !== GT) throw malformed('-- inside a comment');
    this.pos = dashes + 3;
  }

  private readName(): string {
    const start = this.pos;
    if (!isNameStart(this.src.charCodeAt(this.pos))) throw malformed('an invalid element name');
    while (isNameChar(this.src.charCodeAt(this.pos))) this.pos += 1;
    return this.src.slice(start, this.pos);
  }

  /** Called after `<name`: reads the attributes (ignored), the content and the end tag. */
  private readElement(name: string, depth: number): XmlValue {
    // Names like `__proto__` or `toString` would collide with Object.prototype, and `_` with the
    // key of mixed text; WeChat never sends them.
    if (name === '_' || name in Object.prototype) throw malformed(`XML element name <${name}> is refused`);
    // The body may be read before its signature is checked (the envelope holds what is signed), so
    // deep nesting must not reach the stack's limit; WeChat's messages nest four levels at most.
    if (depth > MAX_DEPTH) throw malformed(`elements nested deeper than ${MAX_DEPTH}`);
    if (this.skipAttributes()) return '';

    let children: XmlFields | null = null;
    let text = '';
    let sawCdata = false;
    for (;;) {
      const lt = this.src.indexOf('<', this.pos);
      if (lt === -1) throw malformed(`an unclosed element <${name}>`);
      if (lt > this.pos) text += decodeEntities(this.src.slice(this.pos, lt));
      this.pos = lt + 1;
      const next = this.src.charCodeAt(this.pos);
      if (next === SLASH) {
        this.pos += 1;
        const closing = this.readName();
        this.skipBlanks();
        if (closing !== name || this.src.charCodeAt(this.pos) !== GT) throw malformed(`<${name}> closed by </${closing}>`);
        this.pos += 1;
        break;
      }
      if (next === BANG) {
        if (this.src.startsWith('[CDATA[', this.pos + 1)) {
          const end = this.src.indexOf(']]>', this.pos + 8);
          if (end === -1) throw malformed('an unclosed CDATA section');
          text += this.src.slice(this.pos + 8, end);
          sawCdata = true;
          this.pos = end + 3;
        } else if (this.src.startsWith('--', this.pos + 1)) {
          this.skipComment(this.pos + 3);
        } else {
          this.pos -= 1;
          throw this.declarationRefused();
        }
        continue;
      }
      if (next === QUESTION) {
        this.skipProcessingInstruction(this.pos + 1);
        continue;
      }
      const childName = this.readName();
      const value = this.readElement(childName, depth + 1);
      children ??= {};
      const previous = Object.hasOwn(children, childName) ? children[childName] : undefined;
      if (previous === undefined) children[childName] = value;
      else if (Array.isArray(previous)) previous.push(value);
      else children[childName] = [previous, value];
    }
    if (children === null) return text;
    if (sawCdata ? text !== '' : !isBlank(text)) children['_'] = text;
    return children;
  }

  /** Skips `a="1" b='2'` up to `>` or `/>`; true when the element closed itself. */
  private skipAttributes(): boolean {
    for (;;) {
      const hadBlank = this.skipBlanks();
      const c = this.src.charCodeAt(this.pos);
      if (c === GT) {
        this.pos += 1;
        return false;
      }
      if (c === SLASH && this.src.charCodeAt(this.pos + 1) === GT) {
        this.pos += 2;
        return true;
      }
      if (!hadBlank || !isNameStart(c)) throw malformed(this.pos >= this.src.length ? 'an unclosed tag' : 'an invalid attribute');
      this.readName();
      this.skipBlanks();
      if (this.src.charCodeAt(this.pos) !== 0x3d) throw malformed('an attribute without a value');
      this.pos += 1;
      this.skipBlanks();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") throw malformed('an unquoted attribute value');
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end === -1) throw malformed('an unclosed attribute value');
      const value = this.src.slice(this.pos + 1, end);
      if (value.includes('<')) throw malformed('a < in an attribute value');
      decodeEntities(value);
      this.pos = end + 1;
    }
  }

  private skipBlanks(): boolean {
    const start = this.pos;
    for (;;) {
      const c = this.src.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return this.pos > start;
      this.pos += 1;
    }
  }
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
