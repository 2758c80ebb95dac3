import { type Browser, type Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * 订单 (issue 15 §7) and the sandbox panel's pay card (§8), in headless Chromium against the real
 * server on SQLite with the sandbox: a trial order paid from the panel, then refunded on the
 * orders screen, the refund's notification moving it to 已退款.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };

jest.setTimeout(150_000);

describe('the orders screen', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let outTradeNo = '';

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const s = stack.services;
    const created = await s.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    const followed = await stack.player().subscribe();
    await s.reactions.idle();
    const [row] = await db.dataSource.query<{ contact_id: number | string }[]>(
      'SELECT contact_id FROM contact_identities WHERE value = ?',
      [followed.openid],
    );
    const product = await s.payments.createProduct({ name: '一元体验', priceFen: 100, actor });
    const { order } = await s.payments.createJsapiOrder({
      contactId: Number(row.contact_id),
      openid: followed.openid,
      productId: product.id,
    });
    outTradeNo = order.outTradeNo;
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await stack?.sandbox.pay?.settled();
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('pays an order from the sandbox panel, then refunds it on the orders screen', async () => {
    await page.click('[data-test=menu-orders]');
    await page.locator(`[data-test=orders-table] [data-state=created]`).waitFor();

    await page.click('[data-test=menu-sandbox]');
    await fillInput(page, 'sandbox-pay-no', outTradeNo);
    await page.click('[data-test=sandbox-pay-order]');
    await page.locator('[data-test=sandbox-pay-status]', { hasText: '204' }).waitFor();
    await screenshot(page, 'orders-sandbox-paid');

    await page.click('[data-test=menu-orders]');
    await page.locator('[data-test=orders-table] [data-state=paid]').waitFor();
    await page.click('[data-test=order-refund]');
    const dialog = page.locator('.el-message-box');
    await dialog.waitFor();
    await dialog.locator('.el-button--primary').click();
    await page.locator('[data-test=orders-table] [data-state=refunding], [data-test=orders-table] [data-state=refunded]').first().waitFor();
    await stack.sandbox.pay?.settled();
    await page.click('[data-test=menu-orders]');
    await page.locator('[data-test=orders-table] [data-state=refunded]').waitFor();
    await expect(page.locator('[data-test=orders-table]').innerText()).resolves.toContain('已退款');
    await screenshot(page, 'orders-refunded');
  });

  it('adds a once-per-person product and shows the offer link to put in a push', async () => {
    await page.click('[data-test=menu-orders]');
    await page.click('[data-test=product-add]');
    await fillInput(page, 'product-name', '一元体验：新品试用');
    await page.click('[data-test=product-save]');
    const row = page.locator('[data-test=products-table] tr', { hasText: '一元体验：新品试用' });
    await row.waitFor();
    await expect(row.innerText()).resolves.toMatch(/¥1\.00[\s\S]*每人限购一次/);
    const [product] = await db.dataSource.query<{ id: number; price_fen: number; once_per_contact: number }[]>(
      "SELECT id, price_fen, once_per_contact FROM pay_products WHERE name = '一元体验：新品试用'",
    );
    expect(product).toMatchObject({ price_fen: 100, once_per_contact: 1 });
    await expect(row.locator('[data-test=product-offer-url]').innerText()).resolves.toBe(
      `${stack.config.publicBaseUrl}/e/offer/${product.id}`,
    );
    await screenshot(page, 'orders-products');
  });
});
