/**
 * @jest-environment jsdom
 */
/*
 * The business card (pages/card/index) and a company's cards (pages/cards/index), against the
 * card routes' shapes (server/http/mp-cards.routes.ts; utils/api.ts: card, cardView, cardAction,
 * companyCards).
 */
import { FakeWx } from './fake-wx';
import { loadPage, PageHandle } from './simulate';

const CARD = {
  operatorId: 12,
  name: '陈晓',
  title: '客户经理',
  company: '飞轮科技',
  phone: '13800001234',
  avatarUrl: null,
  intro: '专注私域运营十年',
  materials: [{ code: 'm-1', title: '私域白皮书', kind: 'pdf', cover: null }],
  contactWayQrUrl: 'https://example.com/contact-way/12.png',
  shareToken: 'st-viewer',
};

let wx: FakeWx;
const cardId = loadPage('pages/card/index');
const cardsId = loadPage('pages/cards/index');

beforeEach(() => {
  wx = new FakeWx().install();
  wx.storage.set('fw:mpToken', 'kept');
});

afterEach(() => {
  jest.restoreAllMocks();
});

async function openCard(query: Record<string, string>): Promise<PageHandle> {
  wx.route('GET /api/mp/cards/12?st=st-sharer', { status: 200, body: CARD });
  wx.route('GET /api/mp/cards/12', { status: 200, body: CARD });
  const page = new PageHandle(cardId);
  await page.call('onLoad', query);
  return page;
}

describe('business card', () => {
  it("shows the rep's card from a share, with the token the viewer arrived with", async () => {
    const page = await openCard({ rep: '12', st: 'st-sharer' });
    expect(wx.requests()[0]).toMatchObject({ method: 'GET', path: '/api/mp/cards/12?st=st-sharer' });
    expect(page.text('.name')).toBe('陈晓');
    expect(page.text('.job-title')).toBe('客户经理');
    expect(page.text('.company')).toBe('飞轮科技');
    expect(page.text('.phone')).toContain('13800001234');
    expect(page.text('.intro')).toBe('专注私域运营十年');
    expect(page.text('.initial')).toBe('陈');
    expect(page.text('.materials')).toContain('私域白皮书');
    expect(wx.callsOf('setNavigationBarTitle')).toEqual([expect.objectContaining({ title: '陈晓的名片' })]);
  });

  it("reads the rep from a mini-program code's scene", async () => {
    await openCard({ scene: '12' });
    expect(wx.requests()[0].path).toBe('/api/mp/cards/12');
  });

  it("shares with this viewer's own token, extending the chain", async () => {
    const page = await openCard({ rep: '12', st: 'st-sharer' });
    expect(await page.call('onShareAppMessage')).toEqual({
      title: '这是陈晓的名片，请惠存',
      path: '/pages/card/index?rep=12&st=st-viewer',
    });
  });

  it('reports the seconds on screen when hidden, once, and again after the next show', async () => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    wx.route('POST /api/mp/cards/12/views', { status: 204 });
    const page = await openCard({ rep: '12', st: 'st-sharer' });
    await page.call('onShow');
    now.mockReturnValue(1_000_000 + 42_400);
    await page.call('onHide');
    await page.call('onUnload');
    await page.call('onShow');
    now.mockReturnValue(1_000_000 + 50_000);
    await page.call('onUnload');
    const views = wx.requests().filter((r) => r.path === '/api/mp/cards/12/views');
    expect(views.map((r) => r.data)).toEqual([
      { seconds: 42, st: 'st-sharer' },
      { seconds: 8, st: 'st-sharer' },
    ]);
  });

  it("opens the rep's contact-way QR and reports the add-on-WeCom step", async () => {
    wx.route('POST /api/mp/cards/12/actions', { status: 204 });
    const page = await openCard({ rep: '12', st: 'st-sharer' });
    await page.fire('.add-wecom');
    expect(wx.callsOf('previewImage')).toEqual([expect.objectContaining({ urls: [CARD.contactWayQrUrl] })]);
    expect(wx.requests().find((r) => r.path === '/api/mp/cards/12/actions')?.data).toEqual({ action: 'add_wecom', st: 'st-sharer' });
  });

  it('saves the card to the phone contacts and reports it', async () => {
    wx.route('POST /api/mp/cards/12/actions', { status: 204 });
    const page = await openCard({ rep: '12' });
    await page.fire('.save-contact');
    expect(wx.callsOf('addPhoneContact')).toEqual([
      expect.objectContaining({ firstName: '陈晓', mobilePhoneNumber: '13800001234', organization: '飞轮科技', title: '客户经理' }),
    ]);
    expect(wx.requests().find((r) => r.path === '/api/mp/cards/12/actions')?.data).toEqual({ action: 'save_contact' });
  });

  it('opens a featured material and the company card list', async () => {
    const page = await openCard({ rep: '12' });
    await page.fire('.material');
    await page.fire('.company-cards');
    expect(wx.callsOf('navigateTo').map((o) => o.url)).toEqual([
      '/pages/content/index?code=m-1',
      `/pages/cards/index?company=${encodeURIComponent('飞轮科技')}`,
    ]);
  });

  it('shows an unknown card as not found', async () => {
    wx.route('GET /api/mp/cards/404', { status: 404, body: { error: { code: 'not_found', message: 'Not found' } } });
    const page = new PageHandle(cardId);
    await page.call('onLoad', { rep: '404' });
    expect(page.text('.error')).toBe('找不到该内容');
    // No card, no view report.
    await page.call('onShow');
    await page.call('onUnload');
    expect(wx.requests().filter((r) => r.method === 'POST')).toHaveLength(0);
  });
});

describe("a company's cards", () => {
  it('lists the cards of the company and opens one', async () => {
    wx.route(`GET /api/mp/cards?company=${encodeURIComponent('飞轮科技')}`, {
      status: 200,
      body: {
        cards: [
          { operatorId: 12, name: '陈晓', title: '客户经理', avatarUrl: null },
          { operatorId: 13, name: '周宁', title: null, avatarUrl: 'https://example.com/a.png' },
        ],
      },
    });
    const page = new PageHandle(cardsId);
    await page.call('onLoad', { company: encodeURIComponent('飞轮科技') });
    expect(page.$$('.person')).toHaveLength(2);
    expect(page.text('.company')).toBe('飞轮科技');
    expect(page.text('.person')).toContain('陈晓');
    await page.fire('.person');
    expect(wx.callsOf('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/card/index?rep=12' })]);
  });
});
