import { type Browser, type Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * Issue 13 §2 in headless Chromium against the real server on SQLite: followers without a
 * nickname (the Official Account sends none since 2021) read "公众号粉丝" and the end of their
 * openid, never "（未命名）"; an operator sets a remark and a phone on one and finds it by either
 * in the list's search.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };

jest.setTimeout(120_000);

describe('customers you can tell apart, in the browser', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  const openids: string[] = [];

  const url = (p: string) => `${stack.baseUrl}/admin${p}`;
  const names = () => page.locator('[data-test=contacts-table] [data-test=contact-display-name]').allInnerTexts();

  /** Searches and waits for the list to hold this many rows. */
  async function search(q: string, rows: number): Promise<void> {
    await fillInput(page, 'contacts-q', q);
    await page.click('[data-test=contacts-search]');
    // Row n-1 there and row n gone (waitForFunction would evaluate a string, which the page's CSP refuses).
    const row = (i: number) => page.locator('[data-test=contacts-table] .contact-row').nth(i);
    if (rows > 0) await row(rows - 1).waitFor();
    await row(rows).waitFor({ state: 'detached' });
  }

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const created = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    const player = stack.player();
    for (const scene of ['渠道/展会A', '渠道/展会B', '海报']) openids.push((await player.subscribe({ scene })).openid);
    await player.sendText({ openid: openids[0], content: '你好' });
    await stack.services.reactions.idle();
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('names every follower without a nickname by "公众号粉丝" and its openid tail, with the columns an operator reads', async () => {
    await page.goto(url('/contacts'));
    await page
      .locator('[data-test=contacts-table] .contact-row')
      .nth(openids.length - 1)
      .waitFor();
    const shown = await names();
    expect(shown).toHaveLength(openids.length);
    expect(shown.filter((name) => name.trim() === '' || name.includes('未命名'))).toEqual([]);
    expect([...shown].sort()).toEqual(openids.map((openid) => `公众号粉丝 ${openid.slice(-4)}`).sort());
    // The first follower's row: its last interaction in words, its source and its follow state.
    const row = page.locator('[data-test=contacts-table] .contact-row', { hasText: openids[0].slice(-4) });
    const text = await row.innerText();
    expect(text).toContain('发来消息');
    expect(text).toContain('渠道/展会A');
    expect(text).toContain('已关注公众号');
    await screenshot(page, 'customers-identity-list');
  });

  it('sets a remark and a phone on a contact (a wrong phone is refused next to its field) and finds it by both', async () => {
    const tail = openids[1].slice(-4);
    await page.locator('[data-test=contacts-table] .contact-row', { hasText: tail }).click();
    await page.waitForURL(/\/admin\/contacts\/\d+/);
    await expect(page.locator('[data-test=contact-name]').innerText()).resolves.toBe(`公众号粉丝 ${tail}`);
    await expect(page.locator('[data-test=contact-origin]').innerText()).resolves.toContain('渠道/展会B');

    await fillInput(page, 'contact-remark', '展会B 采购王总');
    await fillInput(page, 'contact-phone', '12345');
    await page.click('[data-test=contact-notes-save]');
    await page.locator('[data-test=contact-notes] .el-form-item__error', { hasText: '手机号' }).waitFor();
    await screenshot(page, 'customers-identity-phone-refused');

    await fillInput(page, 'contact-phone', '138 0013 8000');
    await page.click('[data-test=contact-notes-save]');
    await page.locator('[data-test=contact-name]', { hasText: '展会B 采购王总' }).waitFor();
    await screenshot(page, 'customers-identity-remark-saved');

    // The contact's time zone: a name the server does not know is refused under the field, a known one kept.
    await fillInput(page, 'contact-time-zone', 'EST');
    await page.click('[data-test=contact-notes-save]');
    await page.locator('[data-test=contact-notes] .el-form-item__error', { hasText: '时区' }).waitFor();
    await fillInput(page, 'contact-time-zone', 'America/New_York');
    await page.click('[data-test=contact-notes-save]');
    for (let i = 0; i < 100; i += 1) {
      const [row] = await db.dataSource.query<{ time_zone: string | null }[]>('SELECT time_zone FROM contacts WHERE remark = ?', [
        '展会B 采购王总',
      ]);
      if (row?.time_zone === 'America/New_York') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The refusal under the field fades out once the save went through.
    await page.locator('[data-test=contact-notes] .el-form-item__error').waitFor({ state: 'detached' });
    const [saved] = await db.dataSource.query<{ time_zone: string | null }[]>('SELECT time_zone FROM contacts WHERE remark = ?', [
      '展会B 采购王总',
    ]);
    expect(saved.time_zone).toBe('America/New_York');

    await page.goto(url('/contacts'));
    await page.locator('[data-test=contacts-table] .contact-row').first().waitFor();
    await search('采购王', 1);
    await expect(names()).resolves.toEqual(['展会B 采购王总']);
    await search('nothing like it', 0);
    await search('0013 8000', 1);
    await expect(names()).resolves.toEqual(['展会B 采购王总']);
    // Part of an openid: the tail the list showed before the remark.
    await search('nothing like it', 0);
    await search(openids[2].slice(-4), 1);
    await expect(names()).resolves.toEqual([`公众号粉丝 ${openids[2].slice(-4)}`]);
    await screenshot(page, 'customers-identity-search');
  });

  it('lets a sales rep change the remark of their customer whose phone they see masked, and keeps the phone', async () => {
    const customer = await stack.player().addExternalContact({ userId: 'rep-a', name: '甲的客户' });
    await stack.services.reactions.idle();
    const login = await stack.services.operators.login({ ...ADMIN, ip: '127.0.0.1' });
    if (!login.ok) throw new Error('admin login failed');
    const auth = { Authorization: `Bearer ${login.token}`, 'Content-Type': 'application/json' };
    const found = (await (await fetch(`${stack.baseUrl}/api/admin/contacts?q=${customer.externalUserId}`, { headers: auth })).json()) as {
      items: { id: number }[];
    };
    const id = found.items[0].id;
    const patched = await fetch(`${stack.baseUrl}/api/admin/contacts/${id}`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ phone: '13900139000' }),
    });
    expect(patched.status).toBe(200);
    const created = await stack.services.operators.createOperator({
      username: 'rep-a',
      password: 'sales-password-1',
      role: 'sales',
      wecomUserId: 'rep-a',
      actor,
    });
    if (!created.ok) throw new Error(created.reason);

    const sales = await openSignedInSales();
    try {
      await sales.goto(url(`/contacts/${id}`));
      await sales.locator('[data-test=contact-name]', { hasText: '甲的客户' }).waitFor();
      await expect(sales.inputValue('input[data-test=contact-phone], [data-test=contact-phone] input')).resolves.toBe('139****9000');
      await fillInput(sales, 'contact-remark', '甲的老客户');
      await sales.click('[data-test=contact-notes-save]');
      await sales.locator('[data-test=contact-name]', { hasText: '甲的老客户' }).waitFor();
      await expect(sales.locator('[data-test=contact-notes] .el-form-item__error').count()).resolves.toBe(0);
      await screenshot(sales, 'customers-identity-sales-remark');
    } finally {
      await sales.context().close();
    }
    const rows = await db.dataSource.query<{ phone: string; remark: string }[]>('SELECT phone, remark FROM contacts WHERE id = ?', [id]);
    expect(rows[0]).toEqual({ phone: '13900139000', remark: '甲的老客户' });
  });

  async function openSignedInSales(): Promise<Page> {
    const sales = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
    await sales.goto(url('/'));
    await sales.waitForURL(/\/admin\/login/);
    await fillInput(sales, 'login-username', 'rep-a');
    await fillInput(sales, 'login-password', 'sales-password-1');
    await sales.click('[data-test=login-submit]');
    await sales.waitForURL(/\/admin\/contacts$/);
    return sales;
  }
});
