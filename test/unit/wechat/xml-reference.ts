import { Parser } from 'xml2js';

/**
 * The reference that parseXmlMessage is checked against: xml2js (sax, strict mode) with the
 * options Flywheel used before its own parser, and the same rules on top (one root named
 * `xml`, no DTD, no element named like an Object.prototype member). Returns the root's
 * children, or null where parseXmlMessage must refuse the document.
 */
export function parseWithXml2js(xml: string): Record<string, unknown> | null {
  if (/<!(DOCTYPE|ENTITY)/i.test(xml.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g, ''))) return null;
  let result: unknown = null;
  let ends = 0;
  let failed = false;
  let unsafeName = false;
  const parser = new Parser({
    strict: true,
    async: false,
    explicitArray: false,
    explicitRoot: true,
    ignoreAttrs: true,
    trim: false,
    normalize: false,
    emptyTag: '',
    tagNameProcessors: [
      (name: string): string => {
        if (name in Object.prototype) unsafeName = true;
        return name;
      },
    ],
  });
  // Listeners, not parseString's callback: it resets on the first root close and would miss
  // errors in trailing content.
  parser.on('end', (value: unknown) => {
    ends += 1;
    result = value;
  });
  parser.on('error', () => {
    failed = true;
  });
  try {
    parser.parseString(xml);
  } catch {
    failed = true;
  }
  if (failed || unsafeName || ends !== 1 || !isObject(result) || Object.keys(result).length !== 1) return null;
  const root = result['xml'];
  if (typeof root === 'string') return root.trim() === '' ? {} : null;
  return isObject(root) ? root : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
