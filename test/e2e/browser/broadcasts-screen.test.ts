import { type Browser, type Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The 推送设置, 模板库 and 群发 screens (issue 14 §8), in headless Chromium against the real server
 * on SQLite with the sandbox platform: quiet hours turned off and a cap changed on the settings
 * screen, the template library synced from the sandbox with its field checks, and a broadcast to
 * a segment with its preview card, its progress reaching done and its counts.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };
const FOLLOWERS = 3;

jest.setTimeout(150_000);

describe('the delivery screens', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;

  async function choose(select: string, option: string): Promise<void> {
    await page.click(select);
    await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click();
  }

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const s = stack.services;
    const created = await s.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    const player = stack.player();
    for (let n = 0; n < FOLLOWERS; n += 1) await player.subscribe();
    await s.reactions.idle();
    const segment = await s.segments.createSegment({
      name: '公众号粉丝',
      filter: { kind: 'and', conditions: [{ kind: 'followsOa', value: true }] },
      actor,
    });
    if (!segment.ok) throw new Error('could not create the segment');
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('reads and saves quiet hours and frequency caps', async () => {
    await page.click('[data-test=menu-delivery-settings]');
    await page.locator('[data-test=delivery-form]').waitFor();
    // The environment's defaults: quiet 22:00–08:00, three a day per channel.
    await expect(page.locator('[data-test=quiet-on]').getAttribute('class')).resolves.toContain('is-checked');
    await expect(page.inputValue('input[data-test=cap-count-sms], [data-test=cap-count-sms] input')).resolves.toBe('3');
    await screenshot(page, 'delivery-settings');
    await page.click('[data-test=quiet-on]');
    await page.fill('input[data-test=cap-count-sms], [data-test=cap-count-sms] input', '1');
    await page.click('[data-test=delivery-save]');
    await page.locator('.el-message', { hasText: '推送设置已保存' }).waitFor();
    const saved = await stack.services.deliverySettings.readSettings();
    expect(saved.quietHours).toBeNull();
    expect(saved.frequencyCaps.sms).toEqual({ count: 1, hours: 24 });
    await page.reload();
    await page.locator('[data-test=delivery-form]').waitFor();
    await expect(page.locator('[data-test=quiet-on]').getAttribute('class')).resolves.not.toContain('is-checked');
  });

  it("lists the template library synced from WeChat and checks a field against WeChat's rules", async () => {
    await page.click('[data-test=menu-templates]');
    const rows = page.locator('[data-test=templates-table] .template-row');
    await rows.first().waitFor();
    await expect(rows.count()).resolves.toBeGreaterThanOrEqual(2);
    await rows.filter({ hasText: '优惠券到账提醒' }).locator('[data-test=template-try]').click();
    await page.locator('[data-test=template-preview-title]', { hasText: '优惠券到账提醒' }).waitFor();
    // A thing over 20 characters is refused under its field, and the card shows what was typed.
    await page.fill(
      'input[data-test=template-input-thing1], [data-test=template-input-thing1] input',
      '这是一个超过二十个字的活动名称用来检查字段规则是否生效',
    );
    await page.locator('[data-test=template-field-thing1] .el-form-item__error', { hasText: '不能超过 20 个字' }).waitFor();
    await page.locator('[data-test=template-preview]', { hasText: '这是一个超过二十个字的活动名称' }).waitFor();
    await screenshot(page, 'templates-try');
    await page.fill('input[data-test=template-input-thing1], [data-test=template-input-thing1] input', '老朋友回归礼');
    await expect(
      page.locator('[data-test=template-field-thing1] .el-form-item__error').waitFor({ state: 'detached', timeout: 5_000 }),
    ).resolves.toBeUndefined();
    await page.keyboard.press('Escape');
  });

  it('creates a broadcast to a segment, previews it as a follower sees it, and its progress reaches done', async () => {
    await page.click('[data-test=menu-broadcasts]');
    await page.locator('[data-test=broadcasts-table]').waitFor();
    await page.click('[data-test=broadcast-new]');
    await fillInput(page, 'broadcast-name', '双十二老客回馈');
    await choose('[data-test=broadcast-segment]', '公众号粉丝');
    await choose('[data-test=broadcast-template]', '优惠券到账提醒');
    await page.fill('input[data-test=template-input-thing1], [data-test=template-input-thing1] input', '双十二老客回馈');
    await page.fill('input[data-test=broadcast-url], [data-test=broadcast-url] input', 'https://example.com/d12');
    const preview = page.locator('[data-test=template-preview]');
    await preview.filter({ hasText: '双十二老客回馈' }).waitFor();
    await expect(preview.innerText()).resolves.toContain('查看详情');
    await screenshot(page, 'broadcasts-create-preview');
    await page.locator('[data-test=broadcast-save]:not([disabled])').waitFor();
    await page.click('[data-test=broadcast-save]');
    const row = page.locator('[data-test=broadcasts-table] .broadcast-row', { hasText: '双十二老客回馈' });
    await row.waitFor();
    await expect(row.innerText()).resolves.toContain('公众号粉丝');

    // The jobs run when the sandbox clock moves (as `npm start`'s scheduler fires them every few
    // seconds): the first fire expands the audience and sends, the next one finds nothing queued and
    // closes the broadcast (the broadcasts job runs before the sender in a fire).
    const skip = async () => {
      const answer = await fetch(`${stack.baseUrl}/sandbox/control/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ advanceSeconds: 5 }),
      });
      expect(answer.status).toBe(200);
    };
    await skip();
    await row.locator('[data-test=broadcast-counts]', { hasText: `成功 ${FOLLOWERS}` }).waitFor({ timeout: 15_000 });
    await expect(row.locator('.el-progress__text').innerText()).resolves.toBe('100%');
    await skip();
    await row.locator('[data-test=broadcast-status][data-status=done]').waitFor({ timeout: 15_000 });
    await expect(row.locator('[data-test=broadcast-counts]').innerText()).resolves.toBe(
      `共 ${FOLLOWERS}：排队 0，成功 ${FOLLOWERS}，失败 0，跳过 0`,
    );
    await row.locator('[data-test=broadcast-detail]').click();
    await page.locator('[data-test=broadcast-detail-counts]').waitFor();
    await screenshot(page, 'broadcasts-done');
    // Each follower got exactly one message, counted from the sandbox's record.
    const perFollower = [...stack.sandbox.state.messages.countByOpenid().values()];
    expect(perFollower).toEqual(Array.from({ length: FOLLOWERS }, () => 1));
  });
});
