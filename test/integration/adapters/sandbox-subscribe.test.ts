import { ManualClock } from '../../../server/adapters/clock';
import { MiniProgramClient } from '../../../server/adapters/miniprogram.client';
import { OfficialAccountClient } from '../../../server/adapters/official-account.client';
import { unlimitedRateLimiter } from '../../../server/adapters/rate-limiter';
import { SANDBOX_TEMPLATE_IDS } from '../../../server/adapters/sandbox/sandbox-messages';
import { createSandboxPlatform, startSandboxServer, type SandboxPlatform } from '../../../server/adapters/sandbox/sandbox-platform';
import { TokenStore } from '../../../server/adapters/token-store';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { createRecordingLogger, sandboxAccounts } from './adapter-fixtures';

const POINTS = SANDBOX_TEMPLATE_IDS.pointsChanged;
const data = { thing1: { value: '签到奖励' }, number2: { value: '10' }, number3: { value: '1280' } };

/**
 * bizsend and subscribe/send on the sandbox, through the clients: the platform's own record of
 * grants decides 43101, as WeChat's does. The token store runs on SQLite (tested on both databases
 * in token-store.test.ts).
 */
describe('subscribe messages on the sandbox', () => {
  const accounts = sandboxAccounts();
  let database: TestDatabase;
  let platform: SandboxPlatform;
  let server: { url: string; close(): Promise<void> };
  let clock: ManualClock;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
  });
  afterAll(async () => {
    await database.destroy();
  });
  beforeEach(async () => {
    await database.reset();
    clock = new ManualClock();
    platform = createSandboxPlatform({ ...accounts, clock });
    server = await startSandboxServer(platform);
  });
  afterEach(async () => {
    await server.close();
  });

  const common = () => ({
    baseUrl: `${server.url}/sandbox/wechat`,
    tokenStore: new TokenStore({ dataSource: database.dataSource, clock, holder: 'test', pollMs: 20 }),
    rateLimiter: unlimitedRateLimiter,
    logger: createRecordingLogger().logger,
  });
  const oa = () =>
    new OfficialAccountClient({ ...common(), appId: accounts.officialAccount.appId, secret: accounts.officialAccount.secret });
  const mp = () => new MiniProgramClient({ ...common(), appId: accounts.miniprogram.appId, secret: accounts.miniprogram.secret });

  it('bizsend: 40003 for a stranger, 43101 without a grant, 47003 for a broken field rule, 40037 for an unknown template; one send per grant', async () => {
    const follower = platform.state.addFollower({});
    const send = (body: Record<string, unknown>) =>
      oa().sendSubscribeMessage({ touser: follower.openid, template_id: POINTS, data, ...body });
    await expect(send({ touser: 'oSTRANGER' })).rejects.toMatchObject({ api: 'subscribe/bizsend', errcode: 40003 });
    await expect(send({})).rejects.toMatchObject({ errcode: 43101 });
    platform.state.messages.answerSubscribe('subscribe/bizsend', follower.openid, POINTS, 'accept');
    await expect(send({ data: { thing1: { value: '一'.repeat(21) } } })).rejects.toMatchObject({ errcode: 47003 });
    await expect(send({ template_id: 'NOPE' })).rejects.toMatchObject({ errcode: 40037 });
    const sent = await send({ page: 'https://flywheel.example/p' });
    expect(sent.msgid).toMatch(/^\d+$/);
    await expect(send({})).rejects.toMatchObject({ errcode: 43101 });
    expect(platform.state.messages.subscribeAccepted.map((m) => [m.api, m.openid, String(m.msgid), m.page])).toEqual([
      ['subscribe/bizsend', follower.openid, sent.msgid, 'https://flywheel.example/p'],
    ]);
  });

  it('subscribe/send: the mini-program has its own access token and its own users; a ban takes every grant', async () => {
    const login = platform.state.issueLoginCode({});
    const send = () => mp().sendSubscribeMessage({ touser: login.openid, template_id: POINTS, data, page: 'pages/index' });
    platform.state.messages.answerSubscribe('subscribe/send', login.openid, POINTS, 'accept');
    platform.state.messages.answerSubscribe('subscribe/send', login.openid, POINTS, 'accept');
    // A grant for the Official Account is not one for the mini-program.
    platform.state.messages.answerSubscribe('subscribe/bizsend', login.openid, POINTS, 'accept');
    expect((await send()).msgid).toMatch(/^\d+$/);
    platform.state.messages.answerSubscribe('subscribe/send', login.openid, POINTS, 'ban');
    await expect(send()).rejects.toMatchObject({ api: 'subscribe/send', errcode: 43101 });
    await expect(mp().sendSubscribeMessage({ touser: 'oNOBODY', template_id: POINTS, data })).rejects.toMatchObject({ errcode: 40003 });
    expect(platform.state.callsTo('stable_token').map((c) => (c.body as { appid: string }).appid)).toEqual([accounts.miniprogram.appId]);
  });
});
