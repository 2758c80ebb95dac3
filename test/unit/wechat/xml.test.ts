import { buildXml, parseXmlMessage } from '../../../server/wechat/xml';
import { parseWithXml2js } from './xml-reference';
import { catchProtocolCode } from './fixtures';

describe('parseXmlMessage', () => {
  it('returns the children of <xml> with CDATA and plain text as strings', () => {
    const xml = `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[this is a test]]></Content>
  <MsgId>1234567890123456</MsgId>
</xml>`;
    expect(parseXmlMessage(xml)).toEqual({
      ToUserName: 'toUser',
      FromUserName: 'fromUser',
      CreateTime: '1348831860',
      MsgType: 'text',
      Content: 'this is a test',
      MsgId: '1234567890123456',
    });
  });

  it('keeps CDATA content exactly, including whitespace, markup and newlines', () => {
    const fields = parseXmlMessage('<xml><Content><![CDATA[  <b>hi</b> & 你好\n ]]></Content></xml>');
    expect(fields['Content']).toBe('  <b>hi</b> & 你好\n ');
  });

  it('accepts DOCTYPE and ENTITY text inside CDATA and comments', () => {
    const fields = parseXmlMessage('<xml><!-- <!DOCTYPE x> --><Content><![CDATA[<!DOCTYPE html><!ENTITY a>]]></Content></xml>');
    expect(fields['Content']).toBe('<!DOCTYPE html><!ENTITY a>');
  });

  it('decodes the predefined entities in plain text', () => {
    expect(parseXmlMessage('<xml><A>a &amp; b &lt;c&gt;</A></xml>')['A']).toBe('a & b <c>');
  });

  it('turns repeated elements into arrays and nested elements into objects', () => {
    const fields = parseXmlMessage(
      '<xml><Outer><List><Id>1</Id></List><List><Id>2</Id></List></Outer><Tag>a</Tag><Tag>b</Tag><Empty></Empty><Self/></xml>',
    );
    expect(fields).toEqual({
      Outer: { List: [{ Id: '1' }, { Id: '2' }] },
      Tag: ['a', 'b'],
      Empty: '',
      Self: '',
    });
  });

  it('accepts nesting up to 32 levels', () => {
    const fields = parseXmlMessage(`<xml>${'<A>'.repeat(31)}x${'</A>'.repeat(31)}</xml>`);
    expect(JSON.stringify(fields)).toContain('"x"');
  });

  it('accepts an XML declaration and ignores attributes', () => {
    expect(parseXmlMessage('<?xml version="1.0" encoding="UTF-8"?>\n<xml><A kind="x">1</A></xml>\n')).toEqual({ A: '1' });
  });

  it('returns no fields for an empty root', () => {
    expect(parseXmlMessage('<xml></xml>')).toEqual({});
    expect(parseXmlMessage('<xml>\n</xml>')).toEqual({});
  });

  it('reports xml_too_large above maxBytes, counting UTF-8 bytes', () => {
    const body = `<xml><A>${'中'.repeat(10)}</A></xml>`;
    expect(catchProtocolCode(() => parseXmlMessage(body, 30))).toBe('xml_too_large');
    expect(parseXmlMessage(body, Buffer.byteLength(body))).toEqual({ A: '中'.repeat(10) });
    expect(catchProtocolCode(() => parseXmlMessage(`<xml><A>${'x'.repeat(1024 * 1024)}</A></xml>`))).toBe('xml_too_large');
  });

  it.each([
    ['a DOCTYPE', '<!DOCTYPE xml [<!ENTITY x "y">]><xml><A>&x;</A></xml>'],
    ['a lower-case doctype', '<!doctype xml><xml><A>1</A></xml>'],
    ['an external entity', '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><A>&xxe;</A></xml>'],
    ['an entity declaration alone', '<xml><!entity a "b"><A>1</A></xml>'],
    ['a DOCTYPE after a CDATA section', '<xml><A><![CDATA[x]]></A></xml><!DOCTYPE y>'],
    ['a DOCTYPE between a comment and CDATA', '<!-- a --><!DOCTYPE x [<!ENTITY e "<![CDATA[">]><xml><A>&e;]]></A></xml>'],
    ['an undeclared entity', '<xml><A>&foo;</A></xml>'],
    ['an unclosed root', '<xml><A>1</A>'],
    ['mismatched tags', '<xml><A>1</B></xml>'],
    ['text after the root', '<xml><A>1</A></xml>junk'],
    ['a second root', '<xml><A>1</A></xml><xml><B>2</B></xml>'],
    ['a root other than <xml>', '<root><A>1</A></root>'],
    ['text only', 'hello'],
    ['an empty body', ''],
    ['a blank body', '   '],
    ['JSON', '{"ToUserName":"x"}'],
    ['a root holding text', '<xml>text</xml>'],
    ['an element named __proto__', '<xml><__proto__>x</__proto__></xml>'],
    ['an element named toString', '<xml><toString>x</toString></xml>'],
    ['a nested element named constructor', '<xml><A><constructor>x</constructor></A></xml>'],
    ['an element named _ (the key of mixed text)', '<xml><_>x</_></xml>'],
    ['a comment that never opens its body', '<xml><!--><A>1</A></xml>'],
    ['-- inside a comment', '<xml><!-- a -- b --><A>1</A></xml>'],
    ['a reference to a control character', '<xml><A>&#2;</A></xml>'],
    ['a reference to a surrogate', '<xml><A>&#xD800;</A></xml>'],
    ['a bare ampersand', '<xml><A>a & b</A></xml>'],
    ['markup inside a processing instruction', '<?xml version="1.0" <!DOCTYPE x>?><xml></xml>'],
    ['an unquoted attribute', '<xml><A k=1>x</A></xml>'],
    ['a CDATA section that never closes', '<xml><A><![CDATA[x</A></xml>'],
    ['elements nested 100,000 deep (instead of a stack overflow)', `<xml>${'<A>'.repeat(100_000)}${'</A>'.repeat(100_000)}</xml>`],
    ['elements nested 33 deep', `<xml>${'<A>'.repeat(32)}x${'</A>'.repeat(32)}</xml>`],
  ])('reports malformed_xml for %s', (_label, xml) => {
    expect(catchProtocolCode(() => parseXmlMessage(xml))).toBe('malformed_xml');
  });
});

describe('buildXml', () => {
  it('wraps strings in CDATA and writes numbers bare', () => {
    expect(buildXml({ ToUserName: 'user', CreateTime: 12345678, MsgType: 'text' })).toBe(
      '<xml><ToUserName><![CDATA[user]]></ToUserName><CreateTime>12345678</CreateTime><MsgType><![CDATA[text]]></MsgType></xml>',
    );
  });

  it('splits ]]> so the text survives a round trip', () => {
    const content = 'a]]>b]]>]]>c';
    const xml = buildXml({ Content: content });
    expect(xml).toBe('<xml><Content><![CDATA[a]]]]><![CDATA[>b]]]]><![CDATA[>]]]]><![CDATA[>c]]></Content></xml>');
    expect(parseXmlMessage(xml)['Content']).toBe(content);
  });

  it('writes nested objects and arrays as elements, and parses back', () => {
    const xml = buildXml({
      ArticleCount: 2,
      Articles: { item: [{ Title: 'one' }, { Title: 'two' }] },
      Tag: ['a', 'b'],
    });
    expect(xml).toBe(
      '<xml><ArticleCount>2</ArticleCount><Articles><item><Title><![CDATA[one]]></Title></item><item><Title><![CDATA[two]]></Title></item></Articles><Tag><![CDATA[a]]></Tag><Tag><![CDATA[b]]></Tag></xml>',
    );
    expect(parseXmlMessage(xml)).toEqual({
      ArticleCount: '2',
      Articles: { item: [{ Title: 'one' }, { Title: 'two' }] },
      Tag: ['a', 'b'],
    });
  });

  it('accepts the XmlFields that parseXmlMessage returns', () => {
    const fields = parseXmlMessage('<xml><A>1</A><B><C>2</C></B></xml>');
    expect(parseXmlMessage(buildXml(fields))).toEqual(fields);
  });

  it('refuses element names that would break the document', () => {
    expect(() => buildXml({ 'a b': 'x' })).toThrow('invalid XML element name');
    expect(() => buildXml({ '<x>': 'x' })).toThrow('invalid XML element name');
  });

  it('refuses numbers that are not finite', () => {
    expect(() => buildXml({ N: Number.NaN })).toThrow('finite');
  });
});

/**
 * Differential test: random documents, well-formed and broken, parsed by parseXmlMessage and by
 * xml2js (the reference, test/unit/wechat/xml-reference.ts). Both must accept with equal
 * results, or both refuse. Seeded, so a failure names a reproducible document.
 */
describe('parseXmlMessage against xml2js', () => {
  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function generator(next: () => number) {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
    const names = ['ToUserName', 'Content', 'Item', 'List', 'A', 'b', 'x-y', 'n.1', '_u'];
    const texts = ['', ' ', '\n  ', 'hello', '你好', 'a &amp; b', '&lt;tag&gt;', '&#20320;&#x597D;', '&quot;&apos;', '1348831860', 'x > y'];
    const cdata = ['', ' ', 'plain', '<b>markup</b> & more', ']]', 'line\nbreak'];
    const attributes = ['', ' a="1"', " b='two'", ' c="&amp;"', '  d = "x" '];
    const element = (depth: number): string => {
      const name = pick(names);
      const open = `<${name}${pick(attributes)}`;
      const roll = next();
      if (roll < 0.1) return `${open}/>`;
      if (roll < 0.3) return `${open}><![CDATA[${pick(cdata)}]]></${name}>`;
      if (roll < 0.55 || depth >= 3) return `${open}>${pick(texts)}</${name}>`;
      return `${open}>${content(depth + 1)}</${name}>`;
    };
    const content = (depth: number): string => {
      const parts: string[] = [];
      const count = Math.floor(next() * 4);
      for (let i = 0; i < count; i += 1) {
        const roll = next();
        if (roll < 0.12) parts.push(pick(['\n', '  ', '\t']));
        else if (roll < 0.18) parts.push('<!-- note -->');
        else if (roll < 0.21) parts.push(pick(texts));
        else parts.push(element(depth));
      }
      return parts.join('');
    };
    const document = (): string => {
      const prolog = pick(['', '<?xml version="1.0" encoding="UTF-8"?>\n', '<!-- c -->', '\n']);
      const root = next() < 0.95 ? 'xml' : pick(names);
      return `${prolog}<${root}>${content(0)}</${root}>${pick(['', '\n', ' <!-- end -->'])}`;
    };
    const noise = [
      '<',
      '>',
      '&',
      '/',
      '!',
      '[',
      ']',
      '"',
      '=',
      ' ',
      'a',
      ';',
      '-',
      '<!DOCTYPE x>',
      '<![CDATA[',
      ']]>',
      '</A>',
      '&foo;',
      '&#0;',
    ];
    /** Deletes, inserts or swaps a few characters: most results are malformed, some are not. */
    const mutate = (xml: string): string => {
      let out = xml;
      const edits = 1 + Math.floor(next() * 3);
      for (let i = 0; i < edits; i += 1) {
        const at = Math.floor(next() * (out.length + 1));
        const roll = next();
        if (roll < 0.4) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(next() * 3));
        else out = out.slice(0, at) + pick(noise) + out.slice(at);
      }
      return out;
    };
    return { document, mutate };
  }

  function outcome(parse: () => unknown): unknown {
    try {
      return { value: parse() };
    } catch (error) {
      expect(
        catchProtocolCode(() => {
          throw error;
        }),
      ).toBe('malformed_xml');
      return 'refused';
    }
  }

  // On well-formed documents the two must agree exactly. On broken ones, parseXmlMessage may be
  // stricter than sax (which skips a malformed `<!-x>` or a `<` in an attribute value), never
  // more lenient, and where both accept, the results are equal.
  it.each([1, 2, 3, 4])('agrees on 1,500 well-formed and 1,500 broken documents (seed %i)', (seed) => {
    const next = random(seed);
    const { document, mutate } = generator(next);
    let accepted = 0;
    let stricter = 0;
    for (let i = 0; i < 3000; i += 1) {
      const wellFormed = i % 2 === 0;
      const xml = wellFormed ? document() : mutate(document());
      const reference = parseWithXml2js(xml);
      const ours = outcome(() => parseXmlMessage(xml));
      if (reference !== null) accepted += 1;
      if (!wellFormed && reference !== null && ours === 'refused') {
        stricter += 1;
        continue;
      }
      // `toEqual` with the document in the message, so a failure shows what to reproduce.
      expect({ xml, result: ours }).toEqual({ xml, result: reference === null ? 'refused' : { value: reference } });
    }
    expect(accepted).toBeGreaterThan(1500);
    expect(stricter).toBeLessThan(100);
  });
});
