import request from 'supertest';
import { type Browser, type Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot, signIn, waitForPage } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The 名片 screen (issue 17 §1) in headless Chromium against the real server on SQLite: an admin
 * edits a sales rep's card (a featured material from the content centre; the add-on-WeCom code is
 * made on the first save); three mini-program users, through the /api/mp routes and the sandbox's
 * wx.login, pass the card on (张三 opens it from the rep, 李四 through 张三's share, 王五 through
 * 李四's), 王五 adds the rep on WeCom; the 访客 tab lists them with the chain 张三 → 李四 and who
 * became a contact, and 王五's row opens their timeline, where the view reads 经 张三 → 李四 转发.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };

jest.setTimeout(120_000);

describe('the 名片 screen', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let repId = 0;
  /** The viewers' contacts: 李四 stayed a visitor, 王五 became the rep's contact. */
  const viewers = { li: 0, wang: 0 };

  const url = (p: string) => `${stack.baseUrl}/admin${p}`;
  const pickOption = (label: string) => page.locator('.el-select-dropdown__item:visible', { hasText: label }).first().click();

  /** A mini-program user signed in through the sandbox's wx.login, with a name on their contact. */
  async function mpUser(name: string): Promise<{ token: string; contactId: number }> {
    const { code, openid } = stack.sandbox.state.issueLoginCode({});
    const login = await request(stack.baseUrl).post('/api/mp/login').send({ code }).expect(200);
    const [identity] = await db.dataSource.query<{ contact_id: number | string }[]>(
      "SELECT contact_id FROM contact_identities WHERE kind = 'mp_openid' AND value = ?",
      [openid],
    );
    const contactId = Number(identity.contact_id);
    // The mini-program gives no name; a name the operator would otherwise read as 客户 #id.
    await db.dataSource.query('UPDATE contacts SET name = ? WHERE id = ?', [name, contactId]);
    return { token: (login.body as { token: string }).token, contactId };
  }

  const mp = (token: string) => ({
    get: (p: string) => request(stack.baseUrl).get(p).set('authorization', `Bearer ${token}`),
    post: (p: string, body: object) => request(stack.baseUrl).post(p).set('authorization', `Bearer ${token}`).send(body),
  });

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const created = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    const rep = await stack.services.operators.createOperator({
      username: 'rep-zhang',
      password: 'rep-zhang-password-1',
      role: 'sales',
      displayName: '张销售',
      wecomUserId: 'zhang.sales',
      actor,
    });
    if (!rep.ok) throw new Error(`could not create the rep: ${rep.reason}`);
    repId = rep.operator.id;
    const login = await stack.services.operators.login({ ...ADMIN, ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    await request(stack.baseUrl)
      .post('/api/admin/content')
      .set('authorization', `Bearer ${login.token}`)
      .send({ kind: 'article', title: '五轴加工中心产品手册', summary: '参数、选型与报价', body: '正文' })
      .expect(201);
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('an admin picks a rep and saves their card: the material, the add-on-WeCom code and the mini-program path', async () => {
    await page.click('[data-test=menu-cards]');
    await page.waitForURL(/\/admin\/cards/);
    await page.click('[data-test=cards-operator]');
    await pickOption('张销售');
    await page.locator('[data-test=card-unsaved]').waitFor();
    await fillInput(page, 'card-title', '华东区销售经理');
    await fillInput(page, 'card-company', '飞轮智能制造');
    await fillInput(page, 'card-phone', '13800138000');
    await page.fill('textarea[data-test=card-intro], [data-test=card-intro] textarea', '十年机床行业经验，欢迎咨询选型与报价。');
    await page.click('[data-test=card-materials]');
    await pickOption('五轴加工中心产品手册');
    await page.keyboard.press('Escape');
    await page.click('[data-test=card-save]');
    await page.locator('.el-message--success', { hasText: '名片已保存' }).waitFor();
    await expect(page.locator('[data-test=card-mp-path]').innerText()).resolves.toBe(`pages/card/index?rep=${repId}`);
    // The rep has a WeCom userid: the first save made their contact-way code, shown from the channel's own image.
    await page.locator('[data-test=card-qr]').waitFor();
    expect(await page.locator('[data-test=card-qr]').getAttribute('src')).toMatch(/^\/api\/admin\/channels\/\d+\/qr\.png$/);
    await waitForPage(page, `document.querySelector('[data-test=card-qr]').naturalWidth > 0`);

    // What the mini-program shows is what was saved.
    const viewer = await mpUser('访客甲');
    const shown = await mp(viewer.token).get(`/api/mp/cards/${repId}`).expect(200);
    expect(shown.body).toMatchObject({
      operatorId: repId,
      name: '张销售',
      title: '华东区销售经理',
      company: '飞轮智能制造',
      intro: '十年机床行业经验，欢迎咨询选型与报价。',
      materials: [{ title: '五轴加工中心产品手册', kind: 'article' }],
    });
  });

  it('the 访客 tab lists who viewed the card through whose share, and who became a contact; a row opens their timeline', async () => {
    const zhang = await mpUser('张三');
    const li = await mpUser('李四');
    const wang = await mpUser('王五');
    const first = await mp(zhang.token).get(`/api/mp/cards/${repId}`).expect(200);
    const second = await mp(li.token)
      .get(`/api/mp/cards/${repId}?st=${(first.body as { shareToken: string }).shareToken}`)
      .expect(200);
    const st = (second.body as { shareToken: string }).shareToken;
    await mp(wang.token).get(`/api/mp/cards/${repId}?st=${st}`).expect(200);
    await mp(wang.token).post(`/api/mp/cards/${repId}/views`, { seconds: 65, st }).expect(204);
    await mp(wang.token).post(`/api/mp/cards/${repId}/actions`, { action: 'add_wecom', st }).expect(200);
    await stack.services.reactions.idle();
    viewers.li = li.contactId;
    viewers.wang = wang.contactId;

    await page.goto(url(`/cards?operator=${repId}&tab=visitors`));
    const wangRow = page.locator(`[data-test=card-visitors] .visitor-row-${wang.contactId}`);
    await wangRow.waitFor();
    await expect(wangRow.locator('[data-test=visitor-source]').innerText()).resolves.toBe('张三 → 李四');
    await expect(wangRow.locator('[data-test=visitor-relation]').innerText()).resolves.toBe('已成为联系人（添加企业微信）');
    await expect(wangRow.innerText()).resolves.toContain('1 分 5 秒');
    const liRow = page.locator(`[data-test=card-visitors] .visitor-row-${li.contactId}`);
    await expect(liRow.locator('[data-test=visitor-source]').innerText()).resolves.toBe('张三');
    await expect(liRow.locator('[data-test=visitor-relation]').innerText()).resolves.toBe('访客');
    await expect(
      page.locator(`[data-test=card-visitors] .visitor-row-${zhang.contactId} [data-test=visitor-source]`).innerText(),
    ).resolves.toBe('直接访问（无转发）');
    await screenshot(page, 'cards-screen-visitors');

    // Only those who became the rep's contact.
    await page.locator('[data-test=card-visitors-relation] label', { hasText: '已成为联系人' }).click();
    await page.locator(`[data-test=card-visitors] .visitor-row-${li.contactId}`).waitFor({ state: 'detached' });
    await expect(page.locator('[data-test=card-visitors] .visitor-row').count()).resolves.toBe(1);

    await wangRow.click();
    await page.waitForURL(new RegExp(`/admin/contacts/${wang.contactId}$`));
    const view = page.locator('[data-test=timeline-item]', { hasText: '查看名片' }).first();
    await view.waitFor();
    await expect(view.innerText()).resolves.toContain('张销售 的名片 · 经 张三 → 李四 转发');
  });

  it("a sales rep sees their own card alone, and only the rows of visitors who became their contact open the contact's page", async () => {
    const context = await browser.newContext({ locale: 'zh-CN' });
    try {
      const rep = await context.newPage();
      await rep.goto(url('/'));
      await rep.waitForURL(/\/admin\/login/);
      await signIn(rep, 'rep-zhang', 'rep-zhang-password-1');
      await rep.waitForURL(/\/admin\/contacts$/);
      await rep.click('[data-test=menu-cards]');
      await rep.locator('[data-test=card-editor]').waitFor();
      // No rep to pick: the card is theirs, and they may change it.
      await expect(rep.locator('[data-test=cards-operator]').count()).resolves.toBe(0);
      await expect(rep.locator('input[data-test=card-title], [data-test=card-title] input').inputValue()).resolves.toBe('华东区销售经理');
      await rep.locator('[data-test=card-save]').waitFor();

      await rep.locator('.el-tabs__item', { hasText: '访客' }).click();
      // A mere visitor's row does not open (their page is not the rep's to read); a contact's does.
      await rep.locator(`[data-test=card-visitors] .visitor-row-${viewers.li}`).click();
      await rep.locator(`[data-test=card-visitors] .visitor-row-${viewers.wang}`).click();
      await rep.waitForURL(new RegExp(`/admin/contacts/${viewers.wang}$`));
    } finally {
      await context.close();
    }
  });
});
