import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { launchChromium, screenshot, newPhonePage } from '../../support/browser';
import { MOBILE_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The public invitation page (web/mobile, issue 15 §3) at a phone's size (390×844, zh-CN) in
 * headless Chromium against the real server and its exhibitions API on SQLite: open
 * /e/<event>?ch=<channel>, read the event, be refused by the form's own checks, register, get the
 * ticket's QR code; the visit and the registration carry the channel. A second visitor with the
 * same phone reads 已报名; a cancelled ticket says so when re-opened from its link; a closed event
 * and an unknown one get their status pages.
 */
/** The little of the DOM a predicate run in the page reads (the tests compile without the DOM types). */
interface PageGlobals {
  document: { querySelector(selector: string): { complete: boolean; naturalWidth: number } | null };
}
const HOUR = 3_600_000;
const actor = { operatorId: null, ip: null };

jest.setTimeout(180_000);

describe('the invitation page at phone size', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let admin: string;
  let eventId: number;
  let channelId: number;
  const contexts: BrowserContext[] = [];

  const adminPost = (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${admin}`).send(body);

  /** A new visitor: a fresh browser context (empty localStorage) on a phone-sized page. */
  const newVisitor = (): Promise<Page> => newPhonePage(browser, contexts);
  const field = (page: Page, key: string) => page.locator(`[data-test=field-${key}] input, [data-test=field-${key}] textarea`).first();
  const errorUnder = (page: Page, key: string) => page.locator(`[data-test=field-${key}] .van-field__error-message`);
  const sideways = (page: Page) => page.evaluate('document.documentElement.scrollWidth - innerWidth');

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { mobileWebRoot: MOBILE_WEB_ROOT, platformTimeoutMs: 15_000 });
    const s = stack.services;
    const created = await s.operators.createOperator({
      username: 'admin',
      password: 'admin-password-1',
      role: 'admin',
      wecomUserId: null,
      actor,
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await s.operators.login({ username: 'admin', password: 'admin-password-1', ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    admin = login.token;

    const now = stack.clock.now().getTime();
    const event = await adminPost('/api/admin/events', {
      name: '2026 智能制造展',
      venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
      startsAt: new Date(now + 48 * HOUR).toISOString(),
      endsAt: new Date(now + 56 * HOUR).toISOString(),
      capacity: 100,
      registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
      fields: [
        { key: 'company', label: '公司', type: 'text', required: true, maxLength: 30 },
        { key: 'email', label: '邮箱', type: 'email', required: false },
        { key: 'industry', label: '行业', type: 'select', required: true, options: ['制造', '零售'] },
      ],
      benefit: { kind: 'gift', description: '定制帆布袋' },
      agenda: [
        { time: '09:30', title: '开幕致辞', speaker: '张总' },
        { time: '10:00', title: '智能工厂案例分享' },
      ],
      facts: { weather: '晴', expectedHeadcount: 800 },
    });
    if (event.status !== 201) throw new Error(`create event: ${event.status} ${JSON.stringify(event.body)}`);
    eventId = (event.body as { id: number }).id;
    const channel = await adminPost('/api/admin/channels', { name: '展会海报 H5', kind: 'h5', eventId });
    if (channel.status !== 201) throw new Error(`create channel: ${channel.status} ${JSON.stringify(channel.body)}`);
    channelId = (channel.body as { id: number }).id;
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('shows the event, refuses a bad form with the reasons, registers through the channel and shows the ticket QR', async () => {
    const page = await newVisitor();
    await page.goto(`${stack.baseUrl}/e/${eventId}?ch=${channelId}`);
    await page.locator('[data-test=event-name]').waitFor();
    expect(await page.textContent('[data-test=event-name]')).toBe('2026 智能制造展');
    expect(await page.title()).toBe('2026 智能制造展'); // what WeChat shows on a shared link's card
    expect(await page.textContent('[data-test=countdown]')).toMatch(/距活动开始\s*0[12] 天 \d\d 时 \d\d 分 \d\d 秒/);
    expect(await page.textContent('[data-test=agenda]')).toMatch(/09:30\s*开幕致辞\s*张总[\s\S]*10:00\s*智能工厂案例分享/);
    expect(await page.textContent('[data-test=benefit]')).toContain('定制帆布袋');
    expect(await page.textContent('[data-test=venue]')).toContain('上海市青浦区崧泽大道333号');
    expect(await page.getAttribute('[data-test=map-amap]', 'href')).toContain('position=121.3,31.19');
    expect(await page.getAttribute('[data-test=map-tencent]', 'href')).toContain(encodeURIComponent('coord:31.19,121.3'));
    // Every field of the event's form, name and phone first (added by the server).
    for (const key of ['name', 'phone', 'company', 'email', 'industry']) await page.locator(`[data-test=field-${key}]`).waitFor();
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await screenshot(page, 'invitation-page');

    // Submitted empty: every required field and the consent say what is missing; nothing is sent.
    await page.click('[data-test=submit]');
    expect(await errorUnder(page, 'name').textContent()).toBe('请填写姓名');
    expect(await errorUnder(page, 'phone').textContent()).toBe('请填写手机号');
    expect(await errorUnder(page, 'company').textContent()).toBe('请填写公司');
    expect(await errorUnder(page, 'industry').textContent()).toBe('请填写行业');
    expect(await page.textContent('[data-test=consent-error]')).toBe('请先阅读并勾选同意隐私条款');
    await field(page, 'phone').fill('1380013');
    await field(page, 'email').fill('li@example');
    await field(page, 'name').click(); // leaving a field checks it
    expect(await errorUnder(page, 'phone').textContent()).toBe('请填写正确的手机号');
    expect(await errorUnder(page, 'email').textContent()).toBe('请填写正确的邮箱地址');
    await screenshot(page, 'invitation-page-refused');
    const [stored] = await db.dataSource.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM event_registrations');
    expect(Number(stored?.n)).toBe(0);

    await field(page, 'name').fill('李雷');
    await field(page, 'phone').fill('138 0013 8000');
    await field(page, 'company').fill('飞轮科技');
    await field(page, 'email').fill('lilei@example.com');
    await page.locator('[data-test=field-industry] label', { hasText: '制造' }).click();
    await page.click('[data-test=consent] input');
    await page.click('[data-test=submit]');

    await page.waitForURL(new RegExp(`/e/${eventId}/ticket/`));
    // A function, not a string: the page's CSP refuses eval, which a string predicate needs.
    await page.waitForFunction((selector: string) => {
      const img = (globalThis as unknown as PageGlobals).document.querySelector(selector);
      return img !== null && img.complete && img.naturalWidth > 0;
    }, '[data-test=ticket-qr]');
    expect(await page.textContent('[data-test=ticket-status]')).toContain('有效');
    expect(await page.textContent('[data-test=ticket-holder]')).toContain('李雷');
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await screenshot(page, 'invitation-ticket');

    // The registration and the page's visit both name the channel of ?ch.
    const registrations = await db.dataSource.query<{ name: string; phone: string; channel_id: number }[]>(
      'SELECT name, phone, channel_id FROM event_registrations WHERE event_id = ?',
      [eventId],
    );
    expect(registrations.map((r) => [r.name, r.phone, Number(r.channel_id)])).toEqual([['李雷', '+8613800138000', channelId]]);
    const visits = await db.dataSource.query<{ channel_id: number }[]>('SELECT channel_id FROM event_visits WHERE event_id = ?', [eventId]);
    expect(visits.map((v) => Number(v.channel_id))).toEqual([channelId]);

    // Back on the invitation, this browser finds its ticket again.
    await page.click('[data-test=ticket-back]');
    await page.locator('[data-test=have-ticket]').waitFor();
  });

  it('tells a second visitor with the same phone that they are registered already', async () => {
    const page = await newVisitor();
    await page.goto(`${stack.baseUrl}/e/${eventId}?ch=${channelId}`);
    await page.locator('[data-test=registration-form]').waitFor();
    await field(page, 'name').fill('李雷');
    await field(page, 'phone').fill('+86 13800138000');
    await field(page, 'company').fill('飞轮科技');
    await page.locator('[data-test=field-industry] label', { hasText: '零售' }).click();
    await page.click('[data-test=consent] input');
    await page.click('[data-test=submit]');
    await page.locator('[data-test=form-error]').waitFor();
    expect(await page.textContent('[data-test=form-error]')).toBe('您已报名过本活动，无需重复报名');
    expect(page.url()).not.toContain('/ticket/');
    await screenshot(page, 'invitation-already-registered');
    // Two visitors counted for the channel, one registration.
    const visits = await db.dataSource.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM event_visits WHERE event_id = ? AND channel_id = ?',
      [eventId, channelId],
    );
    expect(Number(visits[0]?.n)).toBe(2);
  });

  it('cancels a ticket, which then reads as cancelled when re-opened from its link', async () => {
    const page = await newVisitor();
    await page.goto(`${stack.baseUrl}/e/${eventId}`);
    await page.locator('[data-test=registration-form]').waitFor();
    await field(page, 'name').fill('韩梅梅');
    await field(page, 'phone').fill('13900139000');
    await field(page, 'company').fill('飞轮科技');
    await page.locator('[data-test=field-industry] label', { hasText: '零售' }).click();
    await page.click('[data-test=consent] input');
    await page.click('[data-test=submit]');
    await page.waitForURL(/\/ticket\//);
    await page.locator('[data-test=ticket-cancel]').click();
    await page.locator('.van-dialog__confirm').click();
    await page.locator('[data-test=ticket-cancelled]').waitFor();
    expect(await page.textContent('[data-test=ticket-status]')).toContain('已取消');

    const reopened = await newVisitor();
    await reopened.goto(page.url());
    await reopened.locator('[data-test=ticket-status]').waitFor();
    expect(await reopened.textContent('[data-test=ticket-status]')).toContain('已取消');
    expect(await reopened.locator('[data-test=ticket-cancel]').count()).toBe(0);
  });

  it('verifies the phone by SMS code when the event asks, and puts the second person of a full event on its waitlist', async () => {
    const now = stack.clock.now().getTime();
    const created = await adminPost('/api/admin/events', {
      name: '闭门品鉴会',
      venue: { address: '北京市朝阳区酒仙桥路4号' },
      startsAt: new Date(now + 48 * HOUR).toISOString(),
      endsAt: new Date(now + 50 * HOUR).toISOString(),
      capacity: 1,
      registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
      fields: [],
      benefit: null,
      smsVerification: true,
      waitlist: true,
    });
    if (created.status !== 201) throw new Error(`create event: ${created.status} ${JSON.stringify(created.body)}`);
    const smallEvent = (created.body as { id: number }).id;
    /** The code the last SMS carried: the outbox row the sandbox would deliver. */
    const lastCode = async (): Promise<string> => {
      const rows = await db.dataSource.query<{ payload: string }[]>(
        "SELECT payload FROM outbox_messages WHERE channel = 'sms' ORDER BY id DESC LIMIT 1",
      );
      const code = (JSON.parse(rows[0]?.payload ?? '{}') as { params?: string[] }).params?.[0];
      if (!code) throw new Error('no SMS code sent');
      return code;
    };
    const fillAndSendCode = async (page: Page, name: string, phone: string): Promise<string> => {
      await page.goto(`${stack.baseUrl}/e/${smallEvent}`);
      await page.locator('[data-test=registration-form]').waitFor();
      await field(page, 'name').fill(name);
      await field(page, 'phone').fill(phone);
      await page.click('[data-test=sms-send]');
      await page.locator('[data-test=sms-send]', { hasText: '秒后重发' }).waitFor();
      await page.click('[data-test=consent] input');
      return lastCode();
    };

    const first = await newVisitor();
    const code = await fillAndSendCode(first, '王五', '13700137000');
    const wrong = code === '000000' ? '111111' : '000000';
    await field(first, 'sms-code').fill(wrong);
    await first.click('[data-test=submit]');
    await first.locator('[data-test=form-error]').waitFor();
    expect(await first.textContent('[data-test=form-error]')).toBe('验证码错误或已过期，请重新获取');
    expect(await errorUnder(first, 'sms-code').textContent()).toBe('验证码错误或已过期，请重新获取');
    await field(first, 'sms-code').fill(code);
    await first.click('[data-test=submit]');
    await first.waitForURL(/\/ticket\//);
    await first.locator('[data-test=ticket-status]', { hasText: '有效' }).waitFor();

    const second = await newVisitor();
    const secondCode = await fillAndSendCode(second, '赵六', '13600136000');
    expect(await second.textContent('[data-test=waitlist-note]')).toContain('名额已满');
    expect(await second.textContent('[data-test=submit]')).toContain('加入候补');
    await field(second, 'sms-code').fill(secondCode);
    await second.click('[data-test=submit]');
    await second.locator('[data-test=waitlisted]').waitFor();
    expect(await second.textContent('[data-test=waitlisted]')).toContain('名额已满，您已进入候补名单，排在第 1 位');
    await screenshot(second, 'invitation-waitlisted');
    await second.locator('[data-test=waitlisted] a').click();
    await second.locator('[data-test=ticket-status]', { hasText: '候补中' }).waitFor();
  });

  it('shows the status pages: an unknown event, and registration closed past the deadline', async () => {
    const page = await newVisitor();
    await page.goto(`${stack.baseUrl}/e/987654`);
    await page.locator('[data-test=status-not_found]').waitFor();
    expect(await page.textContent('[data-test=status-not_found]')).toContain('活动不存在');

    stack.clock.advance(25 * HOUR);
    await page.goto(`${stack.baseUrl}/e/${eventId}`);
    await page.locator('[data-test=status-closed]').waitFor();
    expect(await page.textContent('[data-test=status-closed]')).toContain('报名已截止');
    expect(await page.textContent('[data-test=status-closed]')).toContain('2026 智能制造展');
    await screenshot(page, 'invitation-closed');
  });
});
