/**
 * @jest-environment jsdom
 */
/*
 * The event pages (miniprogram/pages/events/*) rendered by miniprogram-simulate with the official
 * WXML compiler, against a fake `wx` whose wx.request answers as the /api/mp routes do.
 */
import { API_BASE, FakeWx, settle } from './fake-wx';
import { loadPage, PageHandle } from './simulate';

const EVENT = {
  id: 7,
  name: '2026 私域增长大会',
  startsAt: '2026-12-24T06:00:00.000Z',
  endsAt: '2026-12-24T10:00:00.000Z',
  venue: { name: '国家会议中心', address: '北京市朝阳区天辰东路7号', lat: 40.0, lng: 116.39 },
  status: 'open',
};

const DETAIL = {
  ...EVENT,
  registrationDeadline: '2026-12-23T16:00:00.000Z',
  capacity: 300,
  registered: 120,
  agenda: [
    { time: '14:00', title: '开场致辞', speaker: '王总' },
    { time: '15:00', title: '私域运营实战', speaker: null },
  ],
  fields: [
    { key: 'name', label: '姓名', type: 'text', required: true, maxLength: 20 },
    { key: 'phone', label: '手机号', type: 'phone', required: true },
    { key: 'city', label: '城市', type: 'select', required: true, options: ['北京', '上海'] },
    { key: 'email', label: '邮箱', type: 'email', required: false },
  ],
};

let wx: FakeWx;
const listId = loadPage('pages/events/list');
const detailId = loadPage('pages/events/detail');
const registerId = loadPage('pages/events/register');

beforeEach(() => {
  wx = new FakeWx().install();
});

describe('events list', () => {
  it('logs in, lists the events with their China-time start and opens one on tap', async () => {
    wx.route('GET /api/mp/events', { status: 200, body: { items: [EVENT] } });
    const page = new PageHandle(listId);
    await page.call('onLoad', {});

    expect(wx.callsOf('login')).toHaveLength(1);
    const [login, list] = wx.requests();
    expect(login).toMatchObject({ method: 'POST', url: `${API_BASE}/api/mp/login`, data: { code: 'wx-code-1' } });
    expect(login.header.Authorization).toBeUndefined();
    expect(list).toMatchObject({ method: 'GET', path: '/api/mp/events', header: { Authorization: 'Bearer token-1' } });
    expect(wx.storage.get('fw:mpToken')).toBe('token-1');
    expect(page.text('.event')).toContain('2026 私域增长大会');
    expect(page.text('.event')).toContain('2026-12-24 14:00');
    expect(page.text('.event')).toContain('报名中');

    await page.fire('.event');
    expect(wx.callsOf('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/events/detail?id=7' })]);
  });

  it('reuses a stored token without logging in', async () => {
    wx.storage.set('fw:mpToken', 'kept');
    wx.route('GET /api/mp/events', { status: 200, body: { items: [] } });
    const page = new PageHandle(listId);
    await page.call('onLoad', {});
    expect(wx.callsOf('login')).toHaveLength(0);
    expect(wx.requests().map((r) => r.header.Authorization)).toEqual(['Bearer kept']);
    expect(page.text()).toContain('暂无活动');
  });

  it('logs in again once on a 401 and repeats the call with the new token', async () => {
    wx.storage.set('fw:mpToken', 'expired');
    wx.route(
      'GET /api/mp/events',
      { status: 401, body: { error: { code: 'mp_session_required', message: 'Send Authorization' } } },
      { status: 200, body: { items: [EVENT] } },
    );
    const page = new PageHandle(listId);
    await page.call('onLoad', {});
    expect(wx.requests().map((r) => `${r.method} ${r.path} ${r.header.Authorization ?? '-'}`)).toEqual([
      'GET /api/mp/events Bearer expired',
      'POST /api/mp/login -',
      'GET /api/mp/events Bearer token-1',
    ]);
    expect(wx.storage.get('fw:mpToken')).toBe('token-1');
    expect(page.text('.event')).toContain('2026 私域增长大会');
  });

  it('stops after one re-login when the server still answers 401', async () => {
    wx.storage.set('fw:mpToken', 'expired');
    wx.route('GET /api/mp/events', { status: 401, body: { error: { code: 'mp_session_expired', message: 'Session expired' } } });
    const page = new PageHandle(listId);
    await page.call('onLoad', {});
    expect(wx.callsOf('login')).toHaveLength(1);
    expect(wx.requests()).toHaveLength(3);
    expect(page.text('.error')).toBe('登录已过期，请重新进入小程序');
  });

  it('says so in Chinese when offline, and the retry button loads again', async () => {
    wx.storage.set('fw:mpToken', 'kept');
    wx.route('GET /api/mp/events', { fail: 'request:fail -101:net::ERR_INTERNET_DISCONNECTED' }, { status: 200, body: { items: [EVENT] } });
    const page = new PageHandle(listId);
    await page.call('onLoad', {});
    expect(page.text('.error')).toBe('网络连接失败，请检查网络后重试');
    await page.fire('.retry');
    expect(page.text('.event')).toContain('2026 私域增长大会');
  });

  it('shows a timeout and a server error as their own sentences', async () => {
    wx.storage.set('fw:mpToken', 'kept');
    wx.route(
      'GET /api/mp/events',
      { fail: 'request:fail timeout' },
      { status: 500, body: { error: { code: 'internal', message: 'boom' } } },
    );
    const page = new PageHandle(listId);
    await page.call('onLoad', {});
    expect(page.text('.error')).toBe('请求超时，请稍后重试');
    await page.fire('.retry');
    expect(page.text('.error')).toBe('服务暂时不可用，请稍后重试');
  });

  it('says WeChat login failed when wx.login does', async () => {
    wx.loginFails = true;
    const page = new PageHandle(listId);
    await page.call('onLoad', {});
    expect(wx.requests()).toHaveLength(0);
    expect(page.text('.error')).toBe('微信登录失败，请稍后重试');
  });
});

describe('event detail', () => {
  it('shows the agenda, venue and a countdown; opens the map and the registration', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-12-22T02:58:55.000Z'));
    wx.route('GET /api/mp/events/7', { status: 200, body: DETAIL });
    const page = new PageHandle(detailId);
    await page.call('onLoad', { id: '7' });
    jest.restoreAllMocks();

    expect(page.text('.title')).toBe('2026 私域增长大会');
    expect(page.text('.countdown')).toBe('距开始 2 天 03:01:05');
    expect(page.$$('.agenda-row')).toHaveLength(2);
    expect(page.text('.agenda')).toContain('开场致辞');
    expect(page.text('.agenda')).toContain('王总');
    expect(page.text('.venue')).toContain('国家会议中心');
    expect(wx.callsOf('setNavigationBarTitle')).toEqual([expect.objectContaining({ title: '2026 私域增长大会' })]);

    await page.fire('.venue');
    expect(wx.callsOf('openLocation')).toEqual([
      expect.objectContaining({ latitude: 40.0, longitude: 116.39, name: '国家会议中心', address: '北京市朝阳区天辰东路7号' }),
    ]);
    await page.fire('.register');
    expect(wx.callsOf('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/events/register?id=7' })]);
    await page.call('onUnload');
  });

  it('offers the ticket instead of the registration to a registered user', async () => {
    const mine = { registrationId: 31, eventId: 7, status: 'valid', ticket: { token: 'T.31', qrImageUrl: '/qr.png' } };
    wx.route('GET /api/mp/events/7', { status: 200, body: { ...DETAIL, myRegistration: mine } });
    const page = new PageHandle(detailId);
    await page.call('onLoad', { id: '7' });
    expect(page.$('.register')).toBeUndefined();
    await page.fire('.my-ticket');
    expect(wx.callsOf('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/tickets/index' })]);
    await page.call('onUnload');
  });

  it('copies the address when the venue has no coordinates', async () => {
    wx.route('GET /api/mp/events/7', { status: 200, body: { ...DETAIL, venue: { name: null, address: '上海市徐汇区' } } });
    const page = new PageHandle(detailId);
    await page.call('onLoad', { id: '7' });
    await page.fire('.venue');
    expect(wx.callsOf('openLocation')).toHaveLength(0);
    expect(wx.callsOf('setClipboardData')).toEqual([expect.objectContaining({ data: '上海市徐汇区' })]);
    await page.call('onUnload');
  });

  it('shows an unknown event as the server said it', async () => {
    wx.route('GET /api/mp/events/99', { status: 404, body: { error: { code: 'event_not_found', message: 'No such event' } } });
    const page = new PageHandle(detailId);
    await page.call('onLoad', { id: '99' });
    expect(page.text('.error')).toBe('活动不存在');
  });
});

describe('event registration', () => {
  async function openForm(templateIds = ['tmpl-reminder']): Promise<PageHandle> {
    wx.route('GET /api/mp/events/7', { status: 200, body: DETAIL });
    wx.route('GET /api/mp/config', { status: 200, body: { subscribeTemplateIds: templateIds } });
    const page = new PageHandle(registerId);
    await page.call('onLoad', { id: '7' });
    return page;
  }

  async function fill(page: PageHandle, answers: { name?: string; phone?: string; cityIndex?: number; email?: string }) {
    if (answers.name !== undefined) await page.fire('.field-name .input', 'input', { value: answers.name });
    if (answers.phone !== undefined) await page.fire('.field-phone .input', 'input', { value: answers.phone });
    if (answers.cityIndex !== undefined) await page.fire('.field-city .select', 'change', { value: answers.cityIndex });
    if (answers.email !== undefined) await page.fire('.field-email .input', 'input', { value: answers.email });
  }

  it("renders the event's own fields", async () => {
    const page = await openForm();
    expect(page.$$('.field')).toHaveLength(4);
    expect(page.text('.field-name .label')).toBe('姓名*');
    expect(page.text('.field-email .label')).toBe('邮箱');
    expect(page.$('.field-phone .phone-button')).toBeDefined();
  });

  it('refuses empty and malformed answers and a missing consent, without calling anything', async () => {
    const page = await openForm();
    await fill(page, { phone: '12345', email: 'not-an-address' });
    await page.fire('.submit');

    expect(page.text('.field-name .error')).toBe('请填写姓名');
    expect(page.text('.field-phone .error')).toBe('请输入正确的手机号');
    expect(page.text('.field-city .error')).toBe('请选择城市');
    expect(page.text('.field-email .error')).toBe('请输入正确的邮箱');
    expect(page.text('.consent-error')).toBe('请先阅读并同意隐私政策');
    expect(wx.callsOf('requestSubscribeMessage')).toHaveLength(0);
    expect(wx.requests().filter((r) => r.method === 'POST' && r.path !== '/api/mp/login')).toHaveLength(0);

    // A marked field is re-checked as the user types.
    await fill(page, { name: '张三' });
    expect(page.text('.field-name .error')).toBe('');
  });

  it('asks for reminder consent in the tap, registers, records the consent and opens the tickets', async () => {
    wx.subscribeAnswer = { 'tmpl-reminder': 'accept' };
    wx.route('POST /api/mp/events/7/registrations', {
      status: 201,
      body: { registrationId: 31, status: 'registered', ticket: { token: 'T.31', qrImageUrl: '/api/events/7/tickets/T.31/qr.png' } },
    });
    wx.route('POST /api/mp/subscribe-consent', { status: 200, body: { recorded: 1 } });
    const page = await openForm();
    await fill(page, { name: ' 张三 ', phone: '138 1234 5678', cityIndex: 1 });
    await page.fire('.consent', 'change', { value: ['agree'] });
    await page.fire('.submit');

    expect(wx.callsOf('requestSubscribeMessage')).toEqual([expect.objectContaining({ tmplIds: ['tmpl-reminder'] })]);
    const posts = wx.requests().filter((r) => r.method === 'POST' && r.path !== '/api/mp/login');
    expect(posts.map((r) => [r.path, r.data])).toEqual([
      ['/api/mp/events/7/registrations', { answers: { name: '张三', phone: '13812345678', city: '上海' }, consent: true }],
      [
        '/api/mp/subscribe-consent',
        { result: { 'tmpl-reminder': 'accept' }, reportKey: expect.stringMatching(/^[A-Za-z0-9]{20}$/) as unknown },
      ],
    ]);
    expect(wx.callsOf('redirectTo')).toEqual([expect.objectContaining({ url: '/pages/tickets/index?registration=31' })]);
  });

  it('registers without a consent report when the user refuses the subscribe dialog', async () => {
    wx.subscribeAnswer = 'fail';
    wx.route('POST /api/mp/events/7/registrations', {
      status: 201,
      body: { registrationId: 32, status: 'registered', ticket: { token: 'T.32', qrImageUrl: '/qr.png' } },
    });
    const page = await openForm();
    await fill(page, { name: '李四', phone: '13912345678', cityIndex: 0 });
    await page.fire('.consent', 'change', { value: ['agree'] });
    await page.fire('.submit');
    const paths = wx.requests().map((r) => r.path);
    expect(paths).toContain('/api/mp/events/7/registrations');
    expect(paths).not.toContain('/api/mp/subscribe-consent');
    expect(wx.callsOf('redirectTo')).toHaveLength(1);
  });

  it('asks no consent when the server has no reminder template, and registers', async () => {
    wx.route('POST /api/mp/events/7/registrations', {
      status: 201,
      body: { registrationId: 33, status: 'registered', ticket: { token: 'T.33', qrImageUrl: '/qr.png' } },
    });
    const page = await openForm([]);
    await fill(page, { name: '赵六', phone: '13912345670', cityIndex: 0 });
    await page.fire('.consent', 'change', { value: ['agree'] });
    await page.fire('.submit');
    expect(wx.callsOf('requestSubscribeMessage')).toHaveLength(0);
    expect(wx.requests().map((r) => r.path)).toContain('/api/mp/events/7/registrations');
    expect(wx.callsOf('redirectTo')).toEqual([expect.objectContaining({ url: '/pages/tickets/index?registration=33' })]);
  });

  it("shows the server's refusal, per field for validation_failed", async () => {
    wx.route(
      'POST /api/mp/events/7/registrations',
      {
        status: 400,
        body: { error: { code: 'validation_failed', message: 'Invalid', details: { fields: { phone: '该手机号无法报名' } } } },
      },
      { status: 409, body: { error: { code: 'event_full', message: 'Full' } } },
      { status: 502, body: { error: { code: 'pay_order_failed', message: 'The payment could not be started' } } },
    );
    const page = await openForm();
    await fill(page, { name: '王五', phone: '13712345678', cityIndex: 0 });
    await page.fire('.consent', 'change', { value: ['agree'] });
    await page.fire('.submit');
    expect(page.text('.field-phone .error')).toBe('该手机号无法报名');
    expect(page.text('.submit-error')).toBe('请检查标红的项目');

    await page.fire('.submit');
    expect(page.text('.submit-error')).toBe('活动名额已满');
    await page.fire('.submit');
    expect(page.text('.submit-error')).toBe('服务暂时不可用，请稍后重试');
    expect(wx.callsOf('redirectTo')).toHaveLength(0);
  });

  it("fills the phone from getPhoneNumber's code, exchanged on the server", async () => {
    wx.route('POST /api/mp/phone', { status: 200, body: { phone: '13600001111' } });
    const page = await openForm();
    await page.fire('.field-phone .phone-button', 'getphonenumber', { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' });
    expect(wx.requests().find((r) => r.path === '/api/mp/phone')?.data).toEqual({ code: 'phone-code-1' });
    expect(page.data.rows).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'phone', value: '13600001111' })]));
  });
});

describe('register for a paid event', () => {
  /** wx.requestPayment takes the five signed parameters (the app is the one it runs in). */
  const SIGNED = {
    timeStamp: '1796620000',
    nonceStr: 'n0nce',
    package: 'prepay_id=wx201410272009395522657a690389285100',
    signType: 'RSA',
    paySign: 'c2lnbmVk',
  };
  const PAY_PARAMS = { appId: 'wxsandboxmp00000001', ...SIGNED };
  const ticketOf = (status: string) => ({
    status: 200,
    body: {
      items: [
        {
          registrationId: 33,
          eventId: 7,
          eventName: DETAIL.name,
          venue: DETAIL.venue,
          startsAt: DETAIL.startsAt,
          endsAt: DETAIL.endsAt,
          name: '张三',
          status,
          checkedIn: null,
          ticket: { token: 'T.33', qrImageUrl: '/qr.png' },
        },
      ],
    },
  });

  async function submitPaid(): Promise<PageHandle> {
    wx.route('GET /api/mp/events/7', { status: 200, body: { ...DETAIL, ticketPriceFen: 9900, fields: DETAIL.fields.slice(0, 2) } });
    wx.route('POST /api/mp/events/7/registrations', {
      status: 201,
      body: {
        registrationId: 33,
        status: 'unpaid',
        ticket: { token: 'T.33', qrImageUrl: '/qr.png' },
        payment: { orderId: 5, payParams: PAY_PARAMS },
      },
    });
    const page = new PageHandle(registerId);
    await page.call('onLoad', { id: '7' });
    expect(page.text('.submit')).toBe('报名并支付 ¥99.00');
    await page.fire('.field-name .input', 'input', { value: '张三' });
    await page.fire('.field-phone .input', 'input', { value: '13812345678' });
    await page.fire('.consent', 'change', { value: ['agree'] });
    await page.fire('.submit');
    return page;
  }

  it("pays with wx.requestPayment and the server's parameters, then opens the tickets once the server has the payment", async () => {
    wx.route('GET /api/mp/me/tickets', ticketOf('valid'));
    await submitPaid();
    expect(wx.callsOf('requestPayment')).toEqual([expect.objectContaining(SIGNED)]);
    expect(wx.callsOf('requestPayment')[0]).not.toHaveProperty('appId');
    expect(wx.callsOf('redirectTo')).toEqual([expect.objectContaining({ url: '/pages/tickets/index?registration=33' })]);
  });

  it('says 支付确认中，请勿重复支付 while the notification is on its way', async () => {
    wx.route('GET /api/mp/me/tickets', ticketOf('unpaid'), ticketOf('valid'));
    const page = await submitPaid();
    expect(page.text('.pay-status')).toBe('支付确认中，请勿重复支付');
    // Its button is busy meanwhile: no second payment.
    expect(page.data.submitting).toBe(true);
    expect(wx.callsOf('redirectTo')).toHaveLength(0);
    // The page looks again a second later (WeChat Pay's notification takes its time).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await settle();
    expect(wx.callsOf('redirectTo')).toEqual([expect.objectContaining({ url: '/pages/tickets/index?registration=33' })]);
  });

  it('says a cancelled or failed payment in Chinese and offers 去支付, which pays the same order again', async () => {
    wx.payAnswer = 'cancel';
    const page = await submitPaid();
    expect(page.text('.submit-error')).toBe('您已取消支付，可稍后在「我的门票」中继续支付');
    expect(page.$('.submit')).toBeUndefined();
    expect(wx.requests().filter((r) => r.path === '/api/mp/me/tickets')).toHaveLength(0);

    wx.payAnswer = 'fail';
    wx.route('POST /api/mp/events/7/registrations/pay', { status: 200, body: { orderId: 5, payParams: PAY_PARAMS } });
    await page.fire('.pay');
    expect(page.text('.submit-error')).toBe('支付没有完成，请重试');

    wx.payAnswer = 'ok';
    wx.route('GET /api/mp/me/tickets', ticketOf('valid'));
    await page.fire('.pay');
    expect(wx.requests().filter((r) => r.path === '/api/mp/events/7/registrations/pay')).toHaveLength(2);
    expect(wx.callsOf('requestPayment')).toHaveLength(3);
    expect(wx.callsOf('requestPayment')[2]).toEqual(expect.objectContaining(SIGNED));
    expect(wx.callsOf('redirectTo')).toEqual([expect.objectContaining({ url: '/pages/tickets/index?registration=33' })]);
  });
});
