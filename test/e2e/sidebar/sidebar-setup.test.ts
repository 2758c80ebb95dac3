import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { SidebarSetupView } from '../../../server/modules/setup/sidebar-setup.service';
import { cookieHeader, keepCookies } from '../../support/cookie-jar';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

describeEachDatabase('the sidebar’s setup checks (GET /api/admin/setup/sidebar) and the sandbox preview', (db) => {
  let stack: TestStack;
  let root: string;
  let admin: string;
  let sales: string;

  const operator = async (username: string, role: 'admin' | 'sales', wecomUserId: string | null) => {
    const created = await stack.services.operators.createOperator({
      username,
      password: 'password-123456',
      role,
      wecomUserId,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username, password: 'password-123456', ip: null });
    if (!login.ok) throw new Error(login.reason);
    return login.token;
  };

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-sidebar-'));
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><div id="app"></div>');
    stack = await startTestStack(db(), {}, { sidebarWebRoot: root });
    admin = await operator('boss', 'admin', null);
    sales = await operator('rep-li', 'sales', 'LiLei');
    await operator('rep-wang', 'sales', 'WangFang');
  });
  afterEach(async () => {
    await stack.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  jest.setTimeout(60_000);

  const setApp = (settings: Record<string, unknown>) =>
    request(stack.sandboxUrl).post('/sandbox/control/wecom-app').send(settings).expect(200);
  const check = async (): Promise<SidebarSetupView> =>
    (await request(stack.app.callback()).get('/api/admin/setup/sidebar').set('authorization', `Bearer ${admin}`).expect(200))
      .body as SidebarSetupView;
  const repsOf = (view: SidebarSetupView) =>
    Object.fromEntries(view.reps.map((r) => [r.wecomUserId, { visible: r.inVisibleRange, follows: r.inFollowUserList }]));

  it('all set: the app, its trusted domain, customer contact, and each rep against the visible range and the follow-user list', async () => {
    await setApp({ visibleUserIds: ['lilei'], followUserIds: ['LiLei'] });
    const view = await check();
    expect(view.configured).toBe(true);
    expect(view.sidebarUrl).toBe(`${stack.config.publicBaseUrl}/sidebar/`);
    expect(view.app).toMatchObject({
      ok: true,
      name: 'Flywheel 侧边栏 (sandbox)',
      visibleUserIds: ['lilei'],
      visibleToAll: false,
      redirectDomain: 'localhost',
      expectedDomain: new URL(stack.config.publicBaseUrl).host,
      domainMatches: true,
    });
    expect(view.customerContact).toEqual({ ok: true, followUserIds: ['LiLei'] });
    // Case-insensitive, as WeCom userids are; the admin without a WeCom account is no rep.
    expect(repsOf(view)).toEqual({ LiLei: { visible: true, follows: true }, WangFang: { visible: false, follows: false } });
    expect(view.previewUrl).toBe('/api/admin/sandbox/sidebar');
    expect(view.reps.find((r) => r.wecomUserId === 'LiLei')?.previewUrl).toBe('/api/admin/sandbox/sidebar?userid=LiLei');
    // Both asked with the app's own token.
    expect(stack.sandbox.state.callsTo('agent/get')).toHaveLength(1);
    expect(stack.sandbox.state.callsTo('externalcontact/get_follow_user_list')).toHaveLength(1);
  });

  it('a range of the whole corp, another trusted domain, and an app without the customer-contact permission (48002)', async () => {
    await setApp({ visibleUserIds: null, redirectDomain: 'crm.example.com', customerContact: false });
    const view = await check();
    expect(view.app).toMatchObject({
      ok: true,
      visibleToAll: true,
      visiblePartyIds: [1],
      domainMatches: false,
      redirectDomain: 'crm.example.com',
    });
    expect(view.customerContact).toMatchObject({ ok: false, errcode: 48002, missingPermission: true });
    expect(repsOf(view)).toEqual({ LiLei: { visible: true, follows: null }, WangFang: { visible: true, follows: null } });
  });

  it('agent/get failing: its error, and the range unknown', async () => {
    stack.sandbox.state.failNext('agent/get', 60011);
    const view = await check();
    expect(view.app).toMatchObject({ ok: false, errcode: 60011 });
    expect(view.customerContact).toMatchObject({ ok: true });
    expect(view.reps.every((r) => r.inVisibleRange === null)).toBe(true);
  });

  it('admins only', async () => {
    await request(stack.app.callback()).get('/api/admin/setup/sidebar').expect(401);
    await request(stack.app.callback()).get('/api/admin/setup/sidebar').set('authorization', `Bearer ${sales}`).expect(403);
    await request(stack.app.callback()).get('/api/admin/sandbox/sidebar?userid=LiLei').set('authorization', `Bearer ${sales}`).expect(403);
  });

  it('the preview opens the sidebar as the chosen rep on the chosen customer', async () => {
    const jar = new Map<string, string>();
    const start = await request(stack.baseUrl)
      .get('/api/admin/sandbox/sidebar?userid=LiLei&externalUserId=wmCustomer01')
      .set('authorization', `Bearer ${admin}`)
      .expect(302);
    keepCookies(start, jar);
    const sent = new URL(start.headers.location);
    expect(sent.searchParams.get('appid')).toBe(stack.config.wecom.corpId);
    expect(sent.searchParams.get('userid')).toBe('LiLei');
    const granted = await request(sent.origin).get(`${sent.pathname}${sent.search}`).expect(302);
    const back = new URL(granted.headers.location);
    const signedIn = await request(stack.baseUrl).get(`${back.pathname}${back.search}`).set('Cookie', cookieHeader(jar)).expect(302);
    expect(signedIn.headers.location).toBe('/sidebar/');
    keepCookies(signedIn, jar);
    const me = await request(stack.baseUrl).get('/api/admin/me').set('Cookie', cookieHeader(jar)).expect(200);
    expect(me.body).toMatchObject({ username: 'rep-li', wecomUserId: 'LiLei' });
    const chat = await request(stack.sandboxUrl).get('/sandbox/control/wecom-chat').expect(200);
    expect(chat.body).toMatchObject({ externalUserId: 'wmCustomer01', entry: 'single_chat_tools', fail: null });

    await request(stack.baseUrl).get('/api/admin/sandbox/sidebar?userid=bad%20id').set('authorization', `Bearer ${admin}`).expect(400);
  });
});
