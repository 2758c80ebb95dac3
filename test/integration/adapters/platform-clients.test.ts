import { ManualClock } from '../../../server/adapters/clock';
import { MiniProgramClient } from '../../../server/adapters/miniprogram.client';
import { OfficialAccountClient } from '../../../server/adapters/official-account.client';
import { PlatformApiError, PlatformTransportError } from '../../../server/adapters/platform-error';
import { unlimitedRateLimiter } from '../../../server/adapters/rate-limiter';
import { createSandboxPlatform, startSandboxServer, type SandboxPlatform } from '../../../server/adapters/sandbox/sandbox-platform';
import { TokenStore } from '../../../server/adapters/token-store';
import { WecomClient } from '../../../server/adapters/wecom.client';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { createRecordingLogger, sandboxAccounts } from './adapter-fixtures';

/**
 * The clients against the sandbox platform on loopback, with the token store on SQLite (the
 * store itself is tested on both databases in token-store.test.ts).
 */
describe('platform clients against the sandbox', () => {
  const accounts = sandboxAccounts();
  let database: TestDatabase;
  let platform: SandboxPlatform;
  let server: { url: string; close(): Promise<void> };
  let clock: ManualClock;
  let recording: ReturnType<typeof createRecordingLogger>;

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
    recording = createRecordingLogger();
  });
  afterEach(async () => {
    await server.close();
  });

  const tokenStore = (holder = 'test-a') => new TokenStore({ dataSource: database.dataSource, clock, holder, pollMs: 20 });
  const oaClient = (p: { holder?: string; timeoutMs?: number; baseUrl?: string } = {}) =>
    new OfficialAccountClient({
      baseUrl: p.baseUrl ?? `${server.url}/sandbox/wechat`,
      appId: accounts.officialAccount.appId,
      secret: accounts.officialAccount.secret,
      tokenStore: tokenStore(p.holder),
      rateLimiter: unlimitedRateLimiter,
      logger: recording.logger,
      timeoutMs: p.timeoutMs ?? 2000,
    });
  const wecomClient = (secret: string = accounts.wecom.secret) =>
    new WecomClient({
      baseUrl: `${server.url}/sandbox/wecom`,
      corpId: accounts.wecom.corpId,
      secret,
      tokenStore: tokenStore(),
      rateLimiter: unlimitedRateLimiter,
      logger: recording.logger,
    });
  const calls = (api: string) => platform.state.callsTo(api);

  describe('OfficialAccountClient', () => {
    it('reads a follower with the scene they followed through', async () => {
      const follower = platform.state.addFollower({ scene: 'expo2026', nickname: 'Lin' });
      const user = await oaClient().getUserInfo(follower.openid);
      expect(user).toEqual({
        openid: follower.openid,
        subscribed: true,
        unionid: follower.unionid,
        nickname: 'Lin',
        avatarUrl: null,
        subscribeScene: 'ADD_SCENE_QR_CODE',
        qrScene: 'expo2026',
      });
      expect(follower.openid).toMatch(/^o[A-Za-z0-9_-]{27}$/);
      expect(calls('user/info')[0]?.body).toEqual({ openid: follower.openid, lang: 'zh_CN' });
    });

    it('reports an unsubscribed follower without profile fields', async () => {
      const follower = platform.state.addFollower({ subscribed: false, unionid: null });
      expect(await oaClient().getUserInfo(follower.openid)).toMatchObject({
        subscribed: false,
        unionid: null,
        subscribeScene: null,
        qrScene: null,
      });
    });

    it('shares one stable token among instances through the store', async () => {
      const follower = platform.state.addFollower();
      await Promise.all([oaClient({ holder: 'a' }).getUserInfo(follower.openid), oaClient({ holder: 'b' }).getUserInfo(follower.openid)]);
      await oaClient({ holder: 'c' }).listTags();
      expect(calls('stable_token')).toHaveLength(1);
      expect(calls('stable_token')[0]?.body).toEqual({
        grant_type: 'client_credential',
        appid: accounts.officialAccount.appId,
        secret: '***',
        force_refresh: false,
      });
    });

    it('on 40001 clears the token, force-refreshes and retries once', async () => {
      const client = oaClient();
      const follower = platform.state.addFollower();
      await client.getUserInfo(follower.openid);
      platform.state.revokeTokens(); // someone force-refreshed elsewhere: our stored token is dead
      expect((await client.getUserInfo(follower.openid)).openid).toBe(follower.openid);
      expect(calls('user/info')).toHaveLength(3);
      expect(calls('stable_token').map((c) => c.body)).toEqual([
        expect.objectContaining({ force_refresh: false }),
        expect.objectContaining({ force_refresh: true }),
      ]);
    });

    it('on 42001 refreshes without forcing', async () => {
      const follower = platform.state.addFollower();
      platform.state.failNext('user/info', 42001);
      const client = oaClient();
      await client.getUserInfo(follower.openid);
      expect(calls('stable_token').map((c) => c.body)).toEqual([
        expect.objectContaining({ force_refresh: false }),
        expect.objectContaining({ force_refresh: false }),
      ]);
    });

    it('surfaces a second 40001 as PlatformApiError instead of looping', async () => {
      const follower = platform.state.addFollower();
      platform.state.failNext('user/info', 40001, 2);
      const error = await oaClient()
        .getUserInfo(follower.openid)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformApiError);
      expect(error).toMatchObject({ api: 'user/info', errcode: 40001, retryable: false });
      expect(calls('user/info')).toHaveLength(2);
    });

    it('maps a nonzero errcode to a typed error with its meaning', async () => {
      platform.state.failNext('tags/create', 45009);
      const error = await oaClient()
        .createTag('VIP')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformApiError);
      expect(error).toMatchObject({ errcode: 45009, meaning: 'API daily quota reached', retryable: false });
      platform.state.failNext('tags/create', 45011);
      await expect(oaClient().createTag('VIP')).rejects.toMatchObject({ errcode: 45011, retryable: true });
    });

    it('creates, lists and applies tags', async () => {
      const client = oaClient();
      const [f1, f2] = [platform.state.addFollower(), platform.state.addFollower()];
      const tag = await client.createTag('展会客户');
      expect(tag).toEqual({ id: 100, name: '展会客户' });
      await expect(client.createTag('展会客户')).rejects.toMatchObject({ errcode: 45157 });
      await client.batchTag(tag.id, [f1.openid, f2.openid]);
      expect(await client.listTags()).toEqual([{ id: 100, name: '展会客户', count: 2 }]);
      expect([f1.tagIds, f2.tagIds]).toEqual([[100], [100]]);
      await client.batchUntag(tag.id, [f1.openid]);
      expect([f1.tagIds, f2.tagIds]).toEqual([[], [100]]);
    });

    it('refuses more than 50 openids without calling the platform', async () => {
      const openids = Array.from({ length: 51 }, (_, i) => `o${String(i).padStart(27, '0')}`);
      await expect(oaClient().batchTag(100, openids)).rejects.toThrow(/at most 50/);
      await expect(oaClient().batchUntag(100, openids)).rejects.toThrow(/at most 50/);
      expect(calls('tags/members/batchtagging')).toHaveLength(0);
      expect(calls('tags/members/batchuntagging')).toHaveLength(0);
    });

    it('turns a timeout into a retryable PlatformTransportError', async () => {
      const follower = platform.state.addFollower();
      const client = oaClient({ timeoutMs: 80 });
      await client.listTags(); // the token first, so the delay hits user/info
      platform.state.delayNext('user/info', 250);
      const error = await client.getUserInfo(follower.openid).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformTransportError);
      expect(error).toMatchObject({ api: 'user/info', failure: 'timeout', retryable: true });
    });

    it('turns a refused connection into a retryable PlatformTransportError', async () => {
      const closed = await startSandboxServer(createSandboxPlatform(accounts));
      await closed.close();
      await expect(oaClient({ baseUrl: `${closed.url}/sandbox/wechat` }).listTags()).rejects.toMatchObject({
        name: 'PlatformTransportError',
        failure: 'network',
        retryable: true,
      });
    });

    it('reports a wrong secret from stable_token as PlatformApiError 40125', async () => {
      const client = new OfficialAccountClient({
        baseUrl: `${server.url}/sandbox/wechat`,
        appId: accounts.officialAccount.appId,
        secret: 'wrong',
        tokenStore: tokenStore(),
        rateLimiter: unlimitedRateLimiter,
        logger: recording.logger,
      });
      await expect(client.listTags()).rejects.toMatchObject({ api: 'stable_token', errcode: 40125 });
    });

    it('never logs the access token or the secret', async () => {
      const follower = platform.state.addFollower();
      const client = oaClient();
      await client.getUserInfo(follower.openid);
      platform.state.revokeTokens();
      await client.getUserInfo(follower.openid);
      const tokens = await database.dataSource.query<{ value: string }[]>('SELECT value FROM platform_tokens');
      const log = recording.lines.join('\n');
      expect(recording.lines.length).toBeGreaterThan(0);
      expect(log).toContain('user/info');
      for (const { value } of tokens) expect(log).not.toContain(value);
      expect(log).not.toContain(accounts.officialAccount.secret);
      expect(log).not.toContain('access_token=');
    });
  });

  describe('WecomClient', () => {
    it('reads an external contact with its follow users, state and corp tags', async () => {
      const client = wecomClient();
      const group = await client.addCorpTag({ groupName: '展会', tagNames: ['expo2026', '意向高'] });
      expect(group.groupId).toMatch(/^et/);
      expect(group.tags.map((t) => t.name)).toEqual(['expo2026', '意向高']);
      const contact = platform.state.addExternalContact({
        followUserId: 'zhangsan',
        state: 'expo2026',
        unionid: 'oUNION000000000000000000000x',
      });
      expect(contact.externalUserId).toMatch(/^wm[A-Za-z0-9_-]{30}$/);
      const [first, second] = group.tags;
      await client.markTag({
        userId: 'zhangsan',
        externalUserId: contact.externalUserId,
        addTagIds: [first?.id ?? '', second?.id ?? ''],
        removeTagIds: [],
      });
      await client.markTag({ userId: 'zhangsan', externalUserId: contact.externalUserId, addTagIds: [], removeTagIds: [second?.id ?? ''] });

      const read = await client.getExternalContact(contact.externalUserId);
      expect(read).toEqual({
        externalUserId: contact.externalUserId,
        name: contact.name,
        avatarUrl: contact.avatar,
        unionid: 'oUNION000000000000000000000x',
        followUsers: [{ userId: 'zhangsan', state: 'expo2026', createTime: Math.floor(clock.now().getTime() / 1000), tagIds: [first?.id] }],
      });
      expect(calls('gettoken')).toHaveLength(1);
      expect(calls('gettoken')[0]?.body).toEqual({ corpid: accounts.wecom.corpId, corpsecret: '***' });
      expect(calls('externalcontact/mark_tag')[0]?.body).toEqual({
        userid: 'zhangsan',
        external_userid: contact.externalUserId,
        add_tag: [first?.id, second?.id],
        remove_tag: [],
      });
    });

    it('follows next_cursor across more than 500 follow users', async () => {
      const contact = platform.state.addExternalContact({ followUserId: 'u0' });
      for (let i = 1; i < 501; i += 1) platform.state.addExternalContact({ externalUserId: contact.externalUserId, followUserId: `u${i}` });
      const read = await wecomClient().getExternalContact(contact.externalUserId);
      expect(read.followUsers).toHaveLength(501);
      expect(calls('externalcontact/get')).toHaveLength(2);
    });

    it('adds tags to an existing group by name, refuses duplicates with 40071, and lists by filter', async () => {
      const client = wecomClient();
      const first = await client.addCorpTag({ groupName: '行业', tagNames: ['制造'] });
      const again = await client.addCorpTag({ groupName: '行业', tagNames: ['零售'] });
      expect(again.groupId).toBe(first.groupId);
      expect(again.tags.map((t) => t.name)).toEqual(['零售']);
      await expect(client.addCorpTag({ groupName: 'ignored', groupId: first.groupId, tagNames: ['制造'] })).rejects.toMatchObject({
        errcode: 40071,
      });
      await client.addCorpTag({ groupName: '来源', tagNames: ['官网'] });

      const all = await client.getCorpTagList();
      expect(all.map((g) => [g.groupName, g.tags.map((t) => t.name)])).toEqual([
        ['行业', ['制造', '零售']],
        ['来源', ['官网']],
      ]);
      const byTag = await client.getCorpTagList({ tagIds: [again.tags[0]?.id ?? ''] });
      expect(byTag).toEqual([
        { groupId: first.groupId, groupName: '行业', tags: [{ id: again.tags[0]?.id, name: '零售', deleted: false }] },
      ]);
      const byGroup = await client.getCorpTagList({ groupIds: [first.groupId], tagIds: ['ignored'] });
      expect(byGroup[0]?.tags).toHaveLength(2);
    });

    it('refuses mark_tag for a member without the relationship (84061) and an unknown contact (40096)', async () => {
      const client = wecomClient();
      const { tags } = await client.addCorpTag({ groupName: 'g', tagNames: ['t'] });
      const contact = platform.state.addExternalContact({ followUserId: 'zhangsan' });
      const tagId = tags[0]?.id ?? '';
      await expect(
        client.markTag({ userId: 'lisi', externalUserId: contact.externalUserId, addTagIds: [tagId], removeTagIds: [] }),
      ).rejects.toMatchObject({ errcode: 84061 });
      await expect(client.getExternalContact('wmUNKNOWN')).rejects.toMatchObject({ errcode: 40096 });
      // An empty change is not sent at all.
      await client.markTag({ userId: 'zhangsan', externalUserId: contact.externalUserId, addTagIds: [], removeTagIds: [] });
      expect(calls('externalcontact/mark_tag')).toHaveLength(1);
    });

    it('retries once after 40014 with a new token', async () => {
      const client = wecomClient();
      const contact = platform.state.addExternalContact({ followUserId: 'zhangsan' });
      await client.getExternalContact(contact.externalUserId);
      platform.state.revokeTokens();
      await client.getExternalContact(contact.externalUserId);
      expect(calls('gettoken')).toHaveLength(2);
      expect(calls('externalcontact/get')).toHaveLength(3);
    });

    it('reports a wrong secret from gettoken without retrying', async () => {
      await expect(wecomClient('wrong').getCorpTagList()).rejects.toMatchObject({ api: 'gettoken', errcode: 40001 });
      expect(calls('gettoken')).toHaveLength(1);
    });
  });

  describe('MiniProgramClient', () => {
    const mpClient = () =>
      new MiniProgramClient({
        baseUrl: `${server.url}/sandbox/wechat`,
        appId: accounts.miniprogram.appId,
        secret: accounts.miniprogram.secret,
        rateLimiter: unlimitedRateLimiter,
        logger: recording.logger,
      });

    it('exchanges a login code once and never logs the session key', async () => {
      const login = platform.state.issueLoginCode({ unionid: 'oUNION000000000000000000000y' });
      const session = await mpClient().code2Session(login.code);
      expect(session).toEqual({ openid: login.openid, unionid: 'oUNION000000000000000000000y', sessionKey: expect.any(String) as string });
      await expect(mpClient().code2Session(login.code)).rejects.toMatchObject({ api: 'jscode2session', errcode: 40163 });
      const log = recording.lines.join('\n');
      expect(log).not.toContain(session.sessionKey);
      expect(log).not.toContain(accounts.miniprogram.secret);
      expect(calls('jscode2session')[0]?.body).toMatchObject({ appid: accounts.miniprogram.appId, secret: '***', js_code: '***' });
    });

    it('answers null unionid when the user has none', async () => {
      const login = platform.state.issueLoginCode({ unionid: null });
      expect((await mpClient().code2Session(login.code)).unionid).toBeNull();
    });
  });
});
