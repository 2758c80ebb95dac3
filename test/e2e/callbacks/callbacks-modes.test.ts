import request from 'supertest';
import { Interaction } from '../../../entities/interaction.entity';
import { MessageCrypto } from '../../../server/wechat/message-crypto';
import { computeSha1Signature } from '../../../server/wechat/signature';
import { buildXml } from '../../../server/wechat/xml';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';
import { officialAccountRequest, textMessage } from '../../support/wechat-requests';

describeEachDatabase('callbacks: URL verification and the three Official Account modes', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });
  const http = () => request(stack.app.callback());
  const now = () => String(Math.floor(Date.now() / 1000));

  it('Official Account GET echoes echostr when the signature holds, 401 otherwise', async () => {
    const { token } = stack.config.officialAccount;
    const timestamp = now();
    const signature = computeSha1Signature([token, timestamp, 'n1']);
    const ok = await http().get(`/wechat/callback?signature=${signature}&timestamp=${timestamp}&nonce=n1&echostr=5838479218127813673`);
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('5838479218127813673');
    const bad = await http().get(
      `/wechat/callback?signature=${'f'.repeat(40)}&timestamp=${timestamp}&nonce=n1&echostr=5838479218127813673`,
    );
    expect(bad.status).toBe(401);
    expect(bad.text).not.toContain('5838479218127813673');
  });

  it('WeCom GET answers the decrypted echostr as a plain body, no quotes, no newline', async () => {
    const { token, aesKey, corpId } = stack.config.wecom;
    const crypto = new MessageCrypto({ token, encodingAesKey: aesKey, receiveId: corpId });
    const echostr = crypto.encrypt('1616140317555161061');
    const timestamp = now();
    const signature = crypto.sign(timestamp, 'n2', echostr);
    const ok = await http().get(
      `/wecom/callback?msg_signature=${signature}&timestamp=${timestamp}&nonce=n2&echostr=${encodeURIComponent(echostr)}`,
    );
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('1616140317555161061');
    expect(ok.headers['content-type']).toMatch(/^text\/plain/);
    const bad = await http().get(
      `/wecom/callback?msg_signature=${'0'.repeat(40)}&timestamp=${timestamp}&nonce=n2&echostr=${encodeURIComponent(echostr)}`,
    );
    expect(bad.status).toBe(401);
  });

  it('plain mode: stored, and a keyword reply comes back as plain XML', async () => {
    await stack.services.tagRules.createTagRule({
      rule: {
        name: 'hours',
        interactionType: 'text',
        matchKind: 'keyword_exact',
        matchValue: '营业时间',
        addTags: [],
        removeTags: [],
        replyText: '9:00-18:00',
      },
      actor: { operatorId: null, ip: null },
    });
    const r = officialAccountRequest(stack.config, textMessage('o_plain', '营业时间', '2001'), { mode: 'plain' });
    const res = await http().post(r.url).type('text/xml').send(r.body);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<Content><![CDATA[9:00-18:00]]></Content>');
    expect(res.text).toContain('<ToUserName><![CDATA[o_plain]]></ToUserName>');
    expect(await db().dataSource.manager.countBy(Interaction, { type: 'text' })).toBe(1);
  });

  it('compatible mode: the body carries plaintext and Encrypt; the encrypted message is the one stored', async () => {
    const { token, aesKey, appId } = stack.config.officialAccount;
    const crypto = new MessageCrypto({ token, encodingAesKey: aesKey, receiveId: appId });
    const fields = textMessage('o_compat', '兼容模式', '2002');
    const encrypt = crypto.encrypt(buildXml(fields));
    const timestamp = now();
    const body = buildXml({ ...fields, Encrypt: encrypt });
    const url = `/wechat/callback?signature=${computeSha1Signature([token, timestamp, 'n3'])}&timestamp=${timestamp}&nonce=n3&encrypt_type=aes&msg_signature=${crypto.sign(timestamp, 'n3', encrypt)}`;
    const res = await http().post(url).type('text/xml').send(body);
    expect(res.status).toBe(200);
    expect(res.text).toBe('success');
    const stored = await db().dataSource.manager.findOneByOrFail(Interaction, { type: 'text' });
    expect(stored.detail).toMatchObject({ openid: 'o_compat', content: '兼容模式', msgId: '2002' });
  });
});
