import request from 'supertest';
import { loadConfig, SANDBOX_CREDENTIALS, type Config } from '../../../config/config.schema';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { Task } from '../../../entities/task.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { createSandboxPlatform, startSandboxServer } from '../../../server/adapters/sandbox/sandbox-platform';
import { buildApp } from '../../../server/app';
import { composeServices, type Services } from '../../../server/compose';
import { OA_TAG_SYNC, WECOM_TAG_SYNC } from '../../../server/modules/tag-sync/tag-sync.service';
import { describeEachDatabase } from '../../support/database';
import { officialAccountRequest, wecomRequest } from '../../support/wechat-requests';
import { REAL_WECHAT, REAL_WECOM } from '../../support/platform-credentials';

const s = SANDBOX_CREDENTIALS;
/** The published sandbox keys: what an attacker would sign with. */
const SANDBOX_OA = { appId: s.wechatAppId, token: s.wechatToken, aesKey: s.wechatAesKey };
const SANDBOX_WECOM = { corpId: s.wecomCorpId, token: s.wecomToken, aesKey: s.wecomAesKey };

/**
 * A server configured for one platform only (SANDBOX=auto): the other platform must not accept
 * anything, in particular not callbacks signed with the sandbox keys, which are public. The
 * platform APIs are a sandbox server on loopback standing in for WeChat.
 */
describeEachDatabase('callbacks for a platform that is not configured', (db) => {
  let services: Services;
  let app: ReturnType<typeof buildApp>;
  let config: Readonly<Config>;
  let closeSandbox: () => Promise<void>;

  async function start(env: NodeJS.ProcessEnv): Promise<void> {
    config = loadConfig({ LOG_LEVEL: 'silent', ...env });
    const clock = new ManualClock(new Date());
    const logger = createLogger('silent');
    const o = config.officialAccount;
    const w = config.wecom;
    const platform = createSandboxPlatform({
      officialAccount: o ? { appId: o.appId, secret: o.secret } : { appId: s.wechatAppId, secret: s.wechatSecret },
      wecom: w ?? { corpId: s.wecomCorpId, secret: s.wecomSecret, agentId: s.wecomAgentId, agentSecret: s.wecomAgentSecret },
      miniprogram: config.miniprogram,
      clock,
    });
    const server = await startSandboxServer(platform, 0);
    closeSandbox = server.close;
    services = composeServices({
      config,
      dataSource: db().dataSource,
      clock,
      logger,
      holder: 'test',
      apiBases: { wechat: `${server.url}/sandbox/wechat`, wecom: `${server.url}/sandbox/wecom` },
      platformTimeoutMs: 2_000,
    });
    app = buildApp({ logger, routers: services.routers, trustProxy: false });
  }
  afterEach(async () => {
    await services.reactions.idle();
    await closeSandbox();
  });

  const post = (r: { url: string; body: string }) => request(app.callback()).post(r.url).type('text/xml').send(r.body);
  const stored = async () => ({
    interactions: await db().dataSource.manager.count(Interaction),
    inbox: await db().dataSource.manager.count(ReactionWork),
  });
  const wecomEvent = (corpId: string) => ({
    ToUserName: corpId,
    FromUserName: 'sys',
    CreateTime: Math.floor(Date.now() / 1000),
    MsgType: 'event',
    Event: 'change_external_contact',
    ChangeType: 'del_follow_user',
    UserID: 'rep1',
    ExternalUserID: 'wm_1',
  });
  const subscribe = {
    ToUserName: 'gh_x',
    FromUserName: 'o_visitor',
    CreateTime: Math.floor(Date.now() / 1000),
    MsgType: 'event',
    Event: 'subscribe',
    EventKey: 'qrscene_expo',
  };

  it('only WECHAT_* set: a WeCom callback signed with the sandbox key gets 404 and stores nothing', async () => {
    await start(REAL_WECHAT);
    expect(config.wecom).toBeNull();
    const forged = wecomRequest({ wecom: SANDBOX_WECOM }, wecomEvent(SANDBOX_WECOM.corpId));
    expect((await post(forged)).status).toBe(404);
    const verify = await request(app.callback()).get(forged.url.replace('msg_signature', 'echostr=abc&msg_signature'));
    expect(verify.status).toBe(404);
    expect(await stored()).toEqual({ interactions: 0, inbox: 0 });
    // The sandbox Official Account key does not pass for the real account either.
    expect((await post(officialAccountRequest({ officialAccount: SANDBOX_OA }, subscribe))).status).toBe(401);
    expect(await stored()).toEqual({ interactions: 0, inbox: 0 });
  });

  it('only WECHAT_* set: the Official Account works, and its tags are synced to it alone', async () => {
    await start(REAL_WECHAT);
    const oa = config.officialAccount;
    if (!oa) throw new Error('the Official Account should be configured');
    const res = await post(officialAccountRequest({ officialAccount: oa }, subscribe));
    expect(res.status).toBe(200);
    await services.reactions.processDue();
    expect(await stored()).toEqual({ interactions: 1, inbox: 1 });
    const tasks = await db().dataSource.getRepository(Task).find();
    expect(tasks.filter((t) => t.kind === OA_TAG_SYNC).length).toBeGreaterThan(0);
    expect(tasks.filter((t) => t.kind === WECOM_TAG_SYNC)).toHaveLength(0);
    expect(services.wecom).toBeNull();
  });

  it('only WECOM_* set: an Official Account callback signed with the sandbox key gets 404 (plain and aes) and stores nothing', async () => {
    await start(REAL_WECOM);
    expect(config.officialAccount).toBeNull();
    expect((await post(officialAccountRequest({ officialAccount: SANDBOX_OA }, subscribe))).status).toBe(404);
    expect((await post(officialAccountRequest({ officialAccount: SANDBOX_OA }, subscribe, { mode: 'plain' }))).status).toBe(404);
    const verify = officialAccountRequest({ officialAccount: SANDBOX_OA }, subscribe, { mode: 'plain' });
    expect((await request(app.callback()).get(`${verify.url}&echostr=abc`)).status).toBe(404);
    expect(await stored()).toEqual({ interactions: 0, inbox: 0 });

    // WeCom itself still takes its own callbacks, and refuses the sandbox key.
    const wecom = config.wecom;
    if (!wecom) throw new Error('WeCom should be configured');
    expect((await post(wecomRequest({ wecom: SANDBOX_WECOM }, wecomEvent(wecom.corpId)))).status).toBe(401);
    expect((await post(wecomRequest({ wecom }, wecomEvent(wecom.corpId)))).status).toBe(200);
    expect(await stored()).toEqual({ interactions: 1, inbox: 1 });
    expect(services.officialAccount).toBeNull();
  });
});
