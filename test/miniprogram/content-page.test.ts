/**
 * @jest-environment jsdom
 */
/* A material (pages/content/index): shown by kind, its time on screen reported as a view. */
import { API_BASE, FakeWx } from './fake-wx';
import { loadPage, PageHandle } from './simulate';

let wx: FakeWx;
const contentId = loadPage('pages/content/index');

beforeEach(() => {
  wx = new FakeWx().install();
  wx.storage.set('fw:mpToken', 'kept');
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('content', () => {
  it('shows an article with its cover and summary, and reports the seconds it was read', async () => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(5_000);
    wx.route('GET /api/mp/content/a-1', {
      status: 200,
      body: { code: 'a-1', title: '私域运营指南', kind: 'article', summary: '三分钟读懂', body: '<p>第一章</p>', fileUrl: '/c/a-1/file' },
    });
    wx.route('POST /api/mp/content/a-1/views', { status: 201, body: { viewKey: 'view-key-1' } }, { status: 204 });
    const page = new PageHandle(contentId);
    await page.call('onLoad', { code: 'a-1', ev: '7' });
    await page.call('onShow');
    expect(page.text('.title')).toBe('私域运营指南');
    expect(page.$('.article')).toBeDefined();
    expect(page.text('.summary')).toBe('三分钟读懂');
    expect((page.data.content as { fileUrl: string }).fileUrl).toBe(`${API_BASE}/c/a-1/file`);
    now.mockReturnValue(5_000 + 95_000);
    await page.call('onHide');
    await page.call('onShow');
    now.mockReturnValue(5_000 + 100_000);
    await page.call('onUnload');
    // The view, then the read time so far at each hide: 95 s, then 95 + 5.
    expect(
      wx
        .requests()
        .filter((r) => r.method === 'POST')
        .map((r) => [r.path, r.data]),
    ).toEqual([
      ['/api/mp/content/a-1/views', { eventId: 7 }],
      ['/api/mp/content/a-1/views', { viewKey: 'view-key-1', seconds: 95 }],
      ['/api/mp/content/a-1/views', { viewKey: 'view-key-1', seconds: 100 }],
    ]);
  });

  it('opens a PDF in WeChat’s document viewer', async () => {
    wx.route('GET /api/mp/content/p-1', { status: 200, body: { code: 'p-1', title: '白皮书', kind: 'pdf', fileUrl: '/c/p-1/file' } });
    const page = new PageHandle(contentId);
    await page.call('onLoad', { code: 'p-1' });
    await page.fire('.open-pdf');
    expect(wx.callsOf('downloadFile')).toEqual([expect.objectContaining({ url: `${API_BASE}/c/p-1/file` })]);
  });

  it('shows a video with its player', async () => {
    wx.route('GET /api/mp/content/v-1', {
      status: 200,
      body: { code: 'v-1', title: '产品演示', kind: 'video', fileUrl: 'https://cdn.example.com/v.mp4' },
    });
    const page = new PageHandle(contentId);
    await page.call('onLoad', { code: 'v-1' });
    expect(page.$('.video')).toBeDefined();
    expect(page.$('.article')).toBeUndefined();
  });
});
