import { type Browser, type Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot, PHONE } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The 内容中心 screen (issue 15 §1b), in headless Chromium against the real server on SQLite: upload
 * an image material and see it listed with its file; take its tracked link for a channel; open
 * that link on a phone-sized page, leave it after a few (fake-clock) seconds, and see the view
 * counted with its read time from the page's own beacon.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };
/** A 1×1 PNG. */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082',
  'hex',
);

jest.setTimeout(180_000);

describe('the content centre screen', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let channelId: number;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT, platformTimeoutMs: 15_000 });
    const s = stack.services;
    const created = await s.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    const channel = await s.channels.createChannel({ name: '朋友圈海报', kind: 'h5', actor });
    if (!channel.ok) throw new Error('could not create the channel');
    channelId = channel.value.id;
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('uploads an image material and lists it with its file, then copies its tracked link for a channel', async () => {
    await page.click('[data-test=menu-content]');
    await page.waitForURL(/\/admin\/content/);
    await page.click('[data-test=content-new]');
    await page.click('[data-test=content-kind-image]');
    await fillInput(page, 'content-title-input', '展位平面图');
    await page.setInputFiles('[data-test=content-file]', { name: '展位图.png', mimeType: 'image/png', buffer: PNG });
    await screenshot(page, 'content-create-dialog');
    await page.click('[data-test=content-save]');

    const row = page.locator('.content-row', { hasText: '展位平面图' });
    await row.waitFor();
    await row.locator('[data-test=content-file-info]', { hasText: '展位图.png' }).waitFor();
    const stored = await db.dataSource.query<{ file_type: string; file_size: number | string }[]>(
      'SELECT file_type, file_size FROM content_materials',
    );
    expect(stored.map((r) => [r.file_type, Number(r.file_size)])).toEqual([['image/png', PNG.length]]);
    await screenshot(page, 'content-list');

    await row.locator('[data-test=content-share]').click();
    await page.locator('[data-test=content-share-dialog]').waitFor();
    await page.click('[data-test=content-share-channel]');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '朋友圈海报' }).first().click();
    const link = await page.locator('input[data-test=content-link], [data-test=content-link] input').inputValue();
    expect(link).toMatch(new RegExp(`/c/[A-Za-z0-9_-]{12}\\?ch=${channelId}$`));
    await screenshot(page, 'content-share-dialog');
    await page.keyboard.press('Escape');
  });

  it("opens the link on a phone, and the page's beacon brings the read time to the list", async () => {
    const [{ code }] = await db.dataSource.query<{ code: string }[]>('SELECT code FROM content_materials');
    const reader = await (await browser.newContext({ locale: 'zh-CN', viewport: PHONE })).newPage();
    // The page counts visible time with Date.now: a fake clock, paused, moves it only when told
    // (a running one would add the real seconds the page took to load on a busy machine).
    await reader.clock.install({ time: new Date('2026-12-07T02:00:00.000Z') });
    await reader.clock.pauseAt(new Date('2026-12-07T02:00:01.000Z'));
    await reader.goto(`${stack.baseUrl}/c/${code}?ch=${channelId}`);
    await reader.locator('img.full').waitFor();
    expect(await reader.evaluate('document.documentElement.lang')).toBe('zh-CN');
    await screenshot(reader, 'content-page-phone');
    await reader.clock.fastForward(12_000);
    // Leaving the page (pagehide) sends the last beacon.
    await reader.goto('about:blank');
    await reader.context().close();

    const views = async () =>
      db.dataSource.query<{ channel_id: number | string | null; read_seconds: number | string }[]>(
        'SELECT channel_id, read_seconds FROM content_views',
      );
    for (let i = 0; i < 100 && Number((await views())[0]?.read_seconds ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const [view] = await views();
    expect(Number(view.channel_id)).toBe(channelId);
    expect(Number(view.read_seconds)).toBe(12);

    await page.reload();
    const row = page.locator('.content-row', { hasText: '展位平面图' });
    await row.locator('[data-test=content-views]', { hasText: '1' }).waitFor();
    await row.locator('[data-test=content-avg-read]', { hasText: '12 秒' }).waitFor();
    await screenshot(page, 'content-list-read');
  });

  it('fits a phone: the list scrolls inside its box and the create dialog keeps its buttons in view', async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${stack.baseUrl}/admin/content`);
    await page.locator('[data-test=content-table]').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    await page.click('[data-test=content-new]');
    const dialog = page.locator('.el-dialog:visible');
    await dialog.waitFor();
    const save = page.locator('[data-test=content-save]');
    await save.waitFor({ state: 'visible' });
    const box = await dialog.boundingBox();
    expect(box !== null && box.x >= 0 && box.x + box.width <= PHONE.width).toBe(true);
    const saveBox = await save.boundingBox();
    expect(saveBox !== null && saveBox.y + saveBox.height <= PHONE.height).toBe(true);
    await screenshot(page, 'phone-content-dialog');
  });
});
