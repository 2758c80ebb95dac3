import { type Browser, type Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { toSqlDate } from '../../../server/db/sql';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The 分群 screen (issue 14 §2, §8), in headless Chromium against the real server on SQLite:
 * build a segment with a nested group, watch its live count follow the conditions, save it and
 * see its count in the list and its members.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };

jest.setTimeout(120_000);

describe('the segments screen', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;

  const countShown = () => page.locator('[data-test=segment-preview-count]');
  async function waitForCount(count: number): Promise<void> {
    await page.locator(`[data-test=segment-preview-count][data-count="${count}"]`).waitFor();
  }
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
    const group = await s.tagCatalog.createTagGroup({ name: '兴趣', actor });
    if (!group.ok) throw new Error('could not create the tag group');
    const coffee = await s.tagCatalog.createTag({ groupId: group.value.id, name: '咖啡', actor });
    if (!coffee.ok) throw new Error('could not create the tag');
    // Four followers; three like coffee, and one of those has an operator's phone number.
    const player = stack.player();
    for (let n = 0; n < 4; n += 1) await player.subscribe();
    await s.reactions.idle();
    const ids = (await db.dataSource.query<{ id: number }[]>('SELECT id FROM contacts ORDER BY id')).map((row) => Number(row.id));
    expect(ids).toHaveLength(4);
    const now = toSqlDate(stack.clock.now());
    for (const id of ids.slice(0, 3))
      await db.dataSource.query('INSERT INTO contact_tags (contact_id, tag_id, source, created_at) VALUES (?, ?, ?, ?)', [
        id,
        coffee.value.id,
        'operator:1',
        now,
      ]);
    await db.dataSource.query("UPDATE contacts SET phone = '13800001234' WHERE id = ?", [ids[0]]);

    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('builds a segment with a nested group, its live count following the conditions, and saves it with its count', async () => {
    await page.click('[data-test=menu-segments]');
    await page.waitForURL(/\/admin\/segments/);
    await page.click('[data-test=segment-new]');
    await fillInput(page, 'segment-name', '爱咖啡的人');

    // The first condition is a tag condition: choose 咖啡.
    await choose('[data-test="condition-tags-filter.conditions.0"]', '兴趣/咖啡');
    await page.keyboard.press('Escape');
    await waitForCount(3);
    await screenshot(page, 'segments-builder-one-condition');

    // A nested "any of" group: has a phone, or does not follow the Official Account.
    await page.click('[data-test="add-group-filter"]');
    const nested = 'filter.conditions.1';
    // Its first condition has no tag yet: the count waits, the refused field is named under it.
    await page.locator('[data-test=segment-preview]', { hasText: '条件还不完整' }).waitFor();
    await choose(`[data-test="condition-kind-${nested}.conditions.0"]`, '有手机号');
    await page.click(`[data-test="add-condition-${nested}"]`);
    await choose(`[data-test="condition-kind-${nested}.conditions.1"]`, '关注公众号');
    await page.locator(`[data-test="condition-${nested}.conditions.1"] .el-switch`).click();
    await waitForCount(1);
    await expect(countShown().innerText()).resolves.toBe('预计 1 位客户');
    await screenshot(page, 'segments-builder-nested');

    // "All of" → "any of" at the top: three coffee lovers, or the phone one.
    await page.locator('[data-test="group-kind-filter"] .el-radio-button', { hasText: '满足任一条件' }).click();
    await waitForCount(3);

    await page.click('[data-test=segment-save]');
    const row = page.locator('[data-test=segments-table] .segment-row', { hasText: '爱咖啡的人' });
    await row.waitFor();
    await expect(row.locator('[data-test=segment-count-cell]').innerText()).resolves.toBe('3');
    await screenshot(page, 'segments-list');

    await row.locator('[data-test=segment-members]').click();
    await page.locator('[data-test=segment-members-table] .el-table__row').nth(2).waitFor();
    await expect(page.locator('[data-test=segment-members-table] .el-table__row').count()).resolves.toBe(3);
    await screenshot(page, 'segments-members');
  });
});
