/**
 * @jest-environment jsdom
 */
/*
 * A launch through a channel's mini-program code (miniprogram/app.ts, utils/channel.ts): the
 * URL-encoded scene is decoded and reported once per code scanned, the channel's event opens, and the
 * registration from there carries the channel. App() is captured here (the simulator has none).
 */
import { FakeWx } from './fake-wx';
import { loadPage, PageHandle } from './simulate';

interface EnterOptions {
  path: string;
  scene: number;
  query: Record<string, string>;
}
interface AppConfig {
  onLaunch(options: EnterOptions): void;
  onShow(options: EnterOptions): void;
}

const DETAIL = {
  id: 7,
  name: '2026 私域增长大会',
  startsAt: '2026-12-24T06:00:00.000Z',
  endsAt: '2026-12-24T10:00:00.000Z',
  venue: { name: '国家会议中心', address: '北京市朝阳区天辰东路7号', lat: 40.0, lng: 116.39 },
  status: 'open',
  registrationDeadline: '2026-12-23T16:00:00.000Z',
  capacity: 300,
  registered: 120,
  agenda: [],
  fields: [{ key: 'name', label: '姓名', type: 'text', required: true, maxLength: 20 }],
};

const registerId = loadPage('pages/events/register');
let app: AppConfig | null = null;

function launchApp(wx: FakeWx, query: Record<string, string>): Promise<void> {
  Reflect.set(globalThis, 'App', (config: AppConfig) => {
    app = config;
  });
  // The app module is loaded once, as WeChat loads it once per launch; utils/channel.ts is the
  // register page's own instance (one module registry per test file).
  jest.requireActual('../../miniprogram/app');
  if (!app) throw new Error('app.ts did not call App()');
  // A cold start: WeChat calls onLaunch, then onShow, with the same options.
  const options = { path: 'pages/events/list', scene: 1047, query };
  app.onLaunch(options);
  app.onShow(options);
  return wx.idle();
}

it('reports the decoded scene once per code (a hot start too), opens the channel’s event and registers with the channel', async () => {
  const wx = new FakeWx().install();
  wx.route('POST /api/mp/channel-visits', { status: 201, body: { channelId: 12, eventId: 7 } });
  await launchApp(wx, { scene: 'ch%3A12' });

  const visits = wx.requests().filter((r) => r.path === '/api/mp/channel-visits');
  expect(visits).toEqual([
    expect.objectContaining({ method: 'POST', data: { scene: 'ch:12', launchId: expect.stringMatching(/^[A-Za-z0-9]{20}$/) as unknown } }),
  ]);
  expect(wx.callsOf('reLaunch')).toEqual([expect.objectContaining({ url: '/pages/events/detail?id=7' })]);

  // Back to the foreground with the same entry: no new visit.
  app?.onShow({ path: 'pages/events/list', scene: 1047, query: { scene: 'ch%3A12' } });
  await wx.idle();
  expect(wx.requests().filter((r) => r.path === '/api/mp/channel-visits')).toHaveLength(1);

  wx.route('GET /api/mp/events/7', { status: 200, body: DETAIL });
  wx.route('GET /api/mp/config', { status: 200, body: { subscribeTemplateIds: [] } });
  wx.route('POST /api/mp/events/7/registrations', {
    status: 201,
    body: { registrationId: 31, status: 'registered', ticket: { token: 'T.31', qrImageUrl: '/qr.png' } },
  });
  const page = new PageHandle(registerId);
  await page.call('onLoad', { id: '7' });
  await page.fire('.field-name .input', 'input', { value: '张三' });
  await page.fire('.consent', 'change', { value: ['agree'] });
  await page.fire('.submit');
  const registration = wx.requests().find((r) => r.path === '/api/mp/events/7/registrations');
  expect(registration?.data).toEqual({ answers: { name: '张三' }, consent: true, channelId: 12 });

  // Another channel's code scanned while in the background (a hot start: onShow only) is a visit.
  wx.route('POST /api/mp/channel-visits', { status: 201, body: { channelId: 13, eventId: null } });
  app?.onShow({ path: 'pages/events/list', scene: 1047, query: { scene: 'ch%3A13' } });
  await wx.idle();
  expect(
    wx
      .requests()
      .filter((r) => r.path === '/api/mp/channel-visits')
      .map((r) => (r.data as { scene: string }).scene),
  ).toEqual(['ch:12', 'ch:13']);
});
