import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { encodeGbk } from '../../support/gbk';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * 导入线索 (issue 15 §3) in headless Chromium against the real server on SQLite: an operator
 * uploads a GBK file as Excel saves it, with one bad row, and reads the report: the counts, the
 * bad row's number and reason, the link to the refused rows' CSV; the new contacts are listed.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };

jest.setTimeout(180_000);

describe('the lead import dialog', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const created = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-import-'));
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a GBK file with a bad row and shows the report', async () => {
    const file = path.join(dir, '展会线索.csv');
    fs.writeFileSync(
      file,
      encodeGbk('姓名,手机号,公司\r\n张三,138 1234 5678,上海机床厂\r\n李四,12345,苏州精工\r\n王五,+86 139-0000-1111,无锡电气\r\n'),
    );
    await page.click('[data-test=menu-contacts]');
    await page.waitForURL(/\/admin\/contacts/);
    await page.click('[data-test=import-open]');
    await page.locator('[data-test=import-dialog]').waitFor();
    await page.setInputFiles('[data-test=import-file]', file);
    await fillInput(page, 'import-tags', '展会:2026上海工业展');
    await page.click('[data-test=import-submit]');

    const summary = page.locator('[data-test=import-summary]');
    await summary.waitFor();
    expect(await summary.innerText()).toContain('共 3 行：新建 2 位，更新 0 位，拒绝 1 行，文件内重复 0 行');
    const refused = page.locator('[data-test=import-refused] .el-table__row');
    expect(await refused.count()).toBe(1);
    const cells = await refused.first().locator('td').allInnerTexts();
    expect(cells[0]).toBe('3');
    expect(cells[1]).toBe('phone_invalid');
    expect(cells[2]).toContain('手机号格式不正确');
    expect(await page.locator('[data-test=import-refused-csv]').getAttribute('href')).toMatch(/^\/api\/admin\/imports\/\d+\/refused\.csv$/);
    await screenshot(page, 'import-leads-report');

    // The list behind the dialog was loaded again: the two new contacts are there, tagged.
    await page.keyboard.press('Escape');
    await page.locator('.contact-row', { hasText: '张三' }).waitFor();
    await page.locator('.contact-row .el-tag', { hasText: '2026上海工业展' }).first().waitFor();
  });
});
