import Koa from 'koa';
import request from 'supertest';
import { visitorContactId } from '../../../server/http/visitor.middleware';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

const WECHAT_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN';
const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

/** A Set-Cookie list as one Cookie header, the way a browser sends them back (attributes dropped). */
function cookiesOf(res: request.Response, jar: Map<string, string> = new Map()): Map<string, string> {
  const raw = res.headers['set-cookie'] as unknown;
  for (const line of Array.isArray(raw) ? (raw as string[]) : []) {
    const [pair] = line.split(';');
    const at = pair.indexOf('=');
    jar.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return jar;
}
interface DemoAnswer {
  page: string;
  contactId: number | null;
}
const answerOf = (res: request.Response): DemoAnswer => res.body as DemoAnswer;
const cookieHeader = (jar: Map<string, string>): string => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

describeEachDatabase('web OAuth for H5 visitors (snsapi_base through the sandbox)', (db) => {
  let stack: TestStack;
  /** A demo public page wrapped as /e and /c will be: it answers who the visitor is. */
  let demo: Koa;

  const startStack = async (env: NodeJS.ProcessEnv = {}) => {
    stack = await startTestStack(db(), env);
    demo = new Koa();
    demo.use(stack.services.visitorMiddleware);
    demo.use((ctx) => {
      ctx.body = { page: ctx.path, contactId: visitorContactId(ctx) };
    });
  };
  const page = (path: string, jar: Map<string, string>, ua = WECHAT_UA) =>
    request(demo.callback()).get(path).set('User-Agent', ua).set('Cookie', cookieHeader(jar));
  /** The phone follows the redirect to the authorize page: HTTP clients drop the #fragment. */
  const authorize = (location: string, extra: Record<string, string> = {}) => {
    const url = new URL(location.replace(/#.*$/, ''));
    for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
    return request(url.origin).get(`${url.pathname}${url.search}`).set('User-Agent', WECHAT_UA);
  };
  /** WeChat sends the phone back to redirect_uri, on PUBLIC_BASE_URL: the demo stands for that host. */
  const backPath = (location: string) => {
    const url = new URL(location);
    expect(url.origin).toBe(stack.config.publicBaseUrl);
    return `${url.pathname}${url.search}`;
  };
  const identitiesOf = (openid: string) =>
    db().dataSource.query<{ contact_id: number | string; app_id: string }[]>(
      'SELECT contact_id, app_id FROM contact_identities WHERE kind = ? AND value = ?',
      ['oa_openid', openid],
    );

  afterEach(async () => {
    await stack.close();
  });

  jest.setTimeout(60_000);

  it('inside WeChat: redirect → sandbox authorize → callback → cookie → the contact holds the openid; the cookie then identifies', async () => {
    await startStack();
    const follower = await stack.player().subscribe({});
    const jar = new Map<string, string>();

    const first = await page('/e/7?ch=3', jar).expect(302);
    const location = first.headers.location;
    expect(location).toMatch(new RegExp(`^${stack.sandboxUrl}/sandbox/open/connect/oauth2/authorize\\?appid=`));
    const sent = new URL(location);
    expect(sent.searchParams.get('appid')).toBe(stack.config.officialAccount.appId);
    expect(sent.searchParams.get('redirect_uri')).toBe(`${stack.config.publicBaseUrl}/e/7?ch=3`);
    expect(sent.searchParams.get('response_type')).toBe('code');
    expect(sent.searchParams.get('scope')).toBe('snsapi_base');
    expect(sent.searchParams.get('state')).toMatch(/^[A-Za-z0-9]{1,128}$/);
    expect(sent.hash).toBe('#wechat_redirect');
    cookiesOf(first, jar);
    expect(jar.get('fw_oauth_nonce')).toMatch(/^[0-9a-f]{24}$/);

    // No openid named: the sandbox plays its current follower (the latest subscriber).
    const granted = await authorize(location).expect(302);
    const back = backPath(granted.headers.location);
    expect(back).toMatch(/^\/e\/7\?ch=3&code=[A-Za-z0-9]{32}&state=/);

    const callback = await page(back, jar).expect(302);
    expect(callback.headers.location).toBe('/e/7?ch=3');
    const setCookie = (callback.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('fw_visitor='));
    expect(setCookie).toMatch(/; HttpOnly; SameSite=Lax$/);
    cookiesOf(callback, jar);

    const [identity] = await identitiesOf(follower.openid);
    expect(identity.app_id).toBe(stack.config.officialAccount.appId);
    const landed = await page('/e/7?ch=3', jar).expect(200);
    expect(answerOf(landed)).toEqual({ page: '/e/7', contactId: Number(identity.contact_id) });
    // The same cookie on another public page, and on its API calls, names the same visitor.
    expect(answerOf(await page('/c/abc', jar).expect(200)).contactId).toBe(Number(identity.contact_id));
    const post = await request(demo.callback())
      .post('/e/7/registrations')
      .set('User-Agent', WECHAT_UA)
      .set('Cookie', cookieHeader(jar))
      .expect(200);
    expect(answerOf(post).contactId).toBe(Number(identity.contact_id));
    expect(stack.sandbox.state.callsTo('sns/oauth2/access_token')).toHaveLength(1);
    expect(JSON.stringify(stack.sandbox.state.callsTo('sns/oauth2/access_token')[0].body)).toContain('"secret":"***"');
  });

  it('the real content page: a reader inside WeChat is identified through OAuth and their view is on their timeline', async () => {
    await startStack();
    const follower = await stack.player().subscribe({});
    await stack.services.reactions.idle();
    const s = stack.services;
    const created = await s.operators.createOperator({
      username: 'admin',
      password: 'admin-password-1',
      role: 'admin',
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await s.operators.login({ username: 'admin', password: 'admin-password-1', ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    const material = (
      await request(stack.baseUrl)
        .post('/api/admin/content')
        .set('authorization', `Bearer ${login.token}`)
        .send({ kind: 'article', title: '展会指南', body: '# 欢迎' })
        .expect(201)
    ).body as { code: string };
    const jar = new Map<string, string>();
    const open = (path: string) => request(stack.baseUrl).get(path).set('User-Agent', WECHAT_UA).set('Cookie', cookieHeader(jar));

    const first = await open(`/c/${material.code}`).expect(302);
    cookiesOf(first, jar);
    const granted = await authorize(first.headers.location, { openid: follower.openid }).expect(302);
    const callback = await open(backPath(granted.headers.location)).expect(302);
    expect(callback.headers.location).toBe(`/c/${material.code}`);
    cookiesOf(callback, jar);
    await open(`/c/${material.code}`).expect(200);

    const [identity] = await identitiesOf(follower.openid);
    const views = await db().dataSource.query<{ contact_id: number | string }[]>(
      "SELECT contact_id FROM interactions WHERE type = 'content_view'",
    );
    expect(views.map((v) => Number(v.contact_id))).toEqual([Number(identity.contact_id)]);
    // Outside WeChat the page is served at once, to an anonymous reader.
    await request(stack.baseUrl).get(`/c/${material.code}`).set('User-Agent', DESKTOP_UA).expect(200);
  });

  it('finds the contact an earlier callback made for the openid, and plays the follower a query names', async () => {
    await startStack();
    const named = await stack.player().subscribe({});
    await stack.player().subscribe({});
    await stack.services.reactions.idle();
    const [before] = await identitiesOf(named.openid);
    const jar = new Map<string, string>();
    const first = await page('/c/brochure', jar).expect(302);
    cookiesOf(first, jar);
    const granted = await authorize(first.headers.location, { openid: named.openid }).expect(302);
    cookiesOf(await page(backPath(granted.headers.location), jar).expect(302), jar);
    expect(answerOf(await page('/c/brochure', jar).expect(200)).contactId).toBe(Number(before.contact_id));
    expect(await identitiesOf(named.openid)).toHaveLength(1);
  });

  it('a reused code gets a page saying so (400, not a 500); an expired one too', async () => {
    await startStack();
    await stack.player().subscribe({});
    const jar = new Map<string, string>();
    const first = await page('/e/7', jar).expect(302);
    cookiesOf(first, jar);
    const back = backPath((await authorize(first.headers.location).expect(302)).headers.location);
    await page(back, jar).expect(302);

    // The same return URL again, from the same browser before its visitor cookie was kept.
    const reused = await page(back, jar).expect(400);
    expect(reused.type).toBe('text/html');
    expect(reused.text).toContain('data-error="code_used"');
    expect(reused.text).toContain('href="/e/7"');

    const second = await page('/e/7', jar).expect(302);
    const late = backPath((await authorize(second.headers.location).expect(302)).headers.location);
    stack.clock.advance(5 * 60 * 1000 + 1000);
    expect((await page(late, jar).expect(400)).text).toContain('data-error="code_invalid"');
  });

  it('refuses a forged state, or one made for another page, with a 400 page; nothing is exchanged', async () => {
    await startStack();
    await stack.player().subscribe({});
    const jar = new Map<string, string>();
    const first = await page('/e/7', jar).expect(302);
    cookiesOf(first, jar);
    const back = backPath((await authorize(first.headers.location).expect(302)).headers.location);
    const state = new URL(back, 'http://x').searchParams.get('state') ?? '';
    const code = new URL(back, 'http://x').searchParams.get('code') ?? '';

    const forged = await page(`/e/7?code=${code}&state=V0${'0'.repeat(63)}`, jar).expect(400);
    expect(forged.text).toContain('data-error="forged"');
    // A genuine state carried to another page (an open redirect's attempt): refused the same way.
    expect((await page(`/e/8?code=${code}&state=${state}`, jar).expect(400)).text).toContain('data-error="forged"');
    expect((await page(`/e/7?code=${code}&state=123`, jar).expect(400)).text).toContain('data-error="forged"');
    expect(stack.sandbox.state.callsTo('sns/oauth2/access_token')).toHaveLength(0);
    // The code is still good for its own trip.
    await page(back, jar).expect(302);
  });

  it('a return URL from another browser (shared or planted) is not exchanged: that visitor goes through OAuth once more, then is served unidentified', async () => {
    await startStack();
    await stack.player().subscribe({});
    const victim = new Map<string, string>();
    const attacker = new Map<string, string>();
    const first = await page('/e/7', attacker).expect(302);
    cookiesOf(first, attacker);
    const planted = backPath((await authorize(first.headers.location).expect(302)).headers.location);

    const again = await page(planted, victim).expect(302);
    expect(again.headers.location).toMatch(/\/sandbox\/open\/connect\/oauth2\/authorize\?/);
    expect(stack.sandbox.state.callsTo('sns/oauth2/access_token')).toHaveLength(0);
    cookiesOf(again, victim);
    // A browser that keeps no cookie comes back without the nonce: served as nobody, no loop.
    const loopBack = backPath((await authorize(again.headers.location).expect(302)).headers.location);
    expect(answerOf(await page(loopBack, new Map()).expect(200))).toEqual({ page: '/e/7', contactId: null });
    // With its cookie it is identified as itself.
    cookiesOf(await page(loopBack, victim).expect(302), victim);
    expect(answerOf(await page('/e/7', victim).expect(200)).contactId).toEqual(expect.any(Number));
  });

  it('a snapshot-page visitor and a WeChat that does not answer get the page unidentified (200), and no contact', async () => {
    await startStack();
    const jar = new Map<string, string>();
    const first = await page('/e/7', jar).expect(302);
    cookiesOf(first, jar);
    const snapshot = backPath((await authorize(first.headers.location, { snapshot: '1' }).expect(302)).headers.location);
    expect(answerOf(await page(snapshot, jar).expect(200))).toEqual({ page: '/e/7', contactId: null });
    expect(Number((await db().dataSource.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM contacts'))[0].n)).toBe(0);

    const again = await page('/e/7', jar).expect(302);
    const busy = backPath((await authorize(again.headers.location).expect(302)).headers.location);
    stack.sandbox.state.failNext('sns/oauth2/access_token', -1);
    expect(answerOf(await page(busy, jar).expect(200))).toEqual({ page: '/e/7', contactId: null });
    expect(jar.has('fw_visitor')).toBe(false);
  });

  it('outside WeChat (and in WeCom’s browser) nothing is redirected and nobody is identified; a forged cookie names nobody', async () => {
    await startStack();
    expect(answerOf(await page('/e/7', new Map(), DESKTOP_UA).expect(200))).toEqual({ page: '/e/7', contactId: null });
    const wecom = `${WECHAT_UA} wxwork/4.1.20`;
    expect(answerOf(await page('/e/7', new Map(), wecom).expect(200)).contactId).toBeNull();
    // An API call from inside WeChat is answered, never redirected.
    await request(demo.callback()).post('/e/7/registrations').set('User-Agent', WECHAT_UA).expect(200);
    const forged = new Map([['fw_visitor', '1.abc.AAAAAAAAAAAAAAAAAAAAAA']]);
    expect(answerOf(await page('/e/7', forged, DESKTOP_UA).expect(200)).contactId).toBeNull();
    expect(stack.sandbox.state.callsTo('oauth2/authorize')).toHaveLength(0);
  });

  it('sets the cookies Secure when the site is https', async () => {
    await startStack({ PUBLIC_BASE_URL: 'https://flywheel.example' });
    const first = await page('/e/7', new Map()).expect(302);
    expect((first.headers['set-cookie'] as unknown as string[])[0]).toMatch(/; HttpOnly; SameSite=Lax; Secure$/);
    expect(new URL(first.headers.location).searchParams.get('redirect_uri')).toBe('https://flywheel.example/e/7');
  });

  it('the sandbox authorize page refuses what WeChat refuses, and a code the sandbox never issued is 40029', async () => {
    await startStack();
    const base = `/sandbox/open/connect/oauth2/authorize`;
    const q = (over: Record<string, string>) =>
      new URLSearchParams({
        appid: stack.config.officialAccount.appId,
        redirect_uri: 'http://localhost:3000/e/1',
        response_type: 'code',
        scope: 'snsapi_base',
        state: 'abc',
        ...over,
      }).toString();
    expect(
      (
        await request(stack.sandboxUrl)
          .get(`${base}?${q({ appid: 'wxother' })}`)
          .expect(400)
      ).text,
    ).toContain('appid');
    expect(
      (
        await request(stack.sandboxUrl)
          .get(`${base}?${q({ scope: 'snsapi_login' })}`)
          .expect(400)
      ).text,
    ).toContain('scope');
    expect(
      (
        await request(stack.sandboxUrl)
          .get(`${base}?${q({ state: 'a-b' })}`)
          .expect(400)
      ).text,
    ).toContain('state');
    expect(
      (
        await request(stack.sandboxUrl)
          .get(`${base}?${q({ redirect_uri: '/e/1' })}`)
          .expect(400)
      ).text,
    ).toContain('redirect_uri');
    await expect(stack.services.officialAccount?.exchangeWebOauthCode('never-issued')).rejects.toMatchObject({ errcode: 40029 });
  });
});
