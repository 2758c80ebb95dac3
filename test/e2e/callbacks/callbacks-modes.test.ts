import request from 'supertest';
import { CallbackSignature } from '../../../entities/callback-signature.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { createSandboxPlayer, runSandboxAction } from '../../../server/adapters/sandbox/sandbox-player';
import { MessageCrypto } from '../../../server/wechat/message-crypto';
import { computeSha1Signature } from '../../../server/wechat/signature';
import { buildXml, parseXmlMessage } from '../../../server/wechat/xml';
import { readText } from '../../../server/wechat/xml-read';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';
import { officialAccountRequest, textMessage } from '../../support/wechat-requests';

type Mode = 'plain' | 'compatible' | 'safe';

describeEachDatabase('callbacks: URL verification and the three Official Account modes', (db) => {
  let stack: TestStack | undefined;
  /** The stack in one WECHAT_MESSAGE_MODE (the default when undefined). */
  async function start(mode?: Mode): Promise<TestStack> {
    stack = await startTestStack(db(), mode === undefined ? {} : { WECHAT_MESSAGE_MODE: mode });
    return stack;
  }
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });
  const now = () => String(Math.floor(Date.now() / 1000));
  const post = (s: TestStack, r: { url: string; body: string }) => request(s.app.callback()).post(r.url).type('text/xml').send(r.body);
  const m = () => db().dataSource.manager;
  const oaCrypto = (s: TestStack) => {
    const { token, aesKey, appId } = s.config.officialAccount;
    return new MessageCrypto({ token, encodingAesKey: aesKey, receiveId: appId });
  };
  async function expectNothingStored(): Promise<void> {
    expect(await m().count(Interaction)).toBe(0);
    expect(await m().count(ReactionWork)).toBe(0);
  }
  async function addKeywordReply(s: TestStack): Promise<void> {
    await s.services.tagRules.createTagRule({
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
  }

  it('Official Account GET echoes echostr when the signature holds, 401 otherwise', async () => {
    const s = await start();
    const { token } = s.config.officialAccount;
    const timestamp = now();
    const signature = computeSha1Signature([token, timestamp, 'n1']);
    const ok = await request(s.app.callback()).get(
      `/wechat/callback?signature=${signature}&timestamp=${timestamp}&nonce=n1&echostr=5838479218127813673`,
    );
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('5838479218127813673');
    const bad = await request(s.app.callback()).get(
      `/wechat/callback?signature=${'f'.repeat(40)}&timestamp=${timestamp}&nonce=n1&echostr=5838479218127813673`,
    );
    expect(bad.status).toBe(401);
    expect(bad.text).not.toContain('5838479218127813673');
  });

  it('WeCom GET answers the decrypted echostr as a plain body, no quotes, no newline', async () => {
    const s = await start();
    const { token, aesKey, corpId } = s.config.wecom;
    const crypto = new MessageCrypto({ token, encodingAesKey: aesKey, receiveId: corpId });
    const echostr = crypto.encrypt('1616140317555161061');
    const timestamp = now();
    const signature = crypto.sign(timestamp, 'n2', echostr);
    const ok = await request(s.app.callback()).get(
      `/wecom/callback?msg_signature=${signature}&timestamp=${timestamp}&nonce=n2&echostr=${encodeURIComponent(echostr)}`,
    );
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('1616140317555161061');
    expect(ok.headers['content-type']).toMatch(/^text\/plain/);
    const bad = await request(s.app.callback()).get(
      `/wecom/callback?msg_signature=${'0'.repeat(40)}&timestamp=${timestamp}&nonce=n2&echostr=${encodeURIComponent(echostr)}`,
    );
    expect(bad.status).toBe(401);
  });

  it('with an AES key and no WECHAT_MESSAGE_MODE the mode is safe: a signed plaintext request is refused', async () => {
    const s = await start();
    expect(s.config.officialAccount.messageMode).toBe('safe');
    const res = await post(s, officialAccountRequest(s.config, textMessage('o_default', 'hi', '3001'), { mode: 'plain' }));
    expect(res.status).toBe(401);
    expect(res.text).toBe('encrypted message required');
    await expectNothingStored();
  });

  describe.each(['safe', 'compatible'] as const)('%s mode', (mode) => {
    it('a request without encrypt_type=aes, correctly signed and fresh: 401, nothing stored, no signature claimed', async () => {
      const s = await start(mode);
      const res = await post(s, officialAccountRequest(s.config, textMessage('o_plain_refused', 'hi', '3002'), { mode: 'plain' }));
      expect(res.status).toBe(401);
      expect(res.text).toBe('encrypted message required');
      await expectNothingStored();
      expect(await m().count(CallbackSignature)).toBe(0);
    });

    it('the Encrypt envelope alone (safe) and with the plaintext fields (compatible) are both stored, and never claim a signature', async () => {
      const s = await start(mode);
      expect((await post(s, officialAccountRequest(s.config, textMessage('o_env', 'safe body', '3003')))).status).toBe(200);
      const r = officialAccountRequest(s.config, textMessage('o_both', 'compatible body', '3004'), { mode: 'compatible' });
      expect((await post(s, r)).status).toBe(200);
      expect((await m().find(Interaction, { order: { id: 'ASC' } })).map((i) => i.detail.content)).toEqual([
        'safe body',
        'compatible body',
      ]);
      expect(await m().count(CallbackSignature)).toBe(0);
    });

    it('the plaintext fields beside Encrypt are covered by nothing: a tampered copy is ignored, the encrypted message is stored', async () => {
      const s = await start(mode);
      const crypto = oaCrypto(s);
      const { token } = s.config.officialAccount;
      const encrypt = crypto.encrypt(buildXml(textMessage('o_real', '兼容模式', '3005')));
      const timestamp = now();
      const forged = buildXml({ ...textMessage('o_forged', 'forged', '9999'), Encrypt: encrypt });
      const url = `/wechat/callback?signature=${computeSha1Signature([token, timestamp, 'n3'])}&timestamp=${timestamp}&nonce=n3&encrypt_type=aes&msg_signature=${crypto.sign(timestamp, 'n3', encrypt)}`;
      const res = await post(s, { url, body: forged });
      expect(res.status).toBe(200);
      expect(res.text).toBe('success');
      const stored = await m().find(Interaction);
      expect(stored.map((i) => i.detail)).toEqual([expect.objectContaining({ openid: 'o_real', content: '兼容模式', msgId: '3005' })]);
    });

    it('a passive reply is answered encrypted', async () => {
      const s = await start(mode);
      await addKeywordReply(s);
      const res = await post(s, officialAccountRequest(s.config, textMessage('o_reply', '营业时间', '3006'), { mode: 'compatible' }));
      expect(res.status).toBe(200);
      const envelope = readText(parseXmlMessage(res.text), 'Encrypt');
      expect(res.text).not.toContain('9:00-18:00');
      expect(oaCrypto(s).decrypt(envelope ?? '')).toContain('<Content><![CDATA[9:00-18:00]]></Content>');
    });
  });

  describe('plain mode', () => {
    it('a plaintext request is stored, and a keyword reply comes back as plain XML', async () => {
      const s = await start('plain');
      await addKeywordReply(s);
      const r = officialAccountRequest(s.config, textMessage('o_plain', '营业时间', '2001'), { mode: 'plain' });
      const res = await post(s, r);
      expect(res.status).toBe(200);
      expect(res.text).toContain('<Content><![CDATA[9:00-18:00]]></Content>');
      expect(res.text).toContain('<ToUserName><![CDATA[o_plain]]></ToUserName>');
      expect(await m().countBy(Interaction, { type: 'text' })).toBe(1);
      expect(await m().count(CallbackSignature)).toBe(1);
    });

    it('an encrypted request is still accepted (msg_signature covers it), answered encrypted, and claims its signature like any plain-mode request', async () => {
      const s = await start('plain');
      await addKeywordReply(s);
      const res = await post(s, officialAccountRequest(s.config, textMessage('o_switching', '营业时间', '2002')));
      expect(res.status).toBe(200);
      expect(oaCrypto(s).decrypt(readText(parseXmlMessage(res.text), 'Encrypt') ?? '')).toContain('9:00-18:00');
      expect(await m().countBy(Interaction, { type: 'text' })).toBe(1);
      expect(await m().count(CallbackSignature)).toBe(1);
    });
  });

  it.each(['safe', 'plain'] as const)('the sandbox panel shows the passive reply as the follower reads it (%s mode)', async (mode) => {
    const s = await start(mode);
    await addKeywordReply(s);
    await s.player().subscribe({ openid: `o_panel_${mode}` });
    const result = await runSandboxAction(s.player(), s.sandbox.state, { action: 'text', content: '营业时间' });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.replyXml).toContain('<Content><![CDATA[9:00-18:00]]></Content>');
  });

  describe.each(['safe', 'compatible', 'plain'] as const)('the sandbox player with the console in %s mode', (mode) => {
    it('sends what that mode sends, which Flywheel in that mode stores; a player in another mode is refused or accepted as the mode says', async () => {
      const s = await start(mode);
      const played = await s.player().subscribe({ openid: `o_player_${mode}` });
      expect(played.status).toBe(200);
      const query = new URL(played.request.url).searchParams;
      const body = parseXmlMessage(played.request.body);
      expect(query.get('encrypt_type')).toBe(mode === 'plain' ? null : 'aes');
      expect(readText(body, 'Encrypt') !== undefined).toBe(mode !== 'plain');
      expect(readText(body, 'Event')).toBe(mode === 'safe' ? undefined : 'subscribe');
      expect(await m().countBy(Interaction, { type: 'subscribe' })).toBe(1);

      const other = (otherMode: Mode) =>
        createSandboxPlayer({
          callbackBaseUrl: s.baseUrl,
          officialAccount: { ...s.config.officialAccount, messageMode: otherMode },
          wecom: s.config.wecom,
          platform: s.sandbox.state,
          clock: s.clock,
        });
      const plainPlayed = await other('plain').sendText({ openid: `o_player_${mode}`, content: 'plain text' });
      expect(plainPlayed.status).toBe(mode === 'plain' ? 200 : 401);
      const safePlayed = await other('safe').sendText({ openid: `o_player_${mode}`, content: 'safe text' });
      expect(safePlayed.status).toBe(200);
    });
  });
});
