import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Contact } from '../../../entities/contact.entity';
import { launchChromium, screenshot, signIn } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The dashboard and the page's language in headless Chromium against the real server on SQLite
 * in sandbox mode, installed with ADMIN_LOCALE=en (issue 13 §5 and §6).
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const LONG_TAG = '二〇二六年上海国际展览会现场扫码报名并领取资料的意向客户';

jest.setTimeout(120_000);

describe('the dashboard and the page language in a browser', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const shot = (name: string) => screenshot(page, `dashboard-${name}`);
  const lang = () => page.evaluate<string>('document.documentElement.lang');
  const figure = async (key: string) => Number(await page.locator(`[data-test=headline-${key}]`).getAttribute('data-value'));
  const openDashboard = async () => {
    await page.goto(`${stack.baseUrl}/admin/dashboard`);
    await page.locator('[data-test=dashboard-empty], [data-test=headline-contacts]').first().waitFor();
  };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, { ADMIN_LOCALE: 'en' }, { adminWebRoot: ADMIN_WEB_ROOT });
    const created = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor: { operatorId: null, ip: null } });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    browser = await launchChromium();
    // A browser set to Chinese, with nothing stored: the installation's language decides.
    context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('a fresh browser shows the language of ADMIN_LOCALE, and <html lang> follows every switch', async () => {
    await page.goto(`${stack.baseUrl}/admin/`);
    await page.waitForURL(/\/admin\/login/);
    await page.locator('text=Sign in to Flywheel').waitFor();
    expect(await lang()).toBe('en');
    await shot('login-en');

    await page.selectOption('[data-test=locale-switch]', 'zh-CN');
    await page.locator('text=登录 Flywheel').waitFor();
    expect(await lang()).toBe('zh-CN');
    // The operator's choice outlives a reload, over the installation's default.
    await page.reload();
    await page.locator('text=登录 Flywheel').waitFor();
    expect(await lang()).toBe('zh-CN');

    await page.selectOption('[data-test=locale-switch]', 'en');
    await page.locator('text=Sign in to Flywheel').waitFor();
    expect(await lang()).toBe('en');
    await page.selectOption('[data-test=locale-switch]', 'zh-CN');
    await page.locator('text=登录 Flywheel').waitFor();

    await signIn(page, ADMIN.username, ADMIN.password);
    await page.waitForURL(/\/admin\/dashboard/);
    expect(await lang()).toBe('zh-CN');
  });

  it('the empty dashboard says what to do first: platform setup or the sandbox', async () => {
    await openDashboard();
    const empty = page.locator('[data-test=dashboard-empty]');
    await expect(empty.innerText()).resolves.toContain('还没有客户数据');
    await expect(page.locator('[data-test=dashboard-empty-setup]').innerText()).resolves.toContain('去接入配置');
    await expect(page.locator('[data-test=dashboard-empty-sandbox]').innerText()).resolves.toContain('沙箱');
    await shot('empty');
    await page.click('[data-test=dashboard-empty-setup]');
    await page.waitForURL(/\/admin\/setup$/);
    await page.goBack();
    await page.locator('[data-test=dashboard-empty-sandbox]').click();
    await page.waitForURL(/\/admin\/sandbox$/);
  });

  it('a follower of a minute ago counts as new and active, not silent', async () => {
    await stack.player().subscribe({});
    await stack.services.reactions.idle();
    await openDashboard();
    expect(await figure('contacts')).toBe(1);
    expect(await figure('newToday')).toBe(1);
    expect(await figure('new7d')).toBe(1);
    expect(await figure('active7d')).toBe(1);
    expect(await figure('silent')).toBe(0);
    // Against yesterday's 0: +1.
    await expect(page.locator('[data-test=headline-newToday]').getAttribute('data-change')).resolves.toBe('1');
    await expect(page.locator('[data-test=headline-newToday]').innerText()).resolves.toContain('+1 较昨日');
  });

  it('draws the funnel cumulatively (no bow tie), zero stages as bars, and legends in words, not codes', async () => {
    // More activated than only acquired, the case that drew a bow tie: 2 acquired, 3 activated.
    for (const scene of ['expo2026', 'expo2026', 'poster', 'poster']) await stack.player().subscribe({ scene });
    await stack.services.reactions.idle();
    const contacts = await db.dataSource.getRepository(Contact).find({ order: { id: 'ASC' } });
    expect(contacts).toHaveLength(5);
    await db.dataSource.query(
      `UPDATE contacts SET stage = 'activated' WHERE id IN (?, ?, ?)`,
      contacts.slice(0, 3).map((c) => c.id),
    );
    await stack.services.statCounters.recount('contacts.stage');

    await openDashboard();
    const rows = page.locator('[data-test=chart-funnel] [data-test=bar-row]');
    await expect(rows.count()).resolves.toBe(5);
    const reached: number[] = [];
    for (let i = 0; i < 5; i += 1) reached.push(Number(await rows.nth(i).getAttribute('data-value')));
    expect(reached).toEqual([5, 3, 0, 0, 0]);
    // Each stage's bar is no wider than the one before; a zero is a row with its bar, not a floating label.
    const widths: number[] = [];
    for (let i = 0; i < 5; i += 1) widths.push((await rows.nth(i).locator('[data-test=bar]').boundingBox())?.width ?? -1);
    for (let i = 1; i < widths.length; i += 1) expect(widths[i]).toBeLessThanOrEqual(widths[i - 1]);
    expect(widths[2]).toBe(0);
    await expect(rows.nth(2).innerText()).resolves.toContain('留存');

    const legend = await page.locator('[data-test=chart-new-contacts] [data-test=legend-item]').allInnerTexts();
    expect(legend.sort()).toEqual(['expo2026', 'poster', '公众号（无渠道码）'].sort());
    const channels = await page.locator('[data-test=chart-interactions] [data-test=legend-item]').allInnerTexts();
    expect(channels).toEqual(['公众号']);
    await shot('charts');
  });

  it('cuts a long tag name in the chart and shows it whole on hover', async () => {
    const [contact] = await db.dataSource.getRepository(Contact).find({ order: { id: 'ASC' }, take: 1 });
    await stack.services.transactor.run(async (m) => {
      const tag = await stack.services.contactTags.ensureTag(m, { group: '展会', name: LONG_TAG });
      await stack.services.contactTags.applyTags(m, {
        contactId: contact.id,
        add: [tag],
        remove: [],
        actor: { kind: 'system' },
        cause: 'manual',
      });
    });
    await openDashboard();
    const row = page.locator('[data-test=chart-top-tags] [data-test=bar-row]', { has: page.locator(`[title="展会/${LONG_TAG}"]`) });
    const label = row.locator('[data-test=bar-label]');
    await expect(label.getAttribute('title')).resolves.toBe(`展会/${LONG_TAG}`);
    // (A string: the test's tsconfig has no DOM types; this runs in the page.)
    const cut = await page.evaluate<boolean>(`(() => {
      const label = document.querySelector('[data-test=chart-top-tags] [data-test=bar-label][title="展会/${LONG_TAG}"]');
      return label.scrollWidth > label.clientWidth;
    })()`);
    expect(cut).toBe(true);
    // The bar keeps its room beside the label.
    const bar = await row.locator('[data-test=bar-track]').boundingBox();
    const card = await page.locator('[data-test=chart-top-tags]').boundingBox();
    expect(bar?.width ?? 0).toBeGreaterThan((card?.width ?? 0) / 3);
    await label.hover();
    await shot('long-tag');
  });
});
