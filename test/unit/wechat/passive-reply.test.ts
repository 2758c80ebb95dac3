import { MessageCrypto } from '../../../server/wechat/message-crypto';
import { buildEncryptedReply, buildNewsReply, buildTextReply, readEncryptedEnvelope } from '../../../server/wechat/passive-reply';
import { parseXmlMessage } from '../../../server/wechat/xml';
import { OA_SAMPLE, WECOM_SAMPLE, WECOM_SAMPLE_BODY, catchProtocolCode } from './fixtures';

describe('buildTextReply', () => {
  it('writes the documented text reply', () => {
    expect(buildTextReply({ toUser: 'toUser', fromUser: 'fromUser', content: '你好', createTime: 12345678 })).toBe(
      '<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>12345678</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content></xml>',
    );
  });

  it('survives content that contains ]]> and markup', () => {
    const content = 'see <a href="x">]]></a>';
    const xml = buildTextReply({ toUser: 'u', fromUser: 'f', content, createTime: 1 });
    expect(parseXmlMessage(xml)['Content']).toBe(content);
  });
});

describe('buildNewsReply', () => {
  const base = { toUser: 'toUser', fromUser: 'fromUser', createTime: 12345678 };
  const article = { title: 'title1', description: 'description1', picUrl: 'picurl', url: 'url' };

  it('writes the documented news reply', () => {
    expect(parseXmlMessage(buildNewsReply({ ...base, articles: [article] }))).toEqual({
      ToUserName: 'toUser',
      FromUserName: 'fromUser',
      CreateTime: '12345678',
      MsgType: 'news',
      ArticleCount: '1',
      Articles: { item: { Title: 'title1', Description: 'description1', PicUrl: 'picurl', Url: 'url' } },
    });
  });

  it('writes empty optional fields', () => {
    const fields = parseXmlMessage(buildNewsReply({ ...base, articles: [{ title: 'only' }] }));
    expect(fields['Articles']).toEqual({ item: { Title: 'only', Description: '', PicUrl: '', Url: '' } });
  });

  it('allows one article in reply to a user message, the documented limit', () => {
    expect(() => buildNewsReply({ ...base, articles: [article, article] })).toThrow('at most 1');
    expect(() => buildNewsReply({ ...base, inReplyTo: 'message', articles: [article, article] })).toThrow('at most 1');
  });

  it('allows up to eight articles in reply to an event', () => {
    const eight = Array.from({ length: 8 }, () => article);
    const fields = parseXmlMessage(buildNewsReply({ ...base, inReplyTo: 'event', articles: eight }));
    expect(fields['ArticleCount']).toBe('8');
    expect(() => buildNewsReply({ ...base, inReplyTo: 'event', articles: [...eight, article] })).toThrow('at most 8');
  });

  it('refuses an empty article list', () => {
    expect(() => buildNewsReply({ ...base, articles: [] })).toThrow('at least one');
  });
});

describe('buildEncryptedReply', () => {
  const crypto = new MessageCrypto({ token: OA_SAMPLE.token, encodingAesKey: OA_SAMPLE.encodingAesKey, receiveId: OA_SAMPLE.appId });

  it('encrypts and signs the reply so that the receiver can verify and decrypt it', () => {
    const plain = buildTextReply({ toUser: 'openid', fromUser: 'gh_x', content: 'hi', createTime: 1409304348 });
    const envelope = parseXmlMessage(buildEncryptedReply(crypto, plain, OA_SAMPLE.timestamp, OA_SAMPLE.nonce));
    expect(envelope['TimeStamp']).toBe(OA_SAMPLE.timestamp);
    expect(envelope['Nonce']).toBe(OA_SAMPLE.nonce);
    const encrypted = readEncryptedEnvelope(envelope);
    const signature = envelope['MsgSignature'];
    expect(typeof signature).toBe('string');
    expect(crypto.verify(typeof signature === 'string' ? signature : undefined, OA_SAMPLE.timestamp, OA_SAMPLE.nonce, encrypted)).toBe(
      true,
    );
    expect(crypto.decrypt(encrypted)).toBe(plain);
  });

  it('writes TimeStamp bare and the other fields in CDATA, as documented', () => {
    const xml = buildEncryptedReply(crypto, '<xml/>', '1409304348', 'xxxxxx');
    expect(xml).toMatch(
      /^<xml><Encrypt><!\[CDATA\[[A-Za-z0-9+/=]+\]\]><\/Encrypt><MsgSignature><!\[CDATA\[[0-9a-f]{40}\]\]><\/MsgSignature><TimeStamp>1409304348<\/TimeStamp><Nonce><!\[CDATA\[xxxxxx\]\]><\/Nonce><\/xml>$/,
    );
  });

  it('keeps a timestamp with a leading zero verbatim so the signature still matches', () => {
    const envelope = parseXmlMessage(buildEncryptedReply(crypto, '<xml/>', '0123', 'n'));
    expect(envelope['TimeStamp']).toBe('0123');
  });
});

describe('readEncryptedEnvelope', () => {
  it('reads Encrypt from the WeCom sample body', () => {
    expect(readEncryptedEnvelope(parseXmlMessage(WECOM_SAMPLE_BODY))).toBe(WECOM_SAMPLE.message.encrypt);
  });

  it.each([
    ['no Encrypt', '<xml><ToUserName><![CDATA[x]]></ToUserName></xml>'],
    ['an empty Encrypt', '<xml><Encrypt><![CDATA[]]></Encrypt></xml>'],
    ['a nested Encrypt', '<xml><Encrypt><A>1</A></Encrypt></xml>'],
  ])('reports malformed_xml for %s', (_label, xml) => {
    expect(catchProtocolCode(() => readEncryptedEnvelope(parseXmlMessage(xml)))).toBe('malformed_xml');
  });
});
