import { PlatformToken } from '../../../entities/platform-token.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { OfficialAccountClient } from '../../../server/adapters/official-account.client';
import { PlatformApiError } from '../../../server/adapters/platform-error';
import { unlimitedRateLimiter } from '../../../server/adapters/rate-limiter';
import { createSandboxPlatform, startSandboxServer, type SandboxPlatform } from '../../../server/adapters/sandbox/sandbox-platform';
import { TokenStore } from '../../../server/adapters/token-store';
import { WecomAgentClient } from '../../../server/adapters/wecom-agent.client';
import { describeEachDatabase, useSecondInstance } from '../../support/database';
import { createRecordingLogger, sandboxAccounts } from './adapter-fixtures';

const HOUR_MS = 3600_000;

/**
 * JS-SDK tickets through the shared token store, against the sandbox on loopback. Two connection
 * pools on one database stand in for two server instances.
 */
describeEachDatabase('JS-SDK tickets', (db) => {
  const accounts = sandboxAccounts();
  const second = useSecondInstance(db);
  let platform: SandboxPlatform;
  let server: { url: string; close(): Promise<void> };
  let clock: ManualClock;
  let recording: ReturnType<typeof createRecordingLogger>;

  beforeEach(async () => {
    clock = new ManualClock();
    platform = createSandboxPlatform({ ...accounts, clock });
    server = await startSandboxServer(platform);
    recording = createRecordingLogger();
  });
  afterEach(async () => {
    await server.close();
  });

  /** Instance `a` uses the suite's pool, any other holder the second pool. */
  const tokenStore = (holder: string) =>
    new TokenStore({ dataSource: holder === 'a' ? db().dataSource : second(), clock, holder, pollMs: 20, maxWaitMs: 5000 });
  const oaClient = (holder = 'a') =>
    new OfficialAccountClient({
      baseUrl: `${server.url}/sandbox/wechat`,
      appId: accounts.officialAccount.appId,
      secret: accounts.officialAccount.secret,
      tokenStore: tokenStore(holder),
      rateLimiter: unlimitedRateLimiter,
      logger: recording.logger,
      timeoutMs: 2000,
    });
  const agentClient = (p: { holder?: string; agentSecret?: string } = {}) =>
    new WecomAgentClient({
      baseUrl: `${server.url}/sandbox/wecom`,
      corpId: accounts.wecom.corpId,
      agentId: accounts.wecom.agentId,
      agentSecret: p.agentSecret ?? accounts.wecom.agentSecret,
      tokenStore: tokenStore(p.holder ?? 'a'),
      rateLimiter: unlimitedRateLimiter,
      logger: recording.logger,
      timeoutMs: 2000,
    });
  const calls = (api: string) => platform.state.callsTo(api);
  const storedRow = (key: string) => db().dataSource.getRepository(PlatformToken).findOneByOrFail({ key });

  describe('OfficialAccountClient.getJsapiTicket', () => {
    const key = `oa:${accounts.officialAccount.appId}:jsapi_ticket`;

    it('gives two instances the same ticket from one ticket call', async () => {
      const [fromA, fromB] = await Promise.all([oaClient('a').getJsapiTicket(), oaClient('b').getJsapiTicket()]);
      expect(fromA).toMatch(/^SBX_OA_JSAPI_/);
      expect(fromB).toBe(fromA);
      expect(await oaClient('c').getJsapiTicket()).toBe(fromA);
      expect(calls('ticket/getticket')).toHaveLength(1);
      expect(calls('ticket/getticket')[0]?.body).toEqual({ type: 'jsapi' });
      expect(calls('stable_token')).toHaveLength(1);

      const row = await storedRow(key);
      expect(row.value).toBe(fromA);
      expect(row.expiresAt?.toISOString()).toBe(new Date(clock.now().getTime() + 7200_000).toISOString());
      expect(row.leaseHolder).toBeNull();
    });

    it('keeps the ticket while it is fresh, and after expires_in fetches a new one once', async () => {
      const first = await oaClient('a').getJsapiTicket();
      clock.advance(HOUR_MS);
      expect(await oaClient('b').getJsapiTicket()).toBe(first);
      expect(calls('ticket/getticket')).toHaveLength(1);

      clock.advance(HOUR_MS); // expires_in 7200 has run out
      const [fromA, fromB] = await Promise.all([oaClient('a').getJsapiTicket(), oaClient('b').getJsapiTicket()]);
      expect(fromA).not.toBe(first);
      expect(fromB).toBe(fromA);
      expect(calls('ticket/getticket')).toHaveLength(2);
    });

    it('on 40001 from the ticket call clears the access token, force-refreshes it and retries once', async () => {
      const client = oaClient();
      platform.state.failNext('ticket/getticket', 40001);
      const ticket = await client.getJsapiTicket();
      expect(calls('ticket/getticket')).toHaveLength(2);
      expect(calls('stable_token').map((c) => c.body)).toEqual([
        expect.objectContaining({ force_refresh: false }),
        expect.objectContaining({ force_refresh: true }),
      ]);
      expect((await storedRow(key)).value).toBe(ticket);
    });

    it('surfaces a second access-token rejection instead of looping, and stores nothing', async () => {
      platform.state.failNext('ticket/getticket', 42001, 2);
      const failure = oaClient().getJsapiTicket();
      await expect(failure).rejects.toBeInstanceOf(PlatformApiError);
      await expect(failure).rejects.toMatchObject({ api: 'ticket/getticket', errcode: 42001 });
      expect(calls('ticket/getticket')).toHaveLength(2);
      expect((await storedRow(key)).value).toBeNull();

      // The ticket lease was released with the failure: the next caller fetches at once.
      expect(await oaClient('b').getJsapiTicket()).toMatch(/^SBX_OA_JSAPI_/);
      expect(calls('ticket/getticket')).toHaveLength(3);
    });
  });

  describe('WecomAgentClient', () => {
    const { corpId, agentId } = accounts.wecom;

    it('gives two instances the same corp and agent tickets, one call each, on the app token', async () => {
      const [a, b] = [agentClient({ holder: 'a' }), agentClient({ holder: 'b' })];
      const [corpA, corpB, agentA, agentB] = await Promise.all([
        a.getCorpJsapiTicket(),
        b.getCorpJsapiTicket(),
        a.getAgentJsapiTicket(),
        b.getAgentJsapiTicket(),
      ]);
      expect(corpA).toMatch(/^SBX_WECOM_JSAPI_/);
      expect(agentA).toMatch(/^SBX_WECOM_AGENT_CONFIG_/);
      expect(corpB).toBe(corpA);
      expect(agentB).toBe(agentA);
      expect(calls('get_jsapi_ticket')).toHaveLength(1);
      expect(calls('ticket/get')).toHaveLength(1);
      expect(calls('ticket/get')[0]?.body).toEqual({ type: 'agent_config' });
      expect(calls('gettoken')).toHaveLength(1);
      expect(calls('gettoken')[0]?.body).toEqual({ corpid: corpId, corpsecret: '***' });

      expect((await storedRow(`wecom:${corpId}:jsapi_ticket`)).value).toBe(corpA);
      expect((await storedRow(`wecom:${corpId}:agent:${agentId}:agent_ticket`)).value).toBe(agentA);
      expect((await storedRow(`wecom:${corpId}:agent:${agentId}:access_token`)).value).toMatch(/^SBX_WECOM_AGENT_/);
    });

    it('fetches new tickets after they expire', async () => {
      const client = agentClient();
      const corp = await client.getCorpJsapiTicket();
      const agent = await client.getAgentJsapiTicket();
      clock.advance(2 * HOUR_MS + 1000);
      const corpAfter = await agentClient({ holder: 'b' }).getCorpJsapiTicket();
      const agentAfter = await agentClient({ holder: 'b' }).getAgentJsapiTicket();
      expect(corpAfter).not.toBe(corp);
      expect(agentAfter).not.toBe(agent);
      expect(calls('get_jsapi_ticket')).toHaveLength(2);
      expect(calls('ticket/get')).toHaveLength(2);
      expect(calls('gettoken')).toHaveLength(2);
    });

    it('on 42001 from a ticket call refreshes the app token and retries once', async () => {
      platform.state.failNext('ticket/get', 42001);
      expect(await agentClient().getAgentJsapiTicket()).toMatch(/^SBX_WECOM_AGENT_CONFIG_/);
      expect(calls('ticket/get')).toHaveLength(2);
      expect(calls('gettoken')).toHaveLength(2);
    });

    it('is refused (40014) when built with a secret other than the app secret', async () => {
      // The customer-contact secret yields a token of another app: the ticket APIs reject it twice.
      const failure = agentClient({ agentSecret: accounts.wecom.secret }).getCorpJsapiTicket();
      await expect(failure).rejects.toMatchObject({ api: 'get_jsapi_ticket', errcode: 40014 });
      expect(calls('get_jsapi_ticket')).toHaveLength(2);
    });

    it('answers 40058 to a ticket/get of another type', async () => {
      await agentClient().getCorpJsapiTicket(); // stores an app token
      const token = (await storedRow(`wecom:${corpId}:agent:${agentId}:access_token`)).value ?? '';
      const response = await fetch(`${server.url}/sandbox/wecom/cgi-bin/ticket/get?access_token=${encodeURIComponent(token)}&type=jsapi`);
      expect(await response.json()).toMatchObject({ errcode: 40058 });
    });
  });
});
