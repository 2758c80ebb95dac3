/*
 * Issue 17's "the pages work against the real server": the real pages (miniprogram-simulate, the
 * official WXML compiler) with a fake `wx` in front of the whole test stack: wx.request is real
 * HTTP to it, wx.login's code is one the sandbox's jscode2session redeems, wx.requestPayment pays
 * through the sandbox's WeChat Pay as the client does (the pay-sign checked over the mini-program's
 * appid). SQLite only: the API tests (test/e2e/miniprogram/*) run the same routes on MariaDB too.
 *
 * The node environment, not jsdom's: the server needs Node's fetch, timers and TextEncoder, which
 * jest's jsdom environment hides; the simulator gets a jsdom document of its own instead.
 */
import { JSDOM } from 'jsdom';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { FakeWx, type LiveServer } from './fake-wx';
import type { PageHandle } from './simulate';

const HOUR = 3_600_000;

/** The DOM the simulator renders into (it reads these as globals). */
function installDom(): void {
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { url: 'http://localhost/' });
  for (const name of ['document', 'Node', 'HTMLElement', 'Element', 'Event', 'CustomEvent', 'getComputedStyle', 'requestAnimationFrame']) {
    Reflect.set(globalThis, name, Reflect.get(dom.window, name));
  }
  Reflect.set(globalThis, 'window', dom.window);
}

describe('the mini-program pages against the real server (SQLite)', () => {
  let database: TestDatabase;
  let stack: TestStack;
  let simulate: typeof import('./simulate');
  let page: (path: string) => PageHandle;

  beforeAll(async () => {
    installDom();
    simulate = await import('./simulate');
    const ids = new Map<string, string>();
    // A page is loaded once per file (simulate.ts), rendered anew each time.
    page = (path) => {
      if (!ids.has(path)) ids.set(path, simulate.loadPage(path));
      return new simulate.PageHandle(ids.get(path) ?? '');
    };
  });
  beforeEach(async () => {
    database = await createTestDatabase('sqlite');
    stack = await startTestStack(database, {}, { platformTimeoutMs: 15_000 });
  });
  afterEach(async () => {
    await stack.close();
    await database.destroy();
  });
  jest.setTimeout(60_000);

  /**
   * One phone: its own storage and session, codes from the sandbox, payments through it. While
   * `sheet.cancel` is set the user closes the pay sheet (the base library's `requestPayment:fail cancel`).
   */
  const phone = (sheet: { cancel: boolean } = { cancel: false }): FakeWx => {
    const live: LiveServer = {
      baseUrl: stack.baseUrl,
      loginCode: () => Promise.resolve(stack.sandbox.state.issueLoginCode({ unionid: null }).code),
      requestPayment: async (params) => {
        if (sheet.cancel) return 'requestPayment:fail cancel';
        // WeChat's client pays in the app it runs in: the mini-program's appid, with the page's five parameters.
        const res = await fetch(`${stack.sandboxUrl}/sandbox/pay/actions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            action: 'jsapi_pay',
            appId: stack.config.miniprogram.appId,
            timeStamp: params.timeStamp,
            nonceStr: params.nonceStr,
            package: params.package,
            signType: params.signType,
            paySign: params.paySign,
          }),
        });
        return res.ok ? null : `requestPayment:fail ${await res.text()}`;
      },
    };
    return new FakeWx(live).install();
  };
  const adminToken = async (): Promise<string> => {
    const created = await stack.services.operators.createOperator({
      username: 'admin',
      password: 'admin-password-1',
      role: 'admin',
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username: 'admin', password: 'admin-password-1', ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    return login.token;
  };
  const adminPost = async (token: string, path: string, body: object = {}): Promise<unknown> => {
    const res = await fetch(`${stack.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const adminPut = async (token: string, path: string, body: object): Promise<unknown> => {
    const res = await fetch(`${stack.baseUrl}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const createEvent = async (admin: string, name: string, ticketPriceFen: number | null): Promise<number> => {
    const now = stack.clock.now().getTime();
    const created = (await adminPost(admin, '/api/admin/events', {
      name,
      venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
      startsAt: new Date(now + 48 * HOUR).toISOString(),
      endsAt: new Date(now + 56 * HOUR).toISOString(),
      capacity: 100,
      registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
      fields: [{ key: 'company', label: '公司', type: 'text', required: true }],
      benefit: null,
      ...(ticketPriceFen === null ? {} : { ticketPriceFen }),
    })) as { id: number };
    return created.id;
  };
  /** Opens the register page for the event, fills the form and submits, as a user taps through it. */
  const register = async (wx: FakeWx, eventId: number): Promise<PageHandle> => {
    const form = page('pages/events/register');
    await form.call('onLoad', { id: String(eventId) });
    await wx.idle();
    await form.fire('.field-name .input', 'input', { value: '张三' });
    await form.fire('.field-phone .input', 'input', { value: '13800138000' });
    await form.fire('.field-company .input', 'input', { value: '飞轮科技' });
    await form.fire('.consent', 'change', { value: ['agree'] });
    await form.fire('.submit');
    await wx.idle();
    return form;
  };
  const ticketsPage = async (wx: FakeWx): Promise<PageHandle> => {
    const tickets = page('pages/tickets/index');
    await tickets.call('onShow');
    await wx.idle();
    return tickets;
  };

  it('lists, shows, registers, shows the ticket with its QR; a bound staff member checks it in; the ticket says 已签到', async () => {
    const admin = await adminToken();
    const eventId = await createEvent(admin, '2026 智能制造展', null);
    const guest = phone();

    const list = page('pages/events/list');
    await list.call('onLoad', {});
    await guest.idle();
    expect(list.text('.event')).toContain('2026 智能制造展');
    await list.fire('.event');
    expect(guest.callsOf('navigateTo').map((call) => call.url)).toEqual([`/pages/events/detail?id=${eventId}`]);

    const detail = page('pages/events/detail');
    await detail.call('onLoad', { id: String(eventId) });
    await guest.idle();
    expect(detail.text('.venue')).toContain('国家会展中心');
    await detail.fire('.register');
    expect(guest.callsOf('navigateTo').at(-1)?.url).toBe(`/pages/events/register?id=${eventId}`);
    detail.detach();

    const form = await register(guest, eventId);
    expect(form.text('.submit-error')).toBe('');
    expect(guest.callsOf('redirectTo').map((call) => String(call.url))).toEqual([
      expect.stringMatching(/^\/pages\/tickets\/index\?registration=\d+$/),
    ]);

    const tickets = await ticketsPage(guest);
    expect(tickets.text('.ticket')).toContain('有效');
    const [row] = tickets.data.tickets as { token: string; qrSrc: string }[];
    const qr = await fetch(row.qrSrc);
    expect(qr.status).toBe(200);
    expect(qr.headers.get('content-type')).toBe('image/png');

    // The staff member's own phone: the admin issues a binding code, the scanner page binds with it.
    const created = await stack.services.operators.createOperator({
      username: 'gatekeeper',
      password: 'long-enough-password',
      role: 'sales',
      wecomUserId: 'rep_gatekeeper',
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const [operator] = await database.dataSource.query<{ id: number | string }[]>("SELECT id FROM operators WHERE username = 'gatekeeper'");
    const { code } = (await adminPost(admin, `/api/admin/operators/${Number(operator.id)}/mp-binding-code`)) as { code: string };
    const staff = phone();
    const scanner = page('pages/checkin/scan');
    await scanner.call('onLoad');
    await staff.idle();
    expect(scanner.text('.staff-only')).toContain('仅限活动工作人员使用');
    await scanner.fire('.bind-code', 'input', { value: code });
    await scanner.fire('.bind');
    await staff.idle();
    expect(scanner.$('.staff-only')).toBeUndefined();

    staff.scanResult = row.token;
    await scanner.fire('.gate', 'input', { value: '东门' });
    await scanner.fire('.scan');
    await staff.idle();
    expect(scanner.text('.result-title')).toBe('签到成功');

    guest.install();
    const after = await ticketsPage(guest);
    expect(after.text('.status')).toBe('已签到');
    expect(after.text('.checked-in')).toContain('东门');
  });

  it('pays a paid event with wx.requestPayment: the ticket is 待支付 until WeChat Pay’s notification, then valid', async () => {
    const admin = await adminToken();
    const eventId = await createEvent(admin, '智能制造闭门会', 9900);
    const guest = phone();

    const form = await register(guest, eventId);
    expect(guest.callsOf('requestPayment')).toHaveLength(1);
    expect(form.text('.submit-error')).toBe('');
    expect(guest.callsOf('redirectTo').map((call) => String(call.url))).toEqual([
      expect.stringMatching(/^\/pages\/tickets\/index\?registration=\d+$/),
    ]);
    const tickets = await ticketsPage(guest);
    expect(tickets.text('.status')).toBe('有效');
    expect(tickets.$('.pay')).toBeUndefined();
    const [order] = await database.dataSource.query<{ state: string; app_id: string }[]>('SELECT state, app_id FROM pay_orders');
    expect(order).toEqual({ state: 'paid', app_id: stack.config.miniprogram.appId });
  });

  it('leaves a cancelled payment 待支付 with 去支付 on the tickets page, which pays it', async () => {
    const admin = await adminToken();
    const eventId = await createEvent(admin, '智能制造闭门会', 9900);
    const sheet = { cancel: true };
    const guest = phone(sheet);
    const form = await register(guest, eventId);
    expect(form.text('.submit-error')).toBe('您已取消支付，可稍后在「我的门票」中继续支付');
    expect(form.$('.pay')).toBeDefined();

    const tickets = await ticketsPage(guest);
    expect(tickets.text('.status')).toBe('待支付');
    sheet.cancel = false;
    await tickets.fire('.pay');
    await guest.idle();
    expect(tickets.text('.status')).toBe('有效');
    expect(guest.callsOf('requestPayment')).toHaveLength(2);
  });
  it("opens a rep's card, passes it on with a share, and the viewer who saves it becomes the rep's contact, the chain on their timeline", async () => {
    const admin = await adminToken();
    const created = await stack.services.operators.createOperator({
      username: 'chenxiao',
      displayName: '陈晓',
      password: 'long-enough-password',
      role: 'sales',
      wecomUserId: 'rep_chen',
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const repId = created.operator.id;
    await adminPut(admin, `/api/admin/cards/${repId}`, {
      title: '客户经理',
      company: '飞轮科技',
      phone: '13800001234',
      intro: '专注私域运营',
    });

    // The first viewer opens the card the rep sent and forwards it (onShareAppMessage's path).
    const first = phone();
    const card = page('pages/card/index');
    await card.call('onLoad', { rep: String(repId) });
    await first.idle();
    expect(card.text('.name')).toBe('陈晓');
    expect(card.text('.company')).toBe('飞轮科技');
    const share = (await card.call('onShareAppMessage')) as { path: string };
    const st = new URL(share.path, 'https://servicewechat.com').searchParams.get('st') ?? '';
    expect(st).toMatch(/^[A-Za-z0-9_-]{22}$/);
    card.detach();

    // The second opens the forward and saves the card to their phone's contacts.
    const second = phone();
    const forwarded = page('pages/card/index');
    await forwarded.call('onLoad', { rep: String(repId), st });
    await second.idle();
    await forwarded.fire('.save-contact');
    await second.idle();

    const [firstSession, secondSession] = await database.dataSource.query<{ contact_id: number | string }[]>(
      'SELECT contact_id FROM mp_sessions ORDER BY id',
    );
    const visitors = await database.dataSource.query<{ contact_id: number | string; relation: string; became_contact_by: string | null }[]>(
      'SELECT contact_id, relation, became_contact_by FROM card_visitors ORDER BY id',
    );
    expect(visitors.map((v) => [Number(v.contact_id), v.relation, v.became_contact_by])).toEqual([
      [Number(firstSession.contact_id), 'visitor', null],
      [Number(secondSession.contact_id), 'contact', 'save_contact'],
    ]);
    const [view] = await database.dataSource.query<{ detail: string }[]>(
      "SELECT detail FROM interactions WHERE type = 'card_view' AND contact_id = ?",
      [Number(secondSession.contact_id)],
    );
    expect(JSON.parse(view.detail)).toMatchObject({ repName: '陈晓', chain: [{ contactId: Number(firstSession.contact_id) }] });

    const company = page('pages/cards/index');
    await company.call('onLoad', { company: encodeURIComponent('飞轮科技') });
    await second.idle();
    expect(company.text('.card')).toContain('陈晓');
  });
});
