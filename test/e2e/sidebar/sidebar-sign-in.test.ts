import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import request from 'supertest';
import { systemClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { createSidebarWebMiddleware } from '../../../server/http/sidebar-web';
import { SidebarSignInService } from '../../../server/modules/sidebar/sidebar-sign-in.service';
import { cookieHeader, keepCookies } from '../../support/cookie-jar';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** A built sidebar stands in for dist/web/sidebar (the web build is not needed to prove the sign-in). */
function fixtureRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-sidebar-'));
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>sidebar</title><div id="app"></div>');
  return root;
}

describeEachDatabase('the sidebar signs its rep in through WeCom OAuth2 (played by the sandbox)', (db) => {
  let stack: TestStack;
  let root: string;
  let jar: Map<string, string>;

  beforeEach(async () => {
    root = fixtureRoot();
    stack = await startTestStack(db(), {}, { sidebarWebRoot: root });
    jar = new Map();
  });
  afterEach(async () => {
    await stack.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  jest.setTimeout(60_000);

  const open = (pathAndQuery: string) => request(stack.baseUrl).get(pathAndQuery).set('Cookie', cookieHeader(jar));
  /** The browser follows the redirect to the authorize page (HTTP clients drop the #fragment). */
  const authorize = (location: string, extra: Record<string, string> = {}) => {
    const url = new URL(location.replace(/#.*$/, ''));
    for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
    return request(url.origin).get(`${url.pathname}${url.search}`);
  };
  /** WeCom sends the browser back to redirect_uri on PUBLIC_BASE_URL: the stack stands for that host. */
  const backPath = (location: string): string => {
    const url = new URL(location);
    expect(url.origin).toBe(stack.config.publicBaseUrl);
    return `${url.pathname}${url.search}`;
  };
  const createRep = async (username: string, wecomUserId: string | null, disabled = false) => {
    const created = await stack.services.operators.createOperator({
      username,
      password: 'rep-password-123',
      role: 'sales',
      wecomUserId,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    if (disabled)
      await stack.services.operators.updateOperator({ id: created.operator.id, disabled: true, actor: { operatorId: null, ip: null } });
    return created.operator;
  };
  /** From a page without a session to WeCom's return: the /sidebar/auth path to open. */
  const signInTrip = async (page: string, member: Record<string, string>): Promise<string> => {
    const first = await open(page).expect(302);
    keepCookies(first, jar);
    const granted = await authorize(first.headers.location, member);
    if (granted.status !== 302) throw new Error(`${granted.status} ${granted.text} ${first.headers.location}`);
    return backPath(granted.headers.location);
  };

  it('no session: to WeCom OAuth2 and back, an operator session for the rep, then the page it asked for', async () => {
    const rep = await createRep('rep-li', 'LiLei');
    const first = await open('/sidebar/?entry=single_chat_tools').expect(302);
    const sent = new URL(first.headers.location);
    expect(`${sent.origin}${sent.pathname}`).toBe(`${stack.sandboxUrl}/sandbox/open/connect/oauth2/authorize`);
    // The documented order, agentid last, and the fragment WeChat's page requires.
    expect([...sent.searchParams.keys()]).toEqual(['appid', 'redirect_uri', 'response_type', 'scope', 'state', 'agentid']);
    expect(sent.searchParams.get('appid')).toBe(stack.config.wecom.corpId);
    expect(sent.searchParams.get('agentid')).toBe(stack.config.wecom.agentId);
    expect(sent.searchParams.get('scope')).toBe('snsapi_base');
    expect(sent.searchParams.get('redirect_uri')).toBe(
      `${stack.config.publicBaseUrl}/sidebar/auth?next=${encodeURIComponent('/sidebar/?entry=single_chat_tools')}`,
    );
    expect(sent.hash).toBe('#wechat_redirect');
    keepCookies(first, jar);
    expect(jar.get('fw_oauth_nonce')).toMatch(/^[0-9a-f]{24}$/);

    // WeCom userids are case-insensitive: lilei is LiLei.
    const granted = await authorize(first.headers.location, { userid: 'lilei' }).expect(302);
    const back = backPath(granted.headers.location);
    const signedIn = await open(back).expect(302);
    expect(signedIn.headers.location).toBe('/sidebar/?entry=single_chat_tools');
    const setCookies = signedIn.headers['set-cookie'] as unknown as string[];
    expect(setCookies.find((c) => c.startsWith('fw_session='))).toMatch(/Max-Age=43200; HttpOnly; SameSite=Lax$/);
    expect(setCookies.find((c) => c.startsWith('fw_csrf='))).toMatch(/Max-Age=43200; SameSite=Lax$/);
    keepCookies(signedIn, jar);

    const page = await open('/sidebar/?entry=single_chat_tools').expect(200);
    expect(page.text).toContain('<div id="app">');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    // An ordinary operator session: the admin API knows who it is.
    const me = await open('/api/admin/me').expect(200);
    expect(me.body).toMatchObject({ id: rep.id, username: 'rep-li', role: 'sales', wecomUserId: 'LiLei' });
    const audits = await db().dataSource.query<{ action: string; operator_id: number | string; detail: string }[]>(
      "SELECT action, operator_id, detail FROM audit_log WHERE action = 'sidebar_sign_in'",
    );
    expect(audits).toHaveLength(1);
    expect(Number(audits[0].operator_id)).toBe(rep.id);
    expect(JSON.parse(audits[0].detail)).toEqual({ username: 'rep-li', wecomUserId: 'lilei' });
    // The code was exchanged with the app's own token, once.
    expect(stack.sandbox.state.callsTo('auth/getuserinfo')).toHaveLength(1);

    // The same return URL again (a reload): the code is spent, as WeCom says: 40029.
    const again = await request(stack.baseUrl)
      .get(back)
      .set('Cookie', `fw_oauth_nonce=${jar.get('fw_oauth_nonce') ?? ''}`)
      .expect(400);
    expect(again.text).toContain('data-error="code_invalid"');
    expect(again.text).toContain('已用过');
  });

  it('a member no operator is linked to is told what the admin must fill in', async () => {
    const back = await signInTrip('/sidebar/', { userid: 'ZhangWei' });
    const page = await open(back).expect(403);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('data-error="no_operator"');
    expect(page.text).toContain('请管理员在 Flywheel 的操作员页为你填写企业微信账号 ZhangWei');
    expect(page.headers['set-cookie']).toBeUndefined();
  });

  it('a disabled operator, someone outside the corp, and the default member are refused with their own page', async () => {
    await createRep('rep-off', 'OffRep', true);
    let page = await open(await signInTrip('/sidebar/', { userid: 'OffRep' })).expect(403);
    expect(page.text).toContain('data-error="operator_disabled"');
    expect(page.text).toContain('OffRep');

    jar = new Map();
    page = await open(await signInTrip('/sidebar/', { openid: 'oSandboxCustomer' })).expect(403);
    expect(page.text).toContain('data-error="not_member"');

    // No userid named: the sandbox's default member, who has no operator here.
    jar = new Map();
    page = await open(await signInTrip('/sidebar/', {})).expect(403);
    expect(page.text).toContain('企业微信账号 SandboxRep');
  });

  it('a forged or edited state, a state from another browser, an expired code and a WeCom failure', async () => {
    await createRep('rep-li', 'LiLei');
    const back = await signInTrip('/sidebar/', { userid: 'LiLei' });
    const url = new URL(back, 'http://x');

    // Another page in `next` than the one signed: forged.
    const edited = new URL(url);
    edited.searchParams.set('next', '/sidebar/other');
    let page = await open(`${edited.pathname}${edited.search}`).expect(400);
    expect(page.text).toContain('data-error="state_forged"');
    const forged = new URL(url);
    forged.searchParams.set('state', `V0${'0'.repeat(63)}`);
    page = await open(`${forged.pathname}${forged.search}`).expect(400);
    expect(page.text).toContain('data-error="state_forged"');
    // Outside /sidebar is never a place to go back to.
    page = await open('/sidebar/auth?next=%2F%2Fevil.example&state=x&code=y').expect(400);
    expect(page.text).toContain('data-error="state_forged"');

    // Without this browser's nonce (a shared link): once more through OAuth, then refused.
    const retry = await request(stack.baseUrl).get(back).expect(302);
    expect(retry.headers.location).toContain('/sandbox/open/connect/oauth2/authorize?');
    const retried = await authorize(retry.headers.location, { userid: 'LiLei' }).expect(302);
    page = await request(stack.baseUrl).get(backPath(retried.headers.location)).expect(400);
    expect(page.text).toContain('data-error="state_expired"');

    // A code older than 5 minutes: 40029.
    const late = await signInTrip('/sidebar/', { userid: 'LiLei' });
    stack.clock.advance(5 * 60 * 1000 + 1000);
    page = await open(late).expect(400);
    expect(page.text).toContain('data-error="code_invalid"');

    // WeCom fails otherwise: a 502 page naming the errcode.
    const failing = await signInTrip('/sidebar/', { userid: 'LiLei' });
    stack.sandbox.state.failNext('auth/getuserinfo', 60011);
    page = await open(failing).expect(502);
    expect(page.text).toContain('data-error="wecom_error"');
    expect(page.text).toContain('errcode 60011');
  });

  it('a live session is served the page without a trip; the session outlives one chat', async () => {
    await createRep('rep-li', 'LiLei');
    keepCookies(await open(await signInTrip('/sidebar/?chat=1', { userid: 'LiLei' })).expect(302), jar);
    await open('/sidebar/?chat=2').expect(200);
    await open('/sidebar/').expect(200);
    expect(stack.sandbox.state.callsTo('auth/getuserinfo')).toHaveLength(1);
  });
});

describe('the sidebar without WeCom configured', () => {
  it('answers a page saying so, and signs nobody in', async () => {
    const root = fixtureRoot();
    const signIn = new SidebarSignInService({
      clock: systemClock,
      logger: createLogger('silent'),
      secret: () => Promise.resolve(Buffer.alloc(32, 1)),
      operators: { openWecomSession: () => Promise.reject(new Error('not reached')) },
      wecom: null,
    });
    const app = new Koa();
    app.use(
      createSidebarWebMiddleware({ root, signIn, hasLiveSession: () => Promise.resolve(false), publicBaseUrl: 'http://localhost:3000' }),
    );
    for (const pathAndQuery of ['/sidebar/', '/sidebar/auth?code=x&state=y&next=%2Fsidebar%2F']) {
      const page = await request(app.callback()).get(pathAndQuery).expect(503);
      expect(page.text).toContain('data-error="wecom_not_configured"');
      expect(page.text).toContain('WECOM_AGENT_ID');
    }
    fs.rmSync(root, { recursive: true, force: true });
  });
});
