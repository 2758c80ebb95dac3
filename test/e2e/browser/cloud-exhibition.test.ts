import request from 'supertest';
import { type Browser } from 'playwright-core';
import { launchChromium, openSignedIn, screenshot, PHONE } from '../../support/browser';
import { ADMIN_WEB_ROOT, MOBILE_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The cloud exhibition (issue 15 §4) in headless Chromium against the real server on SQLite: an
 * operator picks a content-centre material on the event's 云展厅 tab; a visitor at phone size
 * (390×844, zh-CN) follows the invitation page's link to /e/<event>/cloud once the event has
 * started, sees the material, and sends an online consult, which lands on their contact's timeline.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const HOUR = 3_600_000;

jest.setTimeout(180_000);

describe('the cloud exhibition', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT, mobileWebRoot: MOBILE_WEB_ROOT, platformTimeoutMs: 15_000 });
    const created = await stack.services.operators.createOperator({
      ...ADMIN,
      role: 'admin',
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('the operator picks a material for the 云展厅 tab; a visitor opens it from the invitation page and sends a consult', async () => {
    const login = await stack.services.operators.login({ ...ADMIN, ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    const post = (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${login.token}`).send(body);
    const now = stack.clock.now().getTime();
    const event = await post('/api/admin/events', {
      name: '2026 智能制造展',
      venue: { address: '上海市青浦区崧泽大道333号' },
      startsAt: new Date(now - HOUR).toISOString(),
      endsAt: new Date(now + 6 * HOUR).toISOString(),
      capacity: 100,
      registrationDeadline: new Date(now + 5 * HOUR).toISOString(),
      fields: [],
      benefit: null,
    }).expect(201);
    const eventId = (event.body as { id: number }).id;
    await post('/api/admin/content', { kind: 'article', title: '五轴加工中心产品手册', summary: '参数、选型与报价', body: '正文' }).expect(
      201,
    );

    const admin = await openSignedIn(browser, stack.baseUrl, ADMIN);
    await admin.goto(`${stack.baseUrl}/admin/events/${eventId}?tab=cloud`);
    await admin.click('[data-test=event-cloud-products]');
    await admin.locator('.el-select-dropdown__item:visible', { hasText: '五轴加工中心产品手册' }).first().click();
    await admin.keyboard.press('Escape');
    await admin.click('[data-test=event-cloud-save]');
    await admin.locator('.el-message--success').waitFor();
    await screenshot(admin, 'cloud-exhibition-admin-tab');
    const saved = await db.dataSource.query<{ section: string }[]>('SELECT section FROM event_cloud_items WHERE event_id = ?', [eventId]);
    expect(saved.map((row) => row.section)).toEqual(['products']);

    const visitor = await (await browser.newContext({ locale: 'zh-CN', viewport: PHONE, hasTouch: true })).newPage();
    await visitor.goto(`${stack.baseUrl}/e/${eventId}`);
    await visitor.click('[data-test=cloud-link] a');
    await visitor.waitForURL(new RegExp(`/e/${eventId}/cloud$`));
    const item = visitor.locator('[data-test=cloud-products] [data-test=cloud-item]');
    await expect(item.innerText()).resolves.toContain('五轴加工中心产品手册');
    expect(await item.getAttribute('href')).toBe(`${stack.config.publicBaseUrl}/c/${await codeOfFirstMaterial()}?ev=${eventId}`);
    await expect(visitor.evaluate('document.documentElement.scrollWidth - innerWidth')).resolves.toBeLessThanOrEqual(0);

    // The form's own check first: an unknown visitor needs a phone.
    await visitor.fill('[data-test=consult-message] textarea', '想了解五轴加工中心的报价和交期');
    await visitor.click('[data-test=consult-send]');
    await expect(visitor.locator('[data-test=consult-phone] .van-field__error-message').innerText()).resolves.toBe('请填写正确的手机号');
    await visitor.fill('[data-test=consult-phone] input', '13800138000');
    await visitor.click('[data-test=consult-send]');
    await expect(visitor.locator('[data-test=consult-sent]').innerText()).resolves.toContain('已收到您的咨询');
    await screenshot(visitor, 'cloud-exhibition-consult-sent');

    const consults = await db.dataSource.query<{ detail: unknown }[]>("SELECT detail FROM interactions WHERE type = 'event_consult'");
    expect(consults).toHaveLength(1);
    expect(String(consults[0].detail)).toContain('想了解五轴加工中心的报价和交期');
  });

  async function codeOfFirstMaterial(): Promise<string> {
    const [row] = await db.dataSource.query<{ code: string }[]>('SELECT code FROM content_materials ORDER BY id LIMIT 1');
    return row.code;
  }
});
