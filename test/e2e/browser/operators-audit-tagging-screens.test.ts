import { type Browser, type Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot, waitForPage } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * Operators, the audit log, tagging (one contact, selected rows) with the score ledger, and the
 * rules' "try it" box, in headless Chromium against the real server on SQLite (see admin-page.test.ts).
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };

jest.setTimeout(90_000);

describe('the admin screens for operators, audit, tagging and rule dry runs', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  /** Contact ids: A sent the keyword (scored), B and C only subscribed. */
  const ids = { a: 0, b: 0, c: 0 };

  const url = (p: string) => `${stack.baseUrl}/admin${p}`;
  const shot = (name: string) => screenshot(page, name);
  /** el-input puts data-test on the <input> itself or on its wrapper, depending on the version. */
  const fill = (testId: string, value: string) => fillInput(page, testId, value);
  /** Element Plus renders every dropdown in a teleported popper; only the open one is visible. */
  const pickOption = (label: string) => page.locator('.el-select-dropdown__item:visible', { hasText: label }).first().click();

  async function token(): Promise<string> {
    const login = await stack.services.operators.login({ ...ADMIN, ip: '127.0.0.1' });
    if (!login.ok) throw new Error('admin login failed');
    return login.token;
  }

  async function apiJson<T>(p: string): Promise<T> {
    const response = await fetch(`${stack.baseUrl}${p}`, { headers: { Authorization: `Bearer ${await token()}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  }

  async function contactIdOf(openid: string): Promise<number> {
    const body = await apiJson<{ items: { id: number }[] }>(`/api/admin/contacts?q=${openid}`);
    const id = body.items[0]?.id;
    if (id === undefined) throw new Error(`no contact for ${openid}`);
    return id;
  }

  const tagNamesOf = async (id: number): Promise<string[]> =>
    (await apiJson<{ tags: { name: string }[] }>(`/api/admin/contacts/${id}`)).tags.map((tag) => tag.name);

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const created = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    const group = await stack.services.tagCatalog.createTagGroup({ name: '兴趣', actor });
    if (!group.ok) throw new Error('could not create the tag group');
    for (const name of ['咖啡', '茶']) {
      const tag = await stack.services.tagCatalog.createTag({ groupId: group.value.id, name, actor });
      if (!tag.ok) throw new Error(`could not create tag ${name}`);
    }
    const rule = await stack.services.tagRules.createTagRule({
      rule: {
        name: '报名规则',
        interactionType: 'text',
        matchKind: 'keyword_exact',
        matchValue: '报名',
        addTags: [{ group: '活动', name: '报名' }],
        scorePoints: 5,
        replyText: '报名成功，欢迎参加',
      },
      actor,
    });
    if (!rule.ok) throw new Error('could not create the rule');
    const player = stack.player();
    const a = await player.subscribe();
    await player.sendText({ openid: a.openid, content: '报名' });
    const b = await player.subscribe();
    const c = await player.subscribe();
    await stack.services.reactions.idle();
    ids.a = await contactIdOf(a.openid);
    ids.b = await contactIdOf(b.openid);
    ids.c = await contactIdOf(c.openid);

    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('creates an operator, lists it, refuses a taken username next to the field, and the audit log shows the change filtered by action', async () => {
    await page.click('[data-test=menu-operators]');
    await page.waitForURL(/\/admin\/operators/);
    await page.click('[data-test=operator-new]');
    await fill('operator-username', 'mkt-li');
    await fill('operator-password', 'li-password-1');
    await fill('operator-display-name', '李运营');
    await fill('operator-wecom', 'li.wecom');
    await page.click('[data-test=operator-save]');
    await page.locator('[data-test=operators-table] .operator-row', { hasText: 'mkt-li' }).waitFor();
    await expect(page.locator('[data-test=operators-table] .operator-row', { hasText: 'mkt-li' }).innerText()).resolves.toContain('李运营');
    const operators = await stack.services.operators.listOperators();
    expect(operators.find((operator) => operator.username === 'mkt-li')).toMatchObject({
      role: 'operator',
      displayName: '李运营',
      wecomUserId: 'li.wecom',
    });

    // The same username again: the API's 409 is shown under the username field.
    await page.click('[data-test=operator-new]');
    await fill('operator-username', 'mkt-li');
    await fill('operator-password', 'li-password-2');
    await page.click('[data-test=operator-save]');
    const usernameError = page.locator('[data-test=operator-username-item] .el-form-item__error');
    await usernameError.waitFor();
    await expect(usernameError.innerText()).resolves.toContain('该用户名已被使用');
    await shot('operators-audit-tagging-operator-conflict');
    await page.keyboard.press('Escape');

    await page.click('[data-test=menu-audit]');
    await page.waitForURL(/\/admin\/audit/);
    await page.locator('[data-test=audit-table] .audit-row').first().waitFor();
    // The filter lists actions by their labels, not codes.
    await page.click('[data-test=audit-action]');
    await pickOption('新建操作员');
    await page.click('[data-test=audit-search]');
    await page.locator('[data-test=audit-table] .audit-row', { hasText: 'mkt-li' }).waitFor();
    // Only that action is left (logins, tag and rule creations are filtered out).
    const actions = await page.locator('[data-test=audit-row-action]').allInnerTexts();
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(['新建操作员']));
    await shot('operators-audit-tagging-audit-filtered');
    // By operator and an action prefix: the admin's own operator changes, not the start-up's (no operator).
    await page.click('[data-test=audit-operator]');
    await pickOption('admin');
    await page.click('[data-test=audit-action]');
    await pickOption('操作员（全部）');
    await page.click('[data-test=audit-search]');
    await waitForPage(page, `document.querySelectorAll('[data-test=audit-table] .audit-row').length === 1`);
    await expect(page.locator('[data-test=audit-table] .audit-row').allInnerTexts()).resolves.toEqual([expect.stringContaining('mkt-li')]);
  });

  it("issues an operator's mini-program binding code in a dialog that says how to use it; the code binds there, and the unbind ends it", async () => {
    await page.goto(url('/operators'));
    await page.click('[data-test=operator-mp-code-mkt-li]');
    const dialog = page.locator('[data-test=operator-mp-code-dialog]');
    await dialog.waitFor();
    const code = (await page.locator('[data-test=operator-mp-code]').innerText()).trim();
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    await expect(page.locator('[data-test=operator-mp-code-expiry]').innerText()).resolves.toMatch(
      /^有效期至 .*10 分钟内有效，只能使用一次/,
    );
    await expect(dialog.innerText()).resolves.toMatch(/李运营[\s\S]*现场签到[\s\S]*绑定为工作人员/);
    // The dialog fades in: the screenshot waits until it is there whole.
    await waitForPage(page, `document.querySelector('.dialog-fade-enter-active') === null`);
    await shot('operators-mp-binding-code');
    await page.click('[data-test=operator-mp-code-close]');
    await dialog.waitFor({ state: 'hidden' });

    // A mini-program user (the sandbox's wx.login) types the code on the scanner page: they are that operator's staff.
    const mp = async (method: string, p: string, bearer?: string, body?: object) =>
      fetch(`${stack.baseUrl}${p}`, {
        method,
        headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const loginCode = stack.sandbox.state.issueLoginCode({}).code;
    const { token: mpToken } = (await (await mp('POST', '/api/mp/login', undefined, { code: loginCode })).json()) as { token: string };
    const bound = await mp('POST', '/api/mp/staff/bind', mpToken, { code });
    expect(bound.status).toBe(200);
    expect(await bound.json()).toMatchObject({ staff: { name: '李运营', role: 'operator' } });

    await page.click('[data-test=operator-mp-unbind-mkt-li]');
    await page.locator('.el-message-box__btns .el-button--primary').click();
    await page.locator('.el-message', { hasText: '已解除 李运营 的小程序绑定' }).waitFor();
    expect(await (await mp('GET', '/api/mp/me', mpToken)).json()).toMatchObject({ staff: null });
  });

  it('adds a tag on the contact page and shows it, and the score ledger explains the points', async () => {
    await page.goto(url(`/contacts/${ids.a}`));
    await page.locator('[data-test=contact-tags]').waitFor();
    await page.locator('[data-test=ledger] .ledger-row', { hasText: '报名规则' }).waitFor();
    await expect(page.locator('[data-test=ledger] .ledger-row', { hasText: '报名规则' }).innerText()).resolves.toContain('+5');
    await page.click('[data-test=contact-tag-pick]');
    await pickOption('兴趣/茶');
    await page.keyboard.press('Escape');
    await page.click('[data-test=contact-tag-add]');
    await page.locator('[data-test=contact-tags] [data-tag="茶"]').waitFor();
    expect(await tagNamesOf(ids.a)).toContain('茶');
    await shot('operators-audit-tagging-contact-tag-and-ledger');
  });

  it('bulk-tags the two selected contacts and leaves the third alone', async () => {
    await page.click('[data-test=menu-contacts]');
    await page.waitForURL(/\/admin\/contacts$/);
    await page.locator(`.contact-row-${ids.b}`).waitFor();
    await page.click(`.contact-row-${ids.b} .el-checkbox`);
    await page.click(`.contact-row-${ids.c} .el-checkbox`);
    await expect(page.locator('[data-test=bulk-selected]').innerText()).resolves.toContain('已选 2 位');
    await page.click('[data-test=bulk-selected]');
    await page.click('[data-test=bulk-add]');
    await pickOption('兴趣/咖啡');
    await page.keyboard.press('Escape');
    await page.click('[data-test=bulk-apply]');
    await page.locator(`.contact-row-${ids.b}`, { hasText: '咖啡' }).waitFor();
    await page.locator(`.contact-row-${ids.c}`, { hasText: '咖啡' }).waitFor();
    expect(await tagNamesOf(ids.b)).toContain('咖啡');
    expect(await tagNamesOf(ids.c)).toContain('咖啡');
    expect(await tagNamesOf(ids.a)).not.toContain('咖啡');
    await expect(page.locator('[data-test=contacts-csv]').getAttribute('href')).resolves.toBe('/api/admin/contacts.csv?locale=zh-CN');
    await shot('operators-audit-tagging-bulk-selected');
  });

  it('tags everyone matching the filter as a queued job, with its progress until done', async () => {
    // The filter: tag 咖啡 (B and C since the previous test).
    await page.click('[data-test=contacts-tag]');
    await pickOption('兴趣/咖啡');
    await page.click('[data-test=contacts-search]');
    // Waits for the search's answer (the total read at once can be the unfiltered one).
    await page.locator('[data-test=contacts-total]', { hasText: '2' }).waitFor();
    await expect(page.locator('[data-test=contacts-csv]').getAttribute('href')).resolves.toMatch(
      /^\/api\/admin\/contacts\.csv\?tagId=\d+&locale=zh-CN$/,
    );
    await page.click('[data-test=bulk-filter]');
    await page.click('[data-test=bulk-add]');
    await pickOption('兴趣/茶');
    await page.keyboard.press('Escape');
    await page.click('[data-test=bulk-apply]');
    await page.locator('[data-test=bulk-job]').waitFor();
    // The test stack runs no cron: play the bulk-tags worker (every 5 s in `npm start`) until the queue is empty.
    for (let round = 0; round < 10; round += 1) {
      const outcome = await stack.services.queue.runOnce({ handlers: stack.services.manualTagging.handlers(), batchSize: 1 });
      if (outcome.done + outcome.retried + outcome.failed === 0) break;
    }
    await page.locator('[data-test=bulk-job][data-status=done]').waitFor({ timeout: 20_000 });
    await expect(page.locator('[data-test=bulk-job]').innerText()).resolves.toContain('2 / 2');
    expect(await tagNamesOf(ids.b)).toContain('茶');
    expect(await tagNamesOf(ids.c)).toContain('茶');
    await shot('operators-audit-tagging-bulk-filter-job');
  });

  it('the rules "try it" box names the rule a keyword fires, with its tags, points and reply', async () => {
    await page.click('[data-test=menu-rules]');
    await page.waitForURL(/\/admin\/rules/);
    await fill('try-value', '报名');
    await page.click('[data-test=try-run]');
    const fired = page.locator('[data-test=try-fired] .try-fired', { hasText: '报名规则' });
    await fired.waitFor();
    await expect(fired.innerText()).resolves.toMatch(/活动\/报名[\s\S]*5/);
    await expect(page.locator('[data-test=try-reply]').innerText()).resolves.toContain('报名成功，欢迎参加');
    await shot('operators-audit-tagging-rules-try-it');
    // Another message fires only the seeded "any text" rule, and has no reply.
    await fill('try-value', '随便说说');
    await page.click('[data-test=try-run]');
    await page.locator('[data-test=try-reply]', { hasText: '（无回复）' }).waitFor();
    await expect(page.locator('[data-test=try-fired] .try-fired').allInnerTexts()).resolves.toEqual([
      expect.stringContaining('发消息互动'),
    ]);
  });
});
