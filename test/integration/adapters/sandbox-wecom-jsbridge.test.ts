import request from 'supertest';
import { ManualClock } from '../../../server/adapters/clock';
import { createSandboxPlatform, type SandboxPlatform } from '../../../server/adapters/sandbox/sandbox-platform';
import { signJsapiTicket } from '../../../server/wechat/jssdk-signature';
import { sandboxAccounts } from './adapter-fixtures';

interface Answer {
  err_msg: string;
  userId?: string;
  entry?: string;
}

/**
 * The WeCom client's JS bridge as the sandbox plays it for the sidebar: config and agentConfig
 * checked against the tickets it issued (each with its own ticket), the chat's APIs behind
 * agentConfig, and sendChatMessage's documented rules.
 */
describe('the sandbox WeCom JS bridge (the sidebar JS-SDK double)', () => {
  const accounts = sandboxAccounts();
  const page = 'https://flywheel.example/sidebar/?entry=single_chat_tools';
  let clock: ManualClock;
  let platform: SandboxPlatform;
  let corpTicket: string;
  let agentTicket: string;

  beforeEach(() => {
    clock = new ManualClock(new Date('2026-12-07T10:00:00Z'));
    platform = createSandboxPlatform({ ...accounts, clock });
    corpTicket = platform.state.issueTicket('wecom-jsapi').ticket;
    agentTicket = platform.state.issueTicket('wecom-agent-config').ticket;
  });

  const invoke = async (name: string, params: Record<string, unknown>, p: { url?: string; agentConfigured?: boolean } = {}) =>
    (
      await request(platform.app.callback())
        .post('/sandbox/wecom/jsapi')
        .send({ name, params, url: p.url ?? page, agentConfigured: p.agentConfigured ?? true })
        .expect(200)
    ).body as Answer;
  const signed = (ticket: string, url = page) => {
    const timestamp = 1796000000;
    const nonceStr = 'Wm3WZYTPz0wzccnW';
    return { timestamp: String(timestamp), nonceStr, signature: signJsapiTicket({ ticket, nonceStr, timestamp, url }) };
  };
  const agentConfig = (ticket: string, url?: string, pageUrl?: string) => {
    const s = signed(ticket, url);
    return invoke(
      'agentConfig',
      { corpid: accounts.wecom.corpId, agentid: accounts.wecom.agentId, ...s, jsApiList: ['getCurExternalContact'] },
      { url: pageUrl },
    );
  };
  const config = (ticket: string) => {
    const s = signed(ticket);
    return invoke('preVerifyJSAPI', {
      verifyAppId: accounts.wecom.corpId,
      verifySignType: 'sha1',
      verifyTimestamp: s.timestamp,
      verifyNonceStr: s.nonceStr,
      verifySignature: s.signature,
    });
  };
  const setChat = (chat: Record<string, unknown>) =>
    request(platform.app.callback()).post('/sandbox/control/wecom-chat').send(chat).expect(200);

  it('serves the bridge script', async () => {
    const res = await request(platform.app.callback()).get('/sandbox/wecom/jsbridge.js').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/javascript/);
    expect(res.text).toContain('window.WeixinJSBridge');
    expect(res.text).toContain("location.href.split('#')[0]");
  });

  it('config verifies with the corp ticket, agentConfig with the app’s; the wrong ticket or URL is an invalid signature', async () => {
    expect((await config(corpTicket)).err_msg).toBe('preVerifyJSAPI:ok');
    expect((await config(agentTicket)).err_msg).toBe('preVerifyJSAPI:fail invalid signature');
    expect((await agentConfig(agentTicket)).err_msg).toBe('agentConfig:ok');
    // The corp ticket cannot stand in for the app's.
    expect((await agentConfig(corpTicket)).err_msg).toBe('agentConfig:fail invalid signature');
    // Signed for another URL than the page's: a trailing slash, http for https, another query.
    for (const other of [`${page}/`, page.replace('https:', 'http:'), 'https://flywheel.example/sidebar/'])
      expect((await agentConfig(agentTicket, other)).err_msg).toBe('agentConfig:fail invalid signature');
    // The signer drops a # part; the page's URL is sent without one: they agree.
    expect((await agentConfig(agentTicket, `${page}#/profile`)).err_msg).toBe('agentConfig:ok');
    // A ticket past its 7,200 s no longer verifies.
    clock.advance(7201 * 1000);
    expect((await agentConfig(agentTicket)).err_msg).toBe('agentConfig:fail invalid signature');
  });

  it('plays invalid signature, no permission and a page without a customer on demand', async () => {
    await setChat({ externalUserId: 'wmCustomer01', entry: 'single_chat_tools' });
    expect(await invoke('getCurExternalContact', {})).toEqual({ err_msg: 'getCurExternalContact:ok', userId: 'wmCustomer01' });
    expect((await invoke('getContext', {})).entry).toBe('single_chat_tools');
    // Without agentConfig the chat's APIs have no permission.
    expect((await invoke('getCurExternalContact', {}, { agentConfigured: false })).err_msg).toBe(
      'getCurExternalContact:fail no permission',
    );

    await setChat({ fail: 'invalid signature' });
    expect((await agentConfig(agentTicket)).err_msg).toBe('agentConfig:fail invalid signature');
    await setChat({ fail: 'no permission' });
    expect((await invoke('getCurExternalContact', {})).err_msg).toBe('getCurExternalContact:fail no permission');
    await setChat({ fail: 'without context of external contact' });
    expect((await invoke('getCurExternalContact', {})).err_msg).toBe('getCurExternalContact:fail without context of external contact');
    await setChat({ fail: null, entry: 'normal' });
    expect((await invoke('getContext', {})).entry).toBe('normal');
    expect((await invoke('getCurExternalContact', {})).err_msg).toBe('getCurExternalContact:fail without context of external contact');
    await setChat({ entry: 'contact_profile' });
    expect((await invoke('getCurExternalContact', {})).userId).toBe('wmCustomer01');
  });

  it('sendChatMessage checks each msgtype as WeCom documents it and records what went into the chat', async () => {
    await setChat({ externalUserId: 'wmCustomer01', entry: 'single_chat_tools', fail: null });
    const send = (params: Record<string, unknown>) => invoke('sendChatMessage', params);
    const mp = { appid: 'wx1234567890abcdef', title: '展会邀请', imgUrl: 'https://example.com/cover.png', page: 'pages/event/index' };
    expect((await send({ msgtype: 'miniprogram', miniprogram: mp })).err_msg).toBe('sendChatMessage:fail invalid page');
    expect((await send({ msgtype: 'miniprogram', miniprogram: { ...mp, page: 'pages/event/index.html', appid: '' } })).err_msg).toBe(
      'sendChatMessage:fail invalid appid',
    );
    expect((await send({ msgtype: 'miniprogram', miniprogram: { ...mp, page: 'pages/event/index.html?id=7' } })).err_msg).toBe(
      'sendChatMessage:ok',
    );
    expect((await send({ msgtype: 'text', text: { content: '你好，这是我的名片' } })).err_msg).toBe('sendChatMessage:ok');
    expect((await send({ msgtype: 'text', text: {} })).err_msg).toBe('sendChatMessage:fail invalid content');
    const news = { link: 'https://flywheel.example/e/7', title: '邀请函', desc: '欢迎', imgUrl: 'https://flywheel.example/c.png' };
    expect((await send({ msgtype: 'news', news })).err_msg).toBe('sendChatMessage:ok');
    expect((await send({ msgtype: 'image', image: { mediaId: 'MEDIA_ID' } })).err_msg).toBe('sendChatMessage:ok');
    expect((await send({ msgtype: 'video', video: { mediaId: 'x' } })).err_msg).toBe('sendChatMessage:fail invalid msgtype');

    const recorded = (await request(platform.app.callback()).get('/sandbox/control/wecom-chat').expect(200)).body as {
      externalUserId: string;
      entry: string;
      fail: null;
      messages: { msgtype: string; payload: unknown; externalUserId: string; at: string }[];
    };
    expect(recorded).toMatchObject({ externalUserId: 'wmCustomer01', entry: 'single_chat_tools', fail: null });
    expect(recorded.messages.map((m) => m.msgtype)).toEqual(['miniprogram', 'text', 'news', 'image']);
    expect(recorded.messages[0]).toEqual({
      msgtype: 'miniprogram',
      payload: { ...mp, page: 'pages/event/index.html?id=7' },
      externalUserId: 'wmCustomer01',
      at: '2026-12-07T10:00:00.000Z',
    });
  });

  it('refuses a malformed control', async () => {
    await request(platform.app.callback()).post('/sandbox/control/wecom-chat').send({ entry: 'group_chat_tools' }).expect(400);
  });
});
