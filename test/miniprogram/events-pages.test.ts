/**
 * @jest-environment jsdom
 */
import { API_BASE, FakeWx } from './fake-wx';
import { loadPage, PageHandle } from './simulate';

const EVENT = {
  id: 7,
  name: '2026 私域增长大会',
  startsAt: '2026-12-24T06:00:00.000Z',
  endsAt: '2026-12-24T10:00:00.000Z',
  venue: { name: '国家会议中心', address: '北京市朝阳区天辰东路7号', lat: 40.0, lng: 116.39 },
  status: 'open',
};

let wx: FakeWx;
const listId = loadPage('pages/events/list');

beforeEach(() => {
  wx = new FakeWx().install();
});

describe('events list', () => {
  it('logs in, lists the events with their China-time start and opens one on tap', async () => {
    wx.route('GET /api/mp/events', { status: 200, body: { events: [EVENT] } });
    const page = new PageHandle(listId);
    await page.call('onLoad', {});

    expect(wx.callsOf('login')).toHaveLength(1);
    const [login, list] = wx.requests();
    expect(login).toMatchObject({ method: 'POST', url: `${API_BASE}/api/mp/login`, data: { code: 'wx-code-1' } });
    expect(list).toMatchObject({ method: 'GET', path: '/api/mp/events', header: { Authorization: 'Bearer token-1' } });
    expect(page.text('.event')).toContain('2026 私域增长大会');
    expect(page.text('.event')).toContain('2026-12-24 14:00');
    expect(page.text('.event')).toContain('报名中');

    await page.fire('.event');
    expect(wx.callsOf('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/events/detail?id=7' })]);
  });
});
