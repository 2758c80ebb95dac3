import { type Browser, type Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot, signIn } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * Forms that never fail silently, and help where it is needed (issue 13 §4, §7), in headless
 * Chromium against the real server on SQLite: 张三 as a username, a refused field marked under
 * itself, the tag name counter naming the platform that would refuse it, the bulk button and the
 * score range on the contacts list, the rule editor's help, and the sandbox's follower search.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };

jest.setTimeout(120_000);

describe('forms that say why, and help in place', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let storedOpenid = '';

  const shot = (name: string) => screenshot(page, name);
  const fill = (testId: string, value: string) => fillInput(page, testId, value);
  const errorUnder = (item: string) => page.locator(`[data-test=${item}] .el-form-item__error`);
  const go = async (menu: string) => {
    await page.click(`[data-test=menu-${menu}]`);
    await page.waitForURL(new RegExp(`/admin/${menu}`));
  };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const created = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    const group = await stack.services.tagCatalog.createTagGroup({ name: '意向', syncOa: true, syncWecom: true, actor });
    if (!group.ok) throw new Error('could not create the tag group');
    const rule = await stack.services.tagRules.createTagRule({
      rule: {
        name: '购买后移出沉默',
        interactionType: 'text',
        matchKind: 'keyword_exact',
        matchValue: '已购买',
        addTags: [{ group: '意向', name: '已购买' }],
        removeTags: [{ group: '状态', name: '沉默' }],
      },
      actor,
    });
    if (!rule.ok) throw new Error('could not create the rule');
    // A follower from before this page session: the sandbox panel must find it by search.
    storedOpenid = (await stack.player().subscribe({ scene: 'expo2026' })).openid;
    await stack.services.reactions.idle();

    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('marks a refused username under its field (the rule mentions @), accepts 张三, and 张三 must choose a password at first login', async () => {
    await go('operators');
    await page.click('[data-test=operator-new]');
    await fill('operator-username', '张 三');
    await fill('operator-password', 'zhang-password-1');
    await page.click('[data-test=operator-save]');
    // Before: the message's `@` made vue-i18n throw and the dialog showed nothing at all.
    await errorUnder('operator-username-item').waitFor();
    await expect(errorUnder('operator-username-item').innerText()).resolves.toContain('. _ @ -');
    await shot('forms-and-help-username-error');

    await fill('operator-username', '张三');
    await page.click('[data-test=operator-save]');
    const row = page.locator('[data-test=operators-table] .operator-row', { hasText: '张三' });
    await row.waitFor();
    await expect(row.innerText()).resolves.toContain('待改初始密码');

    const other = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
    await other.goto(`${stack.baseUrl}/admin/`);
    await other.waitForURL(/\/admin\/login/);
    await signIn(other, '张三', 'zhang-password-1');
    await other.waitForURL(/\/admin\/password/);
    await fillInput(other, 'password-current', 'zhang-password-1');
    await fillInput(other, 'password-new', 'zhang-own-password');
    await fillInput(other, 'password-confirm', 'zhang-own-password');
    await other.click('[data-test=password-submit]');
    await other.waitForURL(/\/admin\/dashboard/);
    await other.context().close();
  });

  it('counts a tag name while it is typed and names the platform that would refuse it', async () => {
    await go('tags');
    await page.click('[data-test=tag-new]');
    await fill('tag-name-input', '需要发票的大客户采购经理'.slice(0, 11));
    const error = errorUnder('tag-name-item');
    await error.waitFor();
    await expect(error.innerText()).resolves.toBe('公众号最多 30 字节（约 10 个汉字），当前 33 字节');
    await expect(page.locator('[data-test=name-counter]').innerText()).resolves.toContain('11 个字符 · 33 字节');
    await expect(page.locator('[data-test=name-counter]').innerText()).resolves.toContain('公众号、企业微信');
    await expect(page.locator('[data-test=tag-form-save]').isDisabled()).resolves.toBe(true);
    await shot('forms-and-help-tag-bytes');

    await fill('tag-name-input', '需要发票的大客户采购');
    // The field's error fades out (a leave transition) as soon as the name fits.
    await error.waitFor({ state: 'detached' });
    await page.click('[data-test=tag-form-save]');
    await page.locator('[data-test=tag-name][data-tag="需要发票的大客户采购"]').waitFor();
  });

  it('disables bulk tagging of a filter that matches nobody and marks a wrong score range without a request', async () => {
    await go('contacts');
    await page.locator('[data-test=contacts-total]').waitFor();
    await expect(page.locator('[data-test=bulk-filter]').isDisabled()).resolves.toBe(false);
    await fill('contacts-q', 'nobody-is-called-this');
    await page.click('[data-test=contacts-search]');
    await page.locator('[data-test=contacts-total]', { hasText: '共 0 位客户' }).waitFor();
    await expect(page.locator('[data-test=bulk-filter]').isDisabled()).resolves.toBe(true);

    await fill('contacts-q', '');
    const requests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/admin/contacts')) requests.push(request.url());
    });
    await fill('contacts-min-score', '50');
    await fill('contacts-max-score', '10');
    const rangeError = page.locator('[data-test=contacts-filter-error-maxScore]');
    await rangeError.waitFor();
    await expect(rangeError.innerText()).resolves.toBe('最高分（10）不能低于最低分（50）');
    await page.click('[data-test=contacts-search]');
    // Both score fields are marked, as a form item marks its error.
    await expect(page.locator('.el-input-number.filter-invalid').count()).resolves.toBe(2);
    await fill('contacts-q', '长'.repeat(129));
    await page.locator('[data-test=contacts-filter-error-q]').waitFor();
    await page.click('[data-test=contacts-search]');
    await shot('forms-and-help-contacts-filter');
    expect(requests).toEqual([]);
    await expect(page.locator('[data-test=bulk-filter]').isDisabled()).resolves.toBe(true);
  });

  it('explains *, 渠道/{scene} and priority in the rule editor and lists the tags a rule removes', async () => {
    await go('rules');
    await page.locator('[data-test=rule-remove-tags]', { hasText: '状态/沉默' }).waitFor();
    await page.click('[data-test=rule-new]');
    await expect(page.locator('[data-test=rule-help-match]').innerText()).resolves.toContain('填 * 表示任意场景值都匹配');
    await expect(page.locator('[data-test=rule-help-tags]').innerText()).resolves.toContain('渠道/{scene}');
    await expect(page.locator('[data-test=rule-help-priority]').innerText()).resolves.toContain('数字越小越先执行');
    // A tag the rule would create is measured against its group's platforms while it is typed.
    await page.fill('[data-test=rule-add-tags] textarea, textarea[data-test=rule-add-tags]', '意向/需要发票的大客户采购经');
    await errorUnder('rule-add-tags-item').waitFor();
    await expect(errorUnder('rule-add-tags-item').innerText()).resolves.toBe(
      '意向/需要发票的大客户采购经：公众号最多 30 字节（约 10 个汉字），当前 33 字节',
    );
    await shot('forms-and-help-rule-editor');
    await page.keyboard.press('Escape');
  });

  it('offers only the matchers the chosen interaction carries, and falls back to 任意 when the type changes', async () => {
    await go('rules');
    await page.click('[data-test=rule-new]');
    const options = page.locator('.el-select-dropdown__item:visible');
    const closed = () => options.first().waitFor({ state: 'hidden' });
    const kinds = async () => {
      await page.click('[data-test=rule-kind]');
      await options.first().waitFor();
      const texts = await options.allInnerTexts();
      await page.keyboard.press('Escape');
      await closed();
      return texts.map((text) => text.trim());
    };
    // A new rule fires on a text message: the keyword matchers, never a scene or a menu key.
    await expect(kinds()).resolves.toEqual(['任意', '关键词（完全匹配）', '关键词（包含）']);
    await page.click('[data-test=rule-type]');
    await options.filter({ hasText: '点击菜单' }).first().click();
    await closed();
    await expect(kinds()).resolves.toEqual(['任意', '菜单 key']);
    await expect(page.locator('[data-test=rule-kind] .el-select__selected-item:not(.is-hidden)').first().innerText()).resolves.toBe('任意');
    await page.locator('.el-dialog__headerbtn:visible').click();
    await page.locator('[data-test=rule-form]').waitFor({ state: 'hidden' });
  });

  it('finds a follower stored before this page session in the sandbox panel by part of its openid', async () => {
    await go('sandbox');
    await page.click('[data-test=sandbox-follower]');
    await page.keyboard.type(storedOpenid.slice(-6));
    const option = page.locator(`.el-select-dropdown__item:visible[data-openid="${storedOpenid}"]`);
    await option.waitFor();
    await option.click();
    await page.click('[data-test=sandbox-action-text]');
    await fill('sandbox-content', '你好');
    await page.click('[data-test=sandbox-play]');
    await page.locator('[data-test=sandbox-result]').waitFor();
    await page.locator('[data-test=sandbox-contact-link]').waitFor();
    await shot('forms-and-help-sandbox-follower');
    await expect(page.locator('[data-test=sandbox-contact-link]').getAttribute('href')).resolves.toMatch(/\/contacts\/\d+$/);
  });
});
