/**
 * @jest-environment jsdom
 */
/*
 * The pages after the gate (miniprogram/pages/events/after-checkin, cloud, survey), rendered by
 * miniprogram-simulate with the official WXML compiler against a fake `wx`.
 */
import { API_BASE, FakeWx } from './fake-wx';
import { loadPage, PageHandle } from './simulate';

let wx: FakeWx;
const afterCheckinId = loadPage('pages/events/after-checkin');
const cloudId = loadPage('pages/events/cloud');
const surveyId = loadPage('pages/events/survey');

const TICKET = {
  registrationId: 31,
  eventId: 7,
  eventName: '2026 私域增长大会',
  venue: { name: '国家会议中心', address: '北京市朝阳区天辰东路7号', lat: 40.0, lng: 116.39 },
  startsAt: '2026-12-24T06:00:00.000Z',
  endsAt: '2026-12-24T10:00:00.000Z',
  name: '张三',
  status: 'checked_in',
  checkedIn: { gate: '东门', at: '2026-12-24T05:50:00.000Z', benefit: { kind: 'gift', description: '定制保温杯' } },
  ticket: { token: 'T.31', qrImageUrl: '/api/events/7/tickets/T.31/qr.png' },
};
const error = (status: number, code: string) => ({ status, body: { error: { code, message: code } } });

beforeEach(() => {
  wx = new FakeWx().install();
  wx.storage.set('fw:mpToken', 'kept');
});

describe('after check-in', () => {
  it('shows the check-in, the gift, navigates to the venue, offers customer service and opens the cloud exhibition', async () => {
    wx.route('GET /api/mp/me/tickets?eventId=7', { status: 200, body: { items: [TICKET] } });
    const page = new PageHandle(afterCheckinId);
    await page.call('onLoad', { id: '7' });

    expect(page.text('.when')).toBe('签到时间：2026-12-24 13:50');
    expect(page.text('.gate')).toBe('签到入口：东门');
    expect(page.text('.benefit')).toContain('签到礼品');
    expect(page.text('.benefit')).toContain('定制保温杯');
    expect(page.$('.contact')).toBeDefined();
    await page.fire('.venue');
    expect(wx.callsOf('openLocation')).toEqual([
      { latitude: 40.0, longitude: 116.39, name: '国家会议中心', address: '北京市朝阳区天辰东路7号', scale: 16 },
    ]);
    await page.fire('.cloud');
    expect(wx.callsOf('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/events/cloud?id=7' })]);
  });

  it('says so when the ticket is not checked in, and shows a network failure with a retry', async () => {
    wx.route(
      'GET /api/mp/me/tickets?eventId=7',
      { fail: 'request:fail -101:net::ERR_INTERNET_DISCONNECTED' },
      { status: 200, body: { items: [{ ...TICKET, status: 'valid', checkedIn: null }] } },
    );
    const page = new PageHandle(afterCheckinId);
    await page.call('onLoad', { id: '7' });
    expect(page.text('.error')).toBe('网络连接失败，请检查网络后重试');
    await page.fire('.retry');
    expect(page.text('.not-checked-in')).toContain('尚未签到');
    expect(page.$('.benefit')).toBeUndefined();
  });
});

describe('cloud exhibition', () => {
  const CLOUD = {
    event: { id: 7, name: '2026 私域增长大会', startsAt: TICKET.startsAt, endsAt: TICKET.endsAt },
    sections: {
      materials: [{ code: 'guide-1', title: '选型指南', kind: 'pdf', summary: '三十页', cover: null }],
      products: [{ code: 'img-2', title: '五轴加工中心', kind: 'image', summary: null, cover: '/c/img-2/file' }],
      cases: [],
    },
  };

  it('lists the sections, opens an item attributed to the event, and sends a consult', async () => {
    wx.route('GET /api/mp/events/7/cloud', { status: 200, body: CLOUD });
    wx.route(
      'POST /api/mp/events/7/cloud/consult',
      { status: 201, body: { consultId: 'c1', assigned: true } },
      {
        status: 400,
        body: { error: { code: 'validation_failed', message: 'x', details: { fields: { message: '咨询内容最多500个字' } } } },
      },
    );
    const page = new PageHandle(cloudId);
    await page.call('onLoad', { id: '7' });

    expect(page.text('.section-materials')).toContain('资料下载');
    expect(page.text('.section-materials')).toContain('选型指南');
    expect(page.text('.section-products')).toContain('五轴加工中心');
    expect(page.$('.section-cases')).toBeUndefined();
    expect((page.data.sections as { items: { coverSrc: string }[] }[])[1].items[0].coverSrc).toBe(`${API_BASE}/c/img-2/file`);
    await page.fire('.section-materials .item');
    expect(wx.callsOf('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/content/index?code=guide-1&ev=7' })]);

    // An empty question stays on the phone; a question goes to the rep; the server's sentence per field.
    await page.fire('.send');
    expect(page.text('.consult-error')).toBe('请填写咨询内容');
    await page.fire('.question', 'input', { value: '  交期多久？ ' });
    await page.fire('.send');
    const consults = wx.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/consult'));
    expect(consults.map((r) => r.data)).toEqual([{ question: '交期多久？' }]);
    expect(page.text('.sent')).toBe('已提交，顾问会尽快联系您');
    await page.fire('.question', 'input', { value: '问'.repeat(600) });
    await page.fire('.send');
    expect(page.text('.consult-error')).toBe('咨询内容最多500个字');
  });

  it('shows an unknown event’s refusal', async () => {
    wx.route('GET /api/mp/events/99/cloud', error(404, 'event_not_found'));
    const page = new PageHandle(cloudId);
    await page.call('onLoad', { id: '99' });
    expect(page.text('.error')).toBe('活动不存在');
  });
});

describe('survey', () => {
  const SURVEY = {
    eventId: 7,
    eventName: '2026 私域增长大会',
    title: '展会满意度调查',
    satisfactionLabel: '您对本次展会的整体满意度',
    questions: [
      { key: 'q1', kind: 'single', label: '您从哪里得知本次展会？', required: true, options: ['朋友圈', '海报'] },
      { key: 'q2', kind: 'multiple', label: '您感兴趣的展区', required: false, options: ['机器人', '软件'] },
      { key: 'q3', kind: 'text', label: '其他建议', required: false },
    ],
    answered: false,
  };

  it('marks the unanswered required questions, then sends the rating and answers and thanks the user', async () => {
    wx.route('GET /api/mp/events/7/survey', { status: 200, body: SURVEY });
    wx.route('POST /api/mp/events/7/survey/answers', { status: 201, body: { status: 'answered' } });
    const page = new PageHandle(surveyId);
    await page.call('onLoad', { id: '7' });
    expect(page.text('.field-satisfaction .label')).toBe('您对本次展会的整体满意度*');

    await page.fire('.submit');
    expect(page.text('.field-satisfaction .error')).toBe('请选择满意度');
    expect(page.text('.field-q1 .error')).toBe('请回答此题');
    expect(wx.requests().filter((r) => r.method === 'POST')).toHaveLength(0);

    await page.fire('.score-4');
    await page.fire('.field-q1 .choices', 'change', { value: '海报' });
    await page.fire('.field-q2 .choices', 'change', { value: ['机器人', '软件'] });
    await page.fire('.field-q3 .text', 'input', { value: '展位太挤' });
    await page.fire('.submit');
    const posts = wx.requests().filter((r) => r.method === 'POST');
    expect(posts.map((r) => [r.path, r.data])).toEqual([
      ['/api/mp/events/7/survey/answers', { answers: { satisfaction: 4, q1: '海报', q2: ['机器人', '软件'], q3: '展位太挤' } }],
    ]);
    expect(page.text('.thanks')).toContain('感谢您的反馈');
  });

  it('shows the server’s refusals: per field, answered already, not registered', async () => {
    wx.route('GET /api/mp/events/7/survey', { status: 200, body: SURVEY });
    wx.route(
      'POST /api/mp/events/7/survey/answers',
      { status: 400, body: { error: { code: 'validation_failed', message: 'x', details: { fields: { q1: '请选择一个选项' } } } } },
      error(409, 'already_answered'),
    );
    const page = new PageHandle(surveyId);
    await page.call('onLoad', { id: '7' });
    await page.fire('.score-5');
    await page.fire('.field-q1 .choices', 'change', { value: '朋友圈' });
    await page.fire('.submit');
    expect(page.text('.field-q1 .error')).toBe('请选择一个选项');
    expect(page.text('.submit-error')).toBe('请检查标红的项目');
    await page.fire('.submit');
    expect(page.text('.thanks')).toContain('感谢您的反馈');

    wx.route('GET /api/mp/events/8/survey', error(403, 'not_registered'));
    const stranger = new PageHandle(surveyId);
    await stranger.call('onLoad', { id: '8' });
    expect(stranger.text('.error')).toBe('您未报名本活动');
  });
});
