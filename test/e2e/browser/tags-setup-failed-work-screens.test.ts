import { type Browser, type Page } from 'playwright-core';
import { Task } from '../../../entities/task.entity';
import { fillInput, launchChromium, openSignedIn, screenshot, signIn } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The tags, failed-work and setup screens in headless Chromium against the real server on SQLite
 * in sandbox mode (test/support/browser.ts).
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const INVALID_TAG = 'tags/members/batchtagging failed with errcode 45159 (invalid tag id): invalid tagid';

jest.setTimeout(90_000);

describe('the tags, failed-work and setup screens in a browser', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;

  const url = (p: string) => `${stack.baseUrl}/admin${p}`;
  const shot = (name: string) => screenshot(page, name);
  const fill = (testId: string, value: string) => fillInput(page, testId, value);

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const created = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor: { operatorId: null, ip: null } });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('creates a tag group and a tag, and lists the tag with sync state none on both platforms', async () => {
    await page.click('[data-test=menu-tags]');
    await page.waitForURL(/\/admin\/tags/);
    await page.locator('[data-test=tags-empty]').waitFor();

    await page.click('[data-test=group-new]');
    await fill('group-name', '展会');
    await page.click('[data-test=tag-form-save]');
    const group = page.locator('[data-test=tag-group][data-group="展会"]');
    await group.waitFor();

    await group.locator('[data-test=group-add-tag]').click();
    await fill('tag-name-input', 'expo2026');
    await page.click('[data-test=tag-form-save]');
    const tagRow = group.locator('tr', { has: page.locator('[data-test=tag-name][data-tag="expo2026"]') });
    await tagRow.waitFor();
    await expect(tagRow.locator('[data-test=sync-oa]').getAttribute('data-state')).resolves.toBe('none');
    await expect(tagRow.locator('[data-test=sync-wecom]').getAttribute('data-state')).resolves.toBe('none');
    await expect(tagRow.locator('[data-test=sync-oa]').innerText()).resolves.toContain('未同步');

    // The same name again: the API's conflict is shown next to the name field.
    await group.locator('[data-test=group-add-tag]').click();
    await fill('tag-name-input', 'expo2026');
    await page.click('[data-test=tag-form-save]');
    await expect(page.locator('[data-test=tag-name-item] .el-form-item__error').innerText()).resolves.toContain('名称已被使用');
    await shot('tags-setup-failed-work-tags-duplicate-name');
    await page.keyboard.press('Escape');
    await page.locator('[data-test=tag-form]').waitFor({ state: 'hidden' });

    const groups = await stack.services.tagCatalog.listTagGroups();
    expect(groups).toEqual([expect.objectContaining({ name: '展会', syncOa: true, syncWecom: true, tagCount: 1 })]);
    await shot('tags-setup-failed-work-tags');
  });

  it('shows the sandbox callback URLs and a successful check', async () => {
    await page.click('[data-test=menu-setup]');
    await page.waitForURL(/\/admin\/setup/);
    const oa = page.locator('[data-test=setup-platform][data-key=oa]');
    const wecom = page.locator('[data-test=setup-platform][data-key=wecom]');
    await oa.waitFor();
    await expect(oa.locator('[data-test=setup-callback-url]').innerText()).resolves.toBe(`${stack.config.publicBaseUrl}/wechat/callback`);
    await expect(wecom.locator('[data-test=setup-callback-url]').innerText()).resolves.toBe(`${stack.config.publicBaseUrl}/wecom/callback`);
    for (const platform of [oa, wecom]) {
      await expect(platform.locator('[data-test=setup-mode]').getAttribute('data-mode')).resolves.toBe('sandbox');
      await expect(platform.locator('[data-test=setup-tokenSet]').innerText()).resolves.toBe('已配置');
    }

    await page.click('[data-test=setup-check]');
    for (const platform of [oa, wecom]) {
      const result = platform.locator('[data-test=setup-check-result]');
      await result.waitFor();
      await expect(result.getAttribute('data-ok')).resolves.toBe('true');
      await expect(result.locator('[data-test=setup-token]').getAttribute('data-fresh')).resolves.toBe('true');
    }
    await shot('tags-setup-failed-work-setup-checked');

    // The sidebar's part: what WeCom's API tells about the app and each rep (the sandbox's console settings).
    for (const [username, wecomUserId] of [
      ['rep-li', 'LiLei'],
      ['rep-wang', 'WangFang'],
    ]) {
      const rep = await stack.services.operators.createOperator({
        username,
        password: 'rep-password-123',
        role: 'sales',
        wecomUserId,
        actor: { operatorId: null, ip: null },
      });
      if (!rep.ok) throw new Error(rep.reason);
    }
    const app = stack.sandbox.state.wecomApp;
    app.settings = { ...app.settings, visibleUserIds: ['LiLei'], followUserIds: ['LiLei'], redirectDomain: 'elsewhere.example.com' };
    const card = page.locator('[data-test=setup-sidebar]');
    await card.locator('[data-test=setup-sidebar-check]').click();
    await expect(card.locator('[data-test=setup-sidebar-url]').innerText()).resolves.toBe(`${stack.config.publicBaseUrl}/sidebar/`);
    await expect(card.locator('[data-test=setup-sidebar-app]').getAttribute('data-ok')).resolves.toBe('true');
    // A trusted domain that is not this site's: OAuth and the JS-SDK would fail, and the screen says what it should be.
    const expectedHost = new URL(stack.config.publicBaseUrl).host;
    await expect(card.locator('[data-test=setup-sidebar-domain]').innerText()).resolves.toBe(`应为 ${expectedHost}`);
    const rows = card.locator('[data-test=setup-sidebar-reps] .el-table__row');
    await expect(rows.filter({ hasText: 'LiLei' }).locator('[data-test=setup-sidebar-rep-visible]').innerText()).resolves.toBe('正常');
    await expect(rows.filter({ hasText: 'WangFang' }).locator('[data-test=setup-sidebar-rep-visible]').innerText()).resolves.toBe('否');
    // Sandbox mode: each rep has a "try the sidebar" link, on the customer typed in.
    await fillInput(page, 'setup-sidebar-customer', 'wmCustomer01');
    const preview = rows.filter({ hasText: 'LiLei' }).locator('[data-test=setup-sidebar-preview]');
    expect(await preview.getAttribute('href')).toMatch(/^\/api\/admin\/sandbox\/sidebar\?userid=LiLei&externalUserId=wmCustomer01$/);
    await shot('tags-setup-failed-work-setup-sidebar');

    // Without the customer-contact permission (48002) the screen names the console setting to change.
    app.settings = { ...app.settings, customerContact: false, redirectDomain: expectedHost };
    await card.locator('[data-test=setup-sidebar-check]').click();
    await card.locator('[data-test=setup-sidebar-contact][data-ok=false]').waitFor();
    await expect(card.locator('[data-test=setup-sidebar-contact]').innerText()).resolves.toContain('客户联系');
    await expect(card.locator('[data-test=setup-sidebar-domain]').innerText()).resolves.toBe('正常');
  });

  it('lists failed sync tasks with the errcode meaning, retries one and then the selected, and they leave the list', async () => {
    // Tasks of a kind no worker handles, failed for good with a platform error: they stay put once retried.
    const queue = stack.services.queue;
    const ids: number[] = [];
    for (const n of [1, 2, 3]) {
      await queue.enqueue({ kind: 'browser-test-sync', dedupeKey: `browser-test:${n}`, payload: {} });
      const claimed = await queue.claim({ kinds: ['browser-test-sync'], limit: 1 });
      const task = claimed?.tasks[0];
      if (!claimed || !task) throw new Error('the task was not claimed');
      await queue.fail(claimed.claim, task.id, INVALID_TAG, { retryable: false });
      ids.push(task.id);
    }
    const rowOf = (id: number) =>
      page.locator('[data-test=failed-table] tr', { has: page.locator(`[data-test=failed-row][data-id="${id}"]`) });
    const [first = 0, ...rest] = ids;

    await page.click('[data-test=menu-failed-work]');
    await page.waitForURL(/\/admin\/failed-work/);
    const row = rowOf(first);
    await row.waitFor();
    // The errcode as a sentence; the raw platform text only behind 详情.
    await expect(row.locator('[data-test=failed-errcode]').innerText()).resolves.toBe('公众号里没有这个标签（标签 ID 无效）');
    await expect(row.locator('[data-test=failed-last-error]').count()).resolves.toBe(0);
    await row.locator('[data-test=failed-details]').click();
    await expect(row.locator('[data-test=failed-last-error]').innerText()).resolves.toBe(INVALID_TAG);
    await shot('tags-setup-failed-work-failed-work');

    await row.locator('[data-test=failed-retry]').click();
    await row.waitFor({ state: 'detached' });
    await expect(db.dataSource.getRepository(Task).findOneByOrFail({ id: first })).resolves.toMatchObject({
      status: 'pending',
      attempts: 0,
    });

    // The other two at once, through the bulk action.
    for (const id of rest) await rowOf(id).locator('.el-checkbox').click();
    await expect(page.locator('[data-test=failed-retry-selected]').innerText()).resolves.toContain('2');
    await page.click('[data-test=failed-retry-selected]');
    for (const id of rest) await rowOf(id).waitFor({ state: 'detached' });
    for (const id of rest)
      await expect(db.dataSource.getRepository(Task).findOneByOrFail({ id })).resolves.toMatchObject({ status: 'pending', attempts: 0 });

    // And after a reload they are still gone: the list is the server's, not the page's memory.
    await page.click('[data-test=failed-refresh]');
    await page.locator('[data-test=failed-table] .el-table__empty-text').waitFor();
    await shot('tags-setup-failed-work-failed-work-retried');
  });

  it("shows a tag's failed sync to the Official Account with the errcode's meaning, in red", async () => {
    const tag = (await stack.services.tagCatalog.listTags()).find((t) => t.name === 'expo2026');
    if (!tag) throw new Error('the tag is missing');
    const queue = stack.services.queue;
    await queue.enqueue({
      kind: 'browser-test-tag-sync',
      dedupeKey: `browser-test:tag:${tag.id}`,
      payload: {},
      subject: `oa_tag:${tag.id}`,
    });
    const claimed = await queue.claim({ kinds: ['browser-test-tag-sync'], limit: 1 });
    const task = claimed?.tasks[0];
    if (!claimed || !task) throw new Error('the task was not claimed');
    await queue.fail(claimed.claim, task.id, INVALID_TAG, { retryable: false });

    await page.click('[data-test=menu-tags]');
    await page.waitForURL(/\/admin\/tags/);
    const oa = page.locator('tr', { has: page.locator('[data-test=tag-name][data-tag="expo2026"]') }).locator('[data-test=sync-oa]');
    await oa.waitFor();
    await expect(oa.getAttribute('data-state')).resolves.toBe('failed');
    await expect(oa.locator('.el-tag--danger').innerText()).resolves.toBe('同步失败');
    await expect(oa.locator('[data-test=sync-problem]').innerText()).resolves.toBe('45159 公众号里没有这个标签（标签 ID 无效）');
    await shot('tags-setup-failed-work-tag-sync-failed');
  });

  it('an operator has the tags and failed-work menus but not setup, which sends them home', async () => {
    const created = await stack.services.operators.createOperator({
      username: 'op',
      password: 'operator-password-1',
      role: 'operator',
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const context = await browser.newContext({ locale: 'zh-CN' });
    const other = await context.newPage();
    await other.goto(url('/setup'));
    await other.waitForURL(/\/admin\/login/);
    await signIn(other, 'op', 'operator-password-1');
    await other.waitForURL(/\/admin\/dashboard/);
    await other.locator('[data-test=menu-tags]').waitFor();
    await other.locator('[data-test=menu-failed-work]').waitFor();
    await expect(other.locator('[data-test=menu-setup]').count()).resolves.toBe(0);
    await context.close();
  });
});
