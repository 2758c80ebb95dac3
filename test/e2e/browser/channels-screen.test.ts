import { type Browser, type Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot, PHONE, waitForPage } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The 渠道活码 screen (issue 15 §1), in headless Chromium against the real server on SQLite: create
 * an Official Account code with a tag, a welcome and the trial offer, see its QR image, play a scan through the
 * sandbox and see the scan and the new customer counted; then the list and the dialog at phone width.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };

jest.setTimeout(180_000);

describe('the channel codes screen', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT, platformTimeoutMs: 15_000 });
    const s = stack.services;
    const created = await s.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    const group = await s.tagCatalog.createTagGroup({ name: '渠道', actor });
    if (!group.ok) throw new Error('could not create the tag group');
    const tag = await s.tagCatalog.createTag({ groupId: group.value.id, name: '展会2026', actor });
    if (!tag.ok) throw new Error('could not create the tag');
    // The trial offer (一元体验) a welcome can carry.
    await s.payments.createProduct({ name: '一元体验', priceFen: 100, actor });
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('creates an Official Account code, shows its QR image, and counts a scan through it', async () => {
    await page.click('[data-test=menu-channels]');
    await page.waitForURL(/\/admin\/channels/);
    await page.click('[data-test=channel-new]');
    await fillInput(page, 'channel-name', '展会海报');
    await page.click('[data-test=channel-tags]');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '展会2026' }).first().click();
    await page.keyboard.press('Escape');
    await page.fill('textarea[data-test=channel-welcome], [data-test=channel-welcome] textarea', '欢迎来到展会！');
    await page.click('[data-test=channel-offer]');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '一元体验 ¥1.00' }).first().click();
    await screenshot(page, 'channels-create-dialog');
    await page.click('[data-test=channel-save]');

    // The new code opens in the preview, its PNG drawn from the platform's showqrcode.
    const image = page.locator('[data-test=channel-qr-image]');
    await image.waitFor();
    await waitForPage(
      page,
      `(() => { const img = document.querySelector('[data-test=channel-qr-image]'); return img && img.complete && img.naturalWidth > 0; })()`,
    );
    expect(await page.locator('[data-test=channel-download]').getAttribute('href')).toMatch(/^\/api\/admin\/channels\/\d+\/qr\.png$/);
    await screenshot(page, 'channels-qr-preview');
    await page.keyboard.press('Escape');

    const rows = await db.dataSource.query<{ id: number | string; scene: string }[]>('SELECT id, scene FROM channels');
    expect(rows).toHaveLength(1);

    // The sandbox panel plays a scan of the code: a follow through it, answered with the welcome.
    await page.click('[data-test=menu-sandbox]');
    await page.waitForURL(/\/admin\/sandbox/);
    await page.click('[data-test=sandbox-action-scan_channel]');
    await fillInput(page, 'sandbox-scene', rows[0]?.scene ?? '');
    await page.click('[data-test=sandbox-play]');
    await page.locator('[data-test=sandbox-reply] >> text=欢迎来到展会！').waitFor();
    // The welcome carries the trial offer's link.
    await page.locator('[data-test=sandbox-reply]', { hasText: '一元体验：' }).waitFor();
    expect(await page.locator('[data-test=sandbox-reply]').innerText()).toMatch(/一元体验：http\S+\/e\/offer\/\d+/);
    await screenshot(page, 'channels-sandbox-scan');
    await stack.services.reactions.idle();
    await page.click('[data-test=menu-channels]');
    await page.waitForURL(/\/admin\/channels/);
    await page.reload();
    await page.locator('[data-test=channel-scans]', { hasText: '1' }).first().waitFor();
    await page.locator('.channel-row .el-tag', { hasText: '展会2026' }).waitFor();
    await screenshot(page, 'channels-list');
  });

  it('fits a phone: the list scrolls inside its box and the create dialog keeps its buttons in view', async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${stack.baseUrl}/admin/channels`);
    await page.locator('[data-test=channels-table]').waitFor();
    const width = await page.evaluate('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(PHONE.width);
    await page.click('[data-test=channel-new]');
    const dialog = page.locator('.el-dialog:visible');
    await dialog.waitFor();
    const save = page.locator('[data-test=channel-save]');
    await save.waitFor({ state: 'visible' });
    const box = await dialog.boundingBox();
    expect(box !== null && box.x >= 0 && box.x + box.width <= PHONE.width).toBe(true);
    const saveBox = await save.boundingBox();
    expect(saveBox !== null && saveBox.y + saveBox.height <= PHONE.height).toBe(true);
    await screenshot(page, 'phone-channels-dialog');
  });
});
