import request from 'supertest';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { MessageCrypto } from '../../../server/wechat/message-crypto';
import { computeSha1Signature } from '../../../server/wechat/signature';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';
import { officialAccountRequest, textMessage, wecomRequest } from '../../support/wechat-requests';
import {
  DOCS_VOICE_WITH_16K,
  PAY_TO_FOLLOW_SUBSCRIBE,
  WXJAVA_MASS_SEND_JOB_FINISH,
  WXJAVA_TEXT_WITH_MSGID_CAPITAL,
} from '../../unit/wechat/callback-fixtures';

describeEachDatabase('callbacks: what reaches the timeline', (db) => {
  let stack: TestStack;
  let token: string;
  beforeEach(async () => {
    // Plain mode accepts plaintext and encrypted requests alike, so a fixture can be posted both ways.
    stack = await startTestStack(db(), { WECHAT_MESSAGE_MODE: 'plain' });
    await stack.services.operators.ensureBootstrapAdmin({ username: 'admin', password: 'correct horse' });
    const login = await request(stack.app.callback()).post('/api/admin/login').send({ username: 'admin', password: 'correct horse' });
    token = (login.body as { token: string }).token;
  });
  afterEach(async () => {
    await stack.close();
  });

  const http = () => request(stack.app.callback());
  const now = () => Math.floor(Date.now() / 1000);
  /** A fixture with the sender and time of this test, so it passes the freshness check and has its own contact. */
  const fresh = (xml: string, openid: string) =>
    xml
      .replace(/<FromUserName><!\[CDATA\[[^\]]*\]\]><\/FromUserName>/, `<FromUserName><![CDATA[${openid}]]></FromUserName>`)
      .replace(/<CreateTime>\d+<\/CreateTime>/, `<CreateTime>${now()}</CreateTime>`);

  /** Signs (and in safe mode encrypts) raw XML bytes exactly as WeChat posts them. */
  function signed(xml: string | Buffer, mode: 'plain' | 'aes') {
    const { token: wxToken, aesKey, appId } = stack.config.officialAccount;
    const timestamp = String(now());
    const nonce = String(Math.floor(Math.random() * 1e9));
    const signature = computeSha1Signature([wxToken, timestamp, nonce]);
    const query = `signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`;
    if (mode === 'plain') return { url: `/wechat/callback?${query}`, body: typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml };
    const crypto = new MessageCrypto({ token: wxToken, encodingAesKey: aesKey, receiveId: appId });
    const encrypt = crypto.encrypt(xml);
    return {
      url: `/wechat/callback?${query}&encrypt_type=aes&msg_signature=${crypto.sign(timestamp, nonce, encrypt)}`,
      body: Buffer.from(`<xml><ToUserName><![CDATA[gh_sandbox]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`),
    };
  }
  async function post(r: { url: string; body: Buffer | string }): Promise<void> {
    const res = await http().post(r.url).type('text/xml').send(r.body);
    expect(res.status).toBe(200);
  }
  async function timelineOf(openid: string): Promise<{ type: string; detail: Record<string, unknown> }[]> {
    await stack.services.reactions.idle();
    const contacts = await http().get(`/api/admin/contacts?q=${openid}`).set('authorization', `Bearer ${token}`).expect(200);
    const id = (contacts.body as { items: { id: number }[] }).items[0].id;
    const timeline = await http().get(`/api/admin/contacts/${id}/timeline`).set('authorization', `Bearer ${token}`).expect(200);
    return (timeline.body as { items: { type: string; detail: Record<string, unknown> }[] }).items;
  }

  it('documented fields posted through /wechat/callback are on the timeline', async () => {
    await post(signed(fresh(DOCS_VOICE_WITH_16K, 'o_fields'), 'aes'));
    await post(signed(fresh(PAY_TO_FOLLOW_SUBSCRIBE, 'o_fields'), 'plain'));
    // The fixtures share MsgId 1234567890123456: from one sender, that would rightly be one message.
    await post(signed(fresh(WXJAVA_TEXT_WITH_MSGID_CAPITAL, 'o_fields').replace('1234567890123456', '1234567890123457'), 'aes'));
    const items = await timelineOf('o_fields');
    const byType = new Map(items.map((i) => [i.type, i.detail]));
    expect([...byType.keys()].sort()).toEqual(['subscribe', 'text', 'voice']);
    expect(byType.get('voice')).toMatchObject({ format: 'Format', recognition: '腾讯微信团队', mediaId16K: 'media_id_16k' });
    expect(byType.get('subscribe')).toMatchObject({ eventKey: 'last_trade_no_4200001234202601011234567890', scene: null });
    expect(byType.get('text')).toMatchObject({ content: 'this is a test', msgId: '1234567890123457' });
  });

  it('MASSSENDJOBFINISH, the account’s report on its own mass send, is kept with its fields and makes no contact of its sender', async () => {
    const report = fresh(WXJAVA_MASS_SEND_JOB_FINISH, 'o_mass_sender');
    await post(signed(report, 'aes'));
    await stack.services.reactions.idle();
    const rows = await db()
      .dataSource.getRepository(Interaction)
      .find({ where: { type: 'mass_send_finished' } });
    expect(rows).toHaveLength(1);
    expect(rows[0].contactId).toBeNull();
    expect(rows[0].detail).toMatchObject({
      openid: 'o_mass_sender',
      msgId: '1000001625',
      status: 'err(30003)',
      copyrightCheckState: '2',
      copyrightOriginalArticleUrl: ['Url_1', 'Url_2'],
    });
    const identities = await db().dataSource.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM contact_identities WHERE value = ?',
      ['o_mass_sender'],
    );
    expect(Number(identities[0].n)).toBe(0);
    expect(Number((await db().dataSource.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM contacts'))[0].n)).toBe(0);
    // WeChat's retry of the same push stores nothing more.
    await post(signed(report, 'aes'));
    expect(
      await db()
        .dataSource.getRepository(Interaction)
        .count({ where: { type: 'mass_send_finished' } }),
    ).toBe(1);
  });

  it('an unknown WeChat event and an unknown WeCom event keep their fields', async () => {
    await post(
      signed(
        `<xml><ToUserName><![CDATA[gh_sandbox]]></ToUserName><FromUserName><![CDATA[o_new]]></FromUserName><CreateTime>${now()}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[brand_new_event_2027]]></Event><Foo><![CDATA[bar]]></Foo><Nested><A>1</A></Nested></xml>`,
        'aes',
      ),
    );
    const { corpId } = stack.config.wecom;
    const r = wecomRequest(stack.config, {
      ToUserName: corpId,
      FromUserName: 'sys',
      CreateTime: now(),
      MsgType: 'event',
      Event: 'change_external_chat',
      ChatId: 'CHAT_ID',
      ChangeType: 'create',
    });
    await post(r);
    const m = db().dataSource.manager;
    expect((await m.findOneByOrFail(Interaction, { type: 'unknown' })).detail).toMatchObject({
      event: 'brand_new_event_2027',
      Foo: 'bar',
      Nested: '{"A":"1"}',
    });
    expect((await m.findOneByOrFail(Interaction, { type: 'wecom_unknown' })).detail).toMatchObject({
      event: 'change_external_chat',
      ChatId: 'CHAT_ID',
      ChangeType: 'create',
    });
  });

  it('the same MsgId from two users makes two interactions; a retry makes none', async () => {
    const createTime = now();
    await post(officialAccountRequest(stack.config, textMessage('o_user_a', 'from a', '7777', createTime)));
    await post(officialAccountRequest(stack.config, textMessage('o_user_b', 'from b', '7777', createTime)));
    await post(officialAccountRequest(stack.config, textMessage('o_user_a', 'from a', '7777', createTime), { mode: 'plain' }));
    const m = db().dataSource.manager;
    const rows = await m.find(Interaction, { order: { id: 'ASC' } });
    expect(rows.map((row) => [row.detail.openid, row.detail.content])).toEqual([
      ['o_user_a', 'from a'],
      ['o_user_b', 'from b'],
    ]);
    expect(rows.map((row) => row.dedupeKey)).toEqual([
      `oa:${stack.config.officialAccount.appId}:msg:o_user_a:7777`,
      `oa:${stack.config.officialAccount.appId}:msg:o_user_b:7777`,
    ]);
    expect(await m.count(ReactionWork)).toBe(2);
  });

  it.each(['plain', 'aes'] as const)('invalid UTF-8 in %s mode: 200, stored with U+FFFD and invalidUtf8: true', async (mode) => {
    const xml = Buffer.concat([
      Buffer.from(
        `<xml><ToUserName><![CDATA[gh_sandbox]]></ToUserName><FromUserName><![CDATA[o_bad_${mode}]]></FromUserName><CreateTime>${now()}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[营业`,
      ),
      Buffer.from([0xff, 0xc3]),
      Buffer.from(`时间]]></Content><MsgId>8888</MsgId></xml>`),
    ]);
    await post(signed(xml, mode));
    const m = db().dataSource.manager;
    const stored = await m.findOneByOrFail(Interaction, { type: 'text' });
    expect(stored.detail).toMatchObject({ openid: `o_bad_${mode}`, content: '营业\uFFFD\uFFFD时间', invalidUtf8: true });
  });

  it('WeCom: invalid UTF-8 in a change_external_contact is stored with U+FFFD and flagged', async () => {
    const { corpId, token: wecomToken, aesKey } = stack.config.wecom;
    const crypto = new MessageCrypto({ token: wecomToken, encodingAesKey: aesKey, receiveId: corpId });
    const xml = Buffer.concat([
      Buffer.from(
        `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${now()}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[del_follow_user]]></ChangeType><UserID><![CDATA[rep1]]></UserID><ExternalUserID><![CDATA[wm_1]]></ExternalUserID><State><![CDATA[s`,
      ),
      Buffer.from([0x80]),
      Buffer.from(`]]></State></xml>`),
    ]);
    const timestamp = String(now());
    const encrypt = crypto.encrypt(xml);
    const res = await http()
      .post(`/wecom/callback?msg_signature=${crypto.sign(timestamp, 'n9', encrypt)}&timestamp=${timestamp}&nonce=n9`)
      .type('text/xml')
      .send(`<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`);
    expect(res.status).toBe(200);
    const stored = await db().dataSource.manager.findOneByOrFail(Interaction, { type: 'del_follow_user' });
    expect(stored.detail).toMatchObject({ scene: 's\uFFFD', invalidUtf8: true });
  });
});
