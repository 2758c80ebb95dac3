import request from 'supertest';
import { ManualClock } from '../../../server/adapters/clock';
import { createSandboxPlatform, type SandboxPlatform } from '../../../server/adapters/sandbox/sandbox-platform';
import { OA_TAG_LIMITS } from '../../../server/adapters/sandbox/sandbox-state';
import { sandboxAccounts } from './adapter-fixtures';

/** The fake platform's own rules, driven over HTTP the way the clients reach it. */
describe('sandbox platform', () => {
  const accounts = sandboxAccounts();
  let clock: ManualClock;
  let platform: SandboxPlatform;

  beforeEach(() => {
    clock = new ManualClock();
    platform = createSandboxPlatform({ ...accounts, clock });
  });

  const http = () => request(platform.app.callback());
  const stableToken = async (p: { forceRefresh?: boolean; secret?: string } = {}) =>
    http()
      .post('/sandbox/wechat/cgi-bin/stable_token')
      .send({
        grant_type: 'client_credential',
        appid: accounts.officialAccount.appId,
        secret: p.secret ?? accounts.officialAccount.secret,
        force_refresh: p.forceRefresh ?? false,
      });
  const oaToken = async (): Promise<string> => {
    const body: unknown = (await stableToken()).body;
    if (typeof body !== 'object' || body === null || !('access_token' in body) || typeof body.access_token !== 'string')
      throw new Error('no token');
    return body.access_token;
  };
  const createTag = async (token: string, name: string) =>
    http().post(`/sandbox/wechat/cgi-bin/tags/create?access_token=${token}`).send({ tag: { name } });

  describe('tokens', () => {
    it('returns the same stable token until expiry, a new one when forced, and rejects the old one with 40001', async () => {
      const first = await stableToken();
      expect(first.body).toEqual({ access_token: expect.any(String) as string, expires_in: 7200 });
      clock.advance(1000_000);
      const same = await stableToken();
      expect(same.body).toEqual({ access_token: (first.body as { access_token: string }).access_token, expires_in: 6200 });

      const forced = await stableToken({ forceRefresh: true });
      const oldToken = (first.body as { access_token: string }).access_token;
      const newToken = (forced.body as { access_token: string }).access_token;
      expect(newToken).not.toBe(oldToken);
      expect((await http().get(`/sandbox/wechat/cgi-bin/tags/get?access_token=${oldToken}`)).body).toMatchObject({ errcode: 40001 });
      expect((await http().get(`/sandbox/wechat/cgi-bin/tags/get?access_token=${newToken}`)).body).toEqual({ tags: [] });
    });

    it('answers an expired token with 42001 and a missing one with 41001', async () => {
      const token = await oaToken();
      clock.advance(7200_000);
      expect((await http().get(`/sandbox/wechat/cgi-bin/tags/get?access_token=${token}`)).body).toMatchObject({ errcode: 42001 });
      expect((await http().get('/sandbox/wechat/cgi-bin/tags/get')).body).toMatchObject({ errcode: 41001 });
    });

    it('checks the appid and secret', async () => {
      expect((await stableToken({ secret: 'nope' })).body).toMatchObject({ errcode: 40125 });
      const wrongCorp = await http().get('/sandbox/wecom/cgi-bin/gettoken').query({ corpid: 'ww0', corpsecret: accounts.wecom.secret });
      expect(wrongCorp.body).toMatchObject({ errcode: 40013 });
    });

    it('does not accept an Official Account token on WeCom APIs', async () => {
      const token = await oaToken();
      const answer = await http().post(`/sandbox/wecom/cgi-bin/externalcontact/get_corp_tag_list?access_token=${token}`).send({});
      expect(answer.body).toMatchObject({ errcode: 40014 });
    });
  });

  describe('Official Account tag limits', () => {
    it(`allows ${OA_TAG_LIMITS.tagsPerAccount} tags per account, then 45056`, async () => {
      const token = await oaToken();
      for (let i = 0; i < OA_TAG_LIMITS.tagsPerAccount; i += 1) {
        expect((await createTag(token, `tag${i}`)).body).toMatchObject({ tag: { name: `tag${i}` } });
      }
      expect((await createTag(token, 'one-too-many')).body).toMatchObject({ errcode: 45056 });
    });

    it('refuses names over 30 bytes (45158) and duplicates (45157)', async () => {
      const token = await oaToken();
      // 10 CJK characters are 30 bytes in UTF-8; 11 are 33.
      expect((await createTag(token, '一二三四五六七八九十')).body).toMatchObject({ tag: { id: 100 } });
      expect((await createTag(token, '一二三四五六七八九十一')).body).toMatchObject({ errcode: 45158 });
      expect((await createTag(token, '一二三四五六七八九十')).body).toMatchObject({ errcode: 45157 });
    });

    it('allows 20 tags per follower (45059) and 50 openids per batch (40032)', async () => {
      const token = await oaToken();
      const follower = platform.state.addFollower();
      for (let i = 0; i < 21; i += 1) await createTag(token, `t${i}`);
      const tagging = (tagid: number, openids: string[]) =>
        http().post(`/sandbox/wechat/cgi-bin/tags/members/batchtagging?access_token=${token}`).send({ openid_list: openids, tagid });
      for (let i = 0; i < 20; i += 1) expect((await tagging(100 + i, [follower.openid])).body).toEqual({ errcode: 0, errmsg: 'ok' });
      expect((await tagging(120, [follower.openid])).body).toMatchObject({ errcode: 45059 });
      // Tagging again with a tag the follower already has is not over the limit.
      expect((await tagging(100, [follower.openid])).body).toMatchObject({ errcode: 0 });

      const many = Array.from({ length: 51 }, () => platform.state.addFollower().openid);
      expect((await tagging(120, many)).body).toMatchObject({ errcode: 40032 });
      expect((await tagging(120, many.slice(0, 50))).body).toMatchObject({ errcode: 0 });
      expect((await tagging(999, [follower.openid])).body).toMatchObject({ errcode: 45159 });
      expect((await tagging(120, ['o-unknown'])).body).toMatchObject({ errcode: 40003 });
    });
  });

  describe('call log and error injection', () => {
    it('records every call without access_token or secrets', async () => {
      const token = await oaToken();
      await http().get(`/sandbox/wechat/cgi-bin/user/info?access_token=${token}&openid=o1&lang=zh_CN`);
      await http().get('/sandbox/wecom/cgi-bin/gettoken').query({ corpid: accounts.wecom.corpId, corpsecret: accounts.wecom.secret });
      expect(platform.state.calls.map((c) => c.api)).toEqual(['stable_token', 'user/info', 'gettoken']);
      expect(platform.state.calls[1]).toEqual({ api: 'user/info', body: { openid: 'o1', lang: 'zh_CN' }, at: clock.now() });
      expect(JSON.stringify(platform.state.calls.slice(1))).not.toContain(token);
      expect(JSON.stringify(platform.state.calls)).not.toContain(accounts.wecom.secret);
      expect(JSON.stringify(platform.state.calls)).not.toContain(accounts.officialAccount.secret);
    });

    it('fails the next calls of an API through POST /sandbox/control/fail', async () => {
      const token = await oaToken();
      expect((await http().post('/sandbox/control/fail').send({ api: 'tags/get', errcode: -1, times: 2 })).body).toEqual({ ok: true });
      const get = () => http().get(`/sandbox/wechat/cgi-bin/tags/get?access_token=${token}`);
      expect((await get()).body).toMatchObject({ errcode: -1 });
      expect((await get()).body).toMatchObject({ errcode: -1 });
      expect((await get()).body).toEqual({ tags: [] });
      expect((await http().post('/sandbox/control/fail').send({ api: 'tags/get' })).status).toBe(400);
    });

    it('registers followers through POST /sandbox/control/followers; user/info/batchget knows them and refuses an unknown openid (40003)', async () => {
      const token = await oaToken();
      expect(
        (
          await http()
            .post('/sandbox/control/followers')
            .send({ openids: ['o_crowd_1', 'o_crowd_2'], scene: 'expo2026' })
        ).body,
      ).toEqual({ ok: true, followers: 2 });
      const batch = (openids: string[]) =>
        http()
          .post(`/sandbox/wechat/cgi-bin/user/info/batchget?access_token=${token}`)
          .send({ user_list: openids.map((openid) => ({ openid })) });
      const known = (await batch(['o_crowd_1', 'o_crowd_2'])).body as {
        user_info_list: { openid: string; subscribe: number; qr_scene_str: string }[];
      };
      expect(known.user_info_list.map((u) => [u.openid, u.subscribe, u.qr_scene_str])).toEqual([
        ['o_crowd_1', 1, 'expo2026'],
        ['o_crowd_2', 1, 'expo2026'],
      ]);
      expect((await batch(['o_crowd_1', 'o_nobody'])).body).toMatchObject({ errcode: 40003 });
      expect((await http().post('/sandbox/control/followers').send({ openids: [] })).status).toBe(400);
    });

    it('delays the next call of an API', async () => {
      const token = await oaToken();
      platform.state.delayNext('tags/get', 120);
      const started = Date.now();
      await http().get(`/sandbox/wechat/cgi-bin/tags/get?access_token=${token}`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    });

    it('answers malformed JSON with 47001', async () => {
      const answer = await http().post('/sandbox/wechat/cgi-bin/stable_token').set('Content-Type', 'application/json').send('{nope');
      expect(answer.body).toMatchObject({ errcode: 47001 });
    });

    it('lists the calls over HTTP', async () => {
      await stableToken();
      const answer = await http().get('/sandbox/control/calls');
      expect(answer.body).toMatchObject({ calls: [{ api: 'stable_token' }] });
    });
  });

  describe('POST /sandbox/actions', () => {
    it('answers 503 when the platform has no player', async () => {
      const answer = await http().post('/sandbox/actions').send({ action: 'subscribe' });
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ ok: false });
    });

    it('answers 400 for an unknown action', async () => {
      const answer = await http().post('/sandbox/actions').send({ action: 'dance' });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ ok: false, error: expect.stringContaining('action') as string });
    });
  });
});
