import { type Browser, type Page } from 'playwright-core';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { launchChromium, openSignedIn, screenshot, waitForPage } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { drainTasks } from '../../support/leases';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The screens that showed internal codes (issue 13 §3) read in words: the audit log (actions,
 * targets, before → after), failed work (a sentence and the errcode's meaning), the contact page
 * (identity kinds, score reasons) and the CSV export (stage words). Real server on SQLite in
 * sandbox mode, data made the way operators and followers make it.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };

jest.setTimeout(120_000);

describe('codes read as words on the audit, failed-work and contact screens and in the CSV', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let contactId = 0;

  const url = (p: string) => `${stack.baseUrl}/admin${p}`;
  const text = async (selector: string) => (await page.locator(selector).innerText()).replace(/\s+/g, ' ');

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const admin = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!admin.ok) throw new Error('could not create the admin');
    const adminActor = { operatorId: admin.operator.id, ip: '127.0.0.1' };

    // An operator changes their password.
    const lisi = await stack.services.operators.createOperator({
      username: 'lisi',
      password: 'lisi-password-1',
      role: 'operator',
      actor: adminActor,
    });
    if (!lisi.ok) throw new Error('could not create lisi');
    const changed = await stack.services.operators.changeOwnPassword({
      operatorId: lisi.operator.id,
      sessionId: 0,
      currentPassword: 'lisi-password-1',
      newPassword: 'lisi-password-2',
      ip: '127.0.0.1',
    });
    if (!changed.ok) throw new Error('lisi could not change the password');

    // A tag is renamed.
    const group = await stack.services.tagCatalog.createTagGroup({ name: '购买意向', actor: adminActor });
    if (!group.ok) throw new Error('could not create the group');
    const tag = await stack.services.tagCatalog.createTag({ groupId: group.value.id, name: '要发票', actor: adminActor });
    if (!tag.ok) throw new Error('could not create the tag');
    const renamed = await stack.services.tagCatalog.updateTag({ id: tag.value.id, name: '需要发票', actor: adminActor });
    if (!renamed.ok) throw new Error('could not rename the tag');

    // A follower's message scores through the default rule 发消息互动 (every new install has it).
    const player = stack.player();
    const follower = await player.subscribe();
    await player.sendText({ openid: follower.openid, content: '你好' });
    await stack.services.reactions.idle();
    contactId = (await db.dataSource.manager.findOneByOrFail(ContactIdentity, { kind: 'oa_openid', value: follower.openid })).contactId;

    // The Official Account refuses the tag for good (the follower has the 20 tags it allows).
    const runSyncs = () => drainTasks(stack.services.queue, { handlers: stack.services.tagSync.handlers() });
    await runSyncs();
    stack.sandbox.state.failNext('tags/members/batchtagging', 45059);
    const tagged = await stack.services.manualTagging.setContactTags({
      contactId,
      scope: { kind: 'all' },
      add: [tag.value.id],
      remove: [],
      actor: adminActor,
    });
    if (!tagged.ok) throw new Error('could not tag the contact');
    await runSyncs();

    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('the audit log names actions and targets and shows a change as before → after', async () => {
    await page.goto(url('/audit'));
    const password = page.locator('[data-test=audit-table] .audit-row', { hasText: '修改密码' }).first();
    await password.waitFor();
    await expect(password.locator('[data-test=audit-row-target]').innerText()).resolves.toBe('操作员 lisi');
    const rename = page.locator('[data-test=audit-table] .audit-row', { hasText: '修改标签' }).first();
    await expect(rename.locator('[data-test=audit-row-target]').innerText()).resolves.toBe('标签 购买意向/需要发票');
    expect((await rename.innerText()).replace(/\s+/g, ' ')).toContain('名称： 要发票 → 需要发票');
    const all = await text('[data-test=audit-table]');
    for (const code of ['operator.change_password', 'tag.update', 'operator #', 'tag #', 'before.', '{"', 'changed'])
      expect(all).not.toContain(code);
    // The action select takes the label; the log keeps only that action.
    await page.click('[data-test=audit-action]');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '修改密码' }).first().click();
    await page.click('[data-test=audit-search]');
    await waitForPage(
      page,
      `[...document.querySelectorAll('[data-test=audit-row-action]')].every((cell) => cell.textContent.trim() === '修改密码')`,
    );
    await expect(page.locator('[data-test=audit-table] .audit-row').count()).resolves.toBe(1);
    await screenshot(page, 'readable-labels-audit');
  });

  it('failed work reads as a sentence with the errcode in words, the raw text behind 详情', async () => {
    await page.goto(url('/failed-work'));
    const row = page.locator('[data-test=failed-table] tr', { has: page.locator('[data-test=failed-row]') }).first();
    await row.waitFor();
    const what = await row.locator('[data-test=failed-row]').innerText();
    expect(what).toMatch(/^同步标签到公众号：为客户 公众号粉丝 \S+ 添加标签 购买意向\/需要发票$/);
    await expect(row.locator('[data-test=failed-errcode]').innerText()).resolves.toBe('该粉丝已有 20 个标签，达到上限');
    const shown = await text('[data-test=failed-table]');
    for (const code of ['oa_tag_sync', 'oa_tag:add', 'errcode', 'tagging']) expect(shown).not.toContain(code);
    await row.locator('[data-test=failed-details]').click();
    await expect(row.locator('[data-test=failed-last-error]').innerText()).resolves.toContain('errcode 45059');
    await screenshot(page, 'readable-labels-failed-work');
  });

  it('the contact page names identity kinds and explains points by rule and interaction type', async () => {
    await page.goto(url(`/contacts/${contactId}`));
    await page.locator('[data-test=contact-identities]').waitFor();
    const identities = await text('[data-test=contact-identities]');
    expect(identities).toContain('公众号 OpenID');
    expect(identities).not.toContain('oa_openid');
    const reason = page.locator('[data-test=ledger-reason]', { hasText: '发消息互动' }).first();
    await reason.waitFor();
    await expect(reason.innerText()).resolves.toBe('发消息互动 · 发来消息');
    expect(await text('[data-test=ledger]')).not.toContain('(text)');
    await screenshot(page, 'readable-labels-contact');
  });

  it('the CSV export (the link on the contacts page) writes stage words and headers in the page language', async () => {
    await page.goto(url('/contacts'));
    const href = await page.locator('[data-test=contacts-csv]').getAttribute('href');
    expect(href).toContain('locale=zh-CN');
    const csv = await page.evaluate(async (link) => {
      const response = await fetch(link ?? '');
      return new Uint8Array(await response.arrayBuffer()).slice(0, 3).join(',') + '|' + (await (await fetch(link ?? '')).text());
    }, href);
    const [bom, body = ''] = csv.split('|');
    expect(bom).toBe('239,187,191');
    expect(body).toContain('阶段');
    expect(body).not.toMatch(/,(acquired|activated|retained|revenue|referral),/);
    expect(body).toMatch(/,(获客|激活|留存|变现|推荐),/);
  });
});
