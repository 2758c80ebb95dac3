import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, screenshot, newPhonePage } from '../../support/browser';
import { MOBILE_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { recordFollower } from '../../support/followers';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The offer page (/e/offer/:productId, the trial offer 一元体验) at a phone's size in headless
 * Chromium against the real server on SQLite: a follower web OAuth identified pays through the
 * sandbox's stand-in for WeChat's bridge (loaded because the real one is missing), and the page
 * shows 支付成功 only once WeChat Pay's signed notification made the order paid; a second try says
 * once per person; a visitor outside WeChat is told to open the page in WeChat.
 */

jest.setTimeout(180_000);

describe('the offer page at phone size', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let productId: number;
  /** The contact the visitor hook names: web OAuth's, or null outside WeChat. */
  let visitor: number | null = null;
  const contexts: BrowserContext[] = [];

  const newVisitor = (): Promise<Page> => newPhonePage(browser, contexts);

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(
      db,
      {},
      { mobileWebRoot: MOBILE_WEB_ROOT, platformTimeoutMs: 15_000, identifyVisitor: () => Promise.resolve(visitor) },
    );
    const product = await stack.services.payments.createProduct({
      name: '一元体验：智能工厂诊断',
      priceFen: 100,
      oncePerContact: true,
      actor: { operatorId: null, ip: null },
    });
    productId = product.id;
    visitor = (await recordFollower(stack)).contactId;
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await stack?.sandbox.pay?.settled();
    await stack?.close();
    await db?.destroy();
  });

  it('pays inside "WeChat", shows 支付成功 when the order is paid, then says once per person', async () => {
    const page = await newVisitor();
    await page.goto(`${stack.baseUrl}/e/offer/${productId}`);
    await page.locator('[data-test=offer-name]').waitFor();
    expect(await page.textContent('[data-test=offer-name]')).toBe('一元体验：智能工厂诊断');
    expect((await page.textContent('[data-test=offer-price]'))?.trim()).toBe('¥1.00');
    expect(await page.textContent('[data-test=offer-page]')).toContain('每人限购一次');
    await screenshot(page, 'offer-page');

    await page.click('[data-test=offer-pay]');
    await page.locator('[data-test=offer-paid]').waitFor();
    expect(await page.textContent('[data-test=offer-paid]')).toContain('支付成功');
    const [order] = await db.dataSource.query<{ state: string; amount_fen: number }[]>('SELECT state, amount_fen FROM pay_orders');
    expect(order).toMatchObject({ state: 'paid', amount_fen: 100 });
    await screenshot(page, 'offer-page-paid');

    await page.reload();
    await page.click('[data-test=offer-pay]');
    expect(await page.locator('[data-test=offer-error]').textContent()).toBe('该优惠每人限购一次，您已购买过');
  });

  it('tells a visitor outside WeChat to open the page in WeChat, and an unknown offer that it is gone', async () => {
    visitor = null;
    const page = await newVisitor();
    await page.goto(`${stack.baseUrl}/e/offer/${productId}`);
    await page.click('[data-test=offer-pay]');
    expect(await page.locator('[data-test=offer-error]').textContent()).toBe('请在微信中打开本页面完成支付');
    await page.goto(`${stack.baseUrl}/e/offer/999999`);
    expect(await page.locator('[data-test=offer-missing]').textContent()).toContain('该优惠不存在或已结束');
  });
});
