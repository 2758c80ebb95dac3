import request from 'supertest';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { describeEachDatabase } from '../../support/database';
import { drainTasks } from '../../support/leases';
import { startTestStack, type TestStack } from '../../support/test-stack';

interface SyncState {
  state: string;
  errcode?: number;
  meaning?: string;
  error?: string;
}

/** The whole server with the sandbox platform: tag sync state after real sync attempts, and the setup screen. */
describeEachDatabase('admin API: tag sync state and setup, against the sandbox platform', (db) => {
  let stack: TestStack;
  let admin: string;

  const signIn = async (username: string, role: 'admin' | 'operator') => {
    const created = await stack.services.operators.createOperator({
      username,
      password: `${username}-password`,
      role,
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username, password: `${username}-password`, ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    return login.token;
  };
  const get = (path: string, token = admin) => request(stack.baseUrl).get(path).set('Authorization', `Bearer ${token}`);
  const post = (path: string, body: object, token = admin) =>
    request(stack.baseUrl).post(path).set('Authorization', `Bearer ${token}`).send(body);
  const runSyncs = () => drainTasks(stack.services.queue, { handlers: stack.services.tagSync.handlers() });

  beforeEach(async () => {
    stack = await startTestStack(db());
    admin = await signIn('ada', 'admin');
  });
  afterEach(async () => {
    await stack.close();
  });

  it('shows each tag as pending, done, or failed with the errcode and its meaning', async () => {
    await stack.player().subscribe({ openid: 'o-follower' });
    await stack.services.reactions.idle();
    await runSyncs();
    const identity = await db().dataSource.manager.findOneByOrFail(ContactIdentity, { kind: 'oa_openid', value: 'o-follower' });
    const group = (await post('/api/admin/tag-groups', { name: '兴趣' }).expect(201)).body as { id: number };
    const ok = ((await post('/api/admin/tags', { groupId: group.id, name: '展会' }).expect(201)).body as { id: number }).id;
    const full = ((await post('/api/admin/tags', { groupId: group.id, name: '贵宾' }).expect(201)).body as { id: number }).id;
    const tagsById = async () =>
      new Map(
        (
          (await get('/api/admin/tags').expect(200)).body as { items: { id: number; sync: { oa: SyncState; wecom: SyncState } }[] }
        ).items.map((tag) => [tag.id, tag.sync]),
      );

    expect((await tagsById()).get(ok)).toEqual({ oa: { state: 'none' }, wecom: { state: 'none' } });
    await post(`/api/admin/contacts/${identity.contactId}/tags`, { add: [ok] }).expect(200);
    expect((await tagsById()).get(ok)?.oa).toEqual({ state: 'pending' });
    await runSyncs();
    expect((await tagsById()).get(ok)?.oa).toEqual({ state: 'done' });

    // The platform refuses: the follower has the 20 tags it allows (45059), which retrying cannot fix.
    stack.sandbox.state.failNext('tags/members/batchtagging', 45059);
    await post(`/api/admin/contacts/${identity.contactId}/tags`, { add: [full] }).expect(200);
    await runSyncs();
    const failed = (await tagsById()).get(full)?.oa;
    expect(failed).toMatchObject({ state: 'failed', errcode: 45059, meaning: 'a fan already carries the maximum of 20 tags' });
    expect(failed?.error).toContain('errcode 45059');
  });

  it('setup names the callback URLs and which credentials are set, never their values; the check calls each platform', async () => {
    const res = await get('/api/admin/setup').expect(200);
    const { officialAccount, wecom } = stack.config;
    for (const secret of [
      officialAccount.secret,
      officialAccount.token,
      officialAccount.aesKey,
      wecom.secret,
      wecom.token,
      wecom.aesKey,
      wecom.agentSecret,
      stack.config.miniprogram.secret,
    ]) {
      expect(res.text).not.toContain(secret);
    }
    expect(res.body).toEqual({
      publicBaseUrl: stack.config.publicBaseUrl,
      sandbox: true,
      platforms: [
        {
          key: 'oa',
          mode: 'sandbox',
          callbackUrl: `${stack.config.publicBaseUrl}/wechat/callback`,
          appId: officialAccount.appId,
          tokenSet: true,
          aesKeySet: true,
          secretSet: true,
        },
        {
          key: 'wecom',
          mode: 'sandbox',
          callbackUrl: `${stack.config.publicBaseUrl}/wecom/callback`,
          corpId: wecom.corpId,
          tokenSet: true,
          aesKeySet: true,
          secretSet: true,
        },
        {
          key: 'miniprogram',
          mode: 'sandbox',
          callbackUrl: null,
          appId: stack.config.miniprogram.appId,
          tokenSet: false,
          aesKeySet: false,
          secretSet: true,
        },
      ],
    });

    const checked = (await post('/api/admin/setup/check', {}).expect(200)).body as {
      results: { key: string; ok: boolean; tokenFresh: boolean; expiresAt: string | null }[];
    };
    expect(checked.results.map(({ expiresAt, ...rest }) => ({ ...rest, hasExpiry: typeof expiresAt === 'string' }))).toEqual([
      { key: 'oa', ok: true, tokenFresh: true, hasExpiry: true },
      { key: 'wecom', ok: true, tokenFresh: true, hasExpiry: true },
    ]);
    expect(new Date(checked.results[0].expiresAt ?? 0).getTime()).toBeGreaterThan(stack.clock.now().getTime());
    expect(stack.sandbox.state.calls.map((call) => call.api)).toEqual(expect.arrayContaining(['getcallbackip', 'get_api_domain_ip']));

    stack.sandbox.state.failNext('getcallbackip', 40164);
    const refused = (await post('/api/admin/setup/check', {}).expect(200)).body as { results: Record<string, unknown>[] };
    expect(refused.results[0]).toMatchObject({
      key: 'oa',
      ok: false,
      tokenFresh: true,
      errcode: 40164,
      meaning: 'calling IP is not in the API IP whitelist',
    });
    expect(JSON.stringify(refused)).not.toContain(officialAccount.secret);

    const operator = await signIn('olga', 'operator');
    await get('/api/admin/setup', operator).expect(403);
    await post('/api/admin/setup/check', {}, operator).expect(403);
  });
});
