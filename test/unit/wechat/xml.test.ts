import { buildXml, parseXmlMessage } from '../../../server/wechat/xml';
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
    expect(catchProtocolCode(() => parseXmlMessage(`<xml><A>${'x'.repeat(1024 * 1024)}</A></xml>`))).toBe(
      'xml_too_large',
    );
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
