/**
 * @jest-environment jsdom
 */
/* My tickets (pages/tickets/index) and the staff scanner (pages/checkin/scan). */
import { API_BASE, FakeWx } from './fake-wx';
import { loadPage, PageHandle } from './simulate';

let wx: FakeWx;
const ticketsId = loadPage('pages/tickets/index');
const scanId = loadPage('pages/checkin/scan');

const STAFF = { status: 200, body: { phoneBound: false, staff: { operatorId: 3, name: '小李', role: 'operator' } } };

beforeEach(() => {
  wx = new FakeWx().install();
  wx.storage.set('fw:mpToken', 'kept');
});

describe('my tickets', () => {
  it('lists the tickets, a valid one with its QR image from the server', async () => {
    wx.route('GET /api/mp/me/tickets', {
      status: 200,
      body: {
        items: [
          {
            registrationId: 31,
            eventId: 7,
            eventName: '2026 私域增长大会',
            venue: { address: '北京市朝阳区' },
            startsAt: '2026-12-24T06:00:00.000Z',
            endsAt: '2026-12-24T10:00:00.000Z',
            name: '张三',
            status: 'valid',
            checkedIn: null,
            ticket: { token: 'T.31', qrImageUrl: '/api/events/7/tickets/T.31/qr.png' },
          },
          {
            registrationId: 40,
            eventId: 8,
            eventName: '年终答谢会',
            venue: { address: '上海市' },
            startsAt: '2026-12-30T11:00:00.000Z',
            endsAt: '2026-12-30T13:00:00.000Z',
            name: '张三',
            status: 'checked_in',
            checkedIn: { gate: '东门', at: '2026-12-30T10:50:00.000Z', benefit: null },
            ticket: { token: 'T.40', qrImageUrl: '/api/events/8/tickets/T.40/qr.png' },
          },
        ],
      },
    });
    const page = new PageHandle(ticketsId);
    await page.call('onShow');
    expect(wx.requests().map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/mp/me/tickets']);
    expect(page.$$('.ticket')).toHaveLength(2);
    expect(page.text('.ticket')).toContain('2026 私域增长大会');
    expect(page.text('.ticket')).toContain('有效');
    expect(page.$$('.qr')).toHaveLength(1);
    expect(page.text('.checked-in')).toBe('签到：2026-12-30 18:50 · 东门');
    const rows = page.data.tickets as { qrSrc: string; statusText: string }[];
    expect(rows.map((row) => [row.qrSrc, row.statusText])).toEqual([
      [`${API_BASE}/api/events/7/tickets/T.31/qr.png`, '有效'],
      [`${API_BASE}/api/events/8/tickets/T.40/qr.png`, '已签到'],
    ]);
    await page.fire('.qr');
    expect(wx.callsOf('previewImage')).toEqual([expect.objectContaining({ urls: [`${API_BASE}/api/events/7/tickets/T.31/qr.png`] })]);
    // Only the checked-in ticket leads to its after-check-in page.
    expect(page.$$('.after-checkin')).toHaveLength(1);
    await page.fire('.after-checkin');
    expect(wx.callsOf('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/events/after-checkin?id=8' })]);
  });

  it("shows an unpaid ticket as 待支付 with 去支付: the server's parameters to wx.requestPayment, then the list again", async () => {
    const unpaid = {
      registrationId: 33,
      eventId: 9,
      eventName: '智能制造闭门会',
      venue: { address: '上海市' },
      startsAt: '2026-12-24T06:00:00.000Z',
      endsAt: '2026-12-24T10:00:00.000Z',
      name: '张三',
      status: 'unpaid',
      checkedIn: null,
      ticket: { token: 'T.33', qrImageUrl: '/api/events/9/tickets/T.33/qr.png' },
    };
    const signed = {
      timeStamp: '1796620000',
      nonceStr: 'n0nce',
      package: 'prepay_id=wx2014',
      signType: 'RSA',
      paySign: 'c2lnbmVk',
    };
    const payParams = { appId: 'wxsandboxmp00000001', ...signed };
    wx.route(
      'GET /api/mp/me/tickets',
      { status: 200, body: { items: [unpaid] } },
      { status: 200, body: { items: [unpaid] } },
      { status: 200, body: { items: [{ ...unpaid, status: 'valid' }] } },
    );
    wx.route('POST /api/mp/events/9/registrations/pay', { status: 200, body: { orderId: 5, payParams } });
    wx.payAnswer = 'cancel';
    const page = new PageHandle(ticketsId);
    await page.call('onShow');
    expect(page.text('.status')).toBe('待支付');
    expect(page.$('.qr')).toBeUndefined();
    await page.fire('.pay');
    expect(page.text('.pay-notice')).toBe('您已取消支付，可稍后在「我的门票」中继续支付');

    wx.payAnswer = 'ok';
    await page.fire('.pay');
    expect(wx.callsOf('requestPayment')[1]).toEqual(expect.objectContaining(signed));
    expect(page.text('.status')).toBe('有效');
    expect(page.$('.pay')).toBeUndefined();
    expect(page.$$('.qr')).toHaveLength(1);
  });

  it('says when there are none', async () => {
    wx.route('GET /api/mp/me/tickets', { status: 200, body: { items: [] } });
    const page = new PageHandle(ticketsId);
    await page.call('onShow');
    expect(page.text('.empty')).toBe('还没有门票，去报名一个活动吧');
  });
});

describe('staff check-in', () => {
  it('scans a ticket with the camera and checks it in at the gate', async () => {
    wx.scanResult = '7.31.k.mac';
    wx.route('GET /api/mp/me', STAFF);
    wx.route('POST /api/mp/checkins', {
      status: 200,
      body: {
        status: 'checked_in',
        registrationId: 31,
        gate: '东门',
        checkedInAt: '2026-12-24T05:40:00.000Z',
        benefit: { kind: 'gift', description: '定制帆布袋' },
      },
    });
    const page = new PageHandle(scanId);
    await page.call('onLoad');
    expect(page.$('.staff-only')).toBeUndefined();
    await page.fire('.gate', 'input', { value: '东门' });
    await page.fire('.scan');
    expect(wx.callsOf('scanCode')).toEqual([expect.objectContaining({ onlyFromCamera: true, scanType: ['qrCode'] })]);
    expect(wx.requests().find((r) => r.path === '/api/mp/checkins')?.data).toEqual({
      ticket: '7.31.k.mac',
      gate: '东门',
      nonce: expect.stringMatching(/^[A-Za-z0-9]{20}$/) as unknown,
    });
    expect(page.text('.result-title')).toBe('签到成功');
    expect(page.text('.result')).toContain('2026-12-24 13:40 · 东门');
    expect(page.text('.result')).toContain('请领取礼品：定制帆布袋');
    // The gate is remembered for the next scan session.
    expect(wx.storage.get('fw:checkinGate')).toBe('东门');
  });

  it('sends no gate when none is set, and shows a second scan with the first check-in', async () => {
    wx.scanResult = '7.31.k.mac';
    wx.route('GET /api/mp/me', STAFF);
    wx.route('POST /api/mp/checkins', {
      status: 409,
      body: { error: { code: 'already_checked_in', message: 'dup', details: { gate: '西门', checkedInAt: '2026-12-24T05:40:00.000Z' } } },
    });
    const page = new PageHandle(scanId);
    await page.call('onLoad');
    await page.fire('.scan');
    expect(wx.requests().find((r) => r.path === '/api/mp/checkins')?.data).not.toHaveProperty('gate');
    expect(page.text('.result-title')).toBe('该门票已签到');
    expect(page.text('.result')).toContain('首次签到：2026-12-24 13:40（西门）');
  });

  it('sends the same scan again, nonce and all, after a lost answer', async () => {
    wx.scanResult = '7.31.k.mac';
    wx.route('GET /api/mp/me', STAFF);
    wx.route(
      'POST /api/mp/checkins',
      { fail: 'request:fail timeout' },
      {
        status: 200,
        body: { status: 'checked_in', registrationId: 31, gate: '', checkedInAt: '2026-12-24T05:40:00.000Z', benefit: null },
      },
    );
    const page = new PageHandle(scanId);
    await page.call('onLoad');
    await page.fire('.scan');
    expect(page.text('.result-title')).toBe('请求超时，请稍后重试');
    await page.fire('.retry');
    expect(page.text('.result-title')).toBe('签到成功');
    const sent = wx
      .requests()
      .filter((r) => r.path === '/api/mp/checkins')
      .map((r) => r.data);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
    expect(wx.callsOf('scanCode')).toHaveLength(1);
  });

  it('does nothing when the scanner is closed', async () => {
    wx.scanResult = null;
    wx.route('GET /api/mp/me', STAFF);
    const page = new PageHandle(scanId);
    await page.call('onLoad');
    await page.fire('.scan');
    expect(wx.requests().map((r) => r.path)).toEqual(['/api/mp/me']);
    expect(page.$('.result')).toBeUndefined();
  });

  it('shows the staff-only page to a user who is not staff, and binds with a code', async () => {
    wx.route('GET /api/mp/me', { status: 200, body: { phoneBound: false, staff: null } });
    wx.route(
      'POST /api/mp/staff/bind',
      { status: 400, body: { error: { code: 'mp_binding_code_invalid', message: 'bad' } } },
      {
        status: 200,
        body: { staff: { operatorId: 3, name: '小李', role: 'operator' } },
      },
    );
    const page = new PageHandle(scanId);
    await page.call('onLoad');
    expect(page.text('.staff-only')).toContain('仅限活动工作人员使用');
    expect(page.$('.scan')).toBeUndefined();

    await page.fire('.bind');
    expect(page.text('.staff-only .error')).toBe('请输入绑定码');
    await page.fire('.bind-code', 'input', { value: ' WRONG234 ' });
    await page.fire('.bind');
    expect(page.text('.staff-only .error')).toBe('绑定码错误、已使用或已过期');
    await page.fire('.bind-code', 'input', { value: 'ABCD2345' });
    await page.fire('.bind');
    expect(
      wx
        .requests()
        .filter((r) => r.path === '/api/mp/staff/bind')
        .map((r) => r.data),
    ).toEqual([{ code: 'WRONG234' }, { code: 'ABCD2345' }]);
    expect(page.$('.staff-only')).toBeUndefined();
    expect(page.$('.scan')).toBeDefined();
  });

  it('shows the staff-only page when the check-in answers 403 mp_staff_only', async () => {
    wx.scanResult = '7.31.k.mac';
    // Staff a moment ago (the page opened), unbound since.
    wx.route('GET /api/mp/me', STAFF);
    wx.route('POST /api/mp/checkins', { status: 403, body: { error: { code: 'mp_staff_only', message: 'Staff only' } } });
    const page = new PageHandle(scanId);
    await page.call('onLoad');
    await page.fire('.scan');
    expect(page.text('.staff-only')).toContain('仅限活动工作人员使用');
  });
});
