import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, screenshot, signIn, PHONE, waitForPage } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * Every screen after login at a phone's width (390×844, zh-CN; issue 13 §1), in headless Chromium
 * against the real server on SQLite with a few contacts, tags, rules, operators and a failed task,
 * so that the tables have rows. On each screen: the page never scrolls sideways, and every primary
 * button, and the save button of every dialog the screen opens, can be brought into the viewport
 * (scrolling the page up or down, or a table's own box sideways). The menu is a drawer opened from
 * the header, which stays on one line with the account menu (role, language, logout) in reach.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
/**
 * Not `isMobile`: Chromium's mobile emulation widens the layout viewport to fit content that sticks
 * out (innerWidth 453 on today's shell), which would hide the very overflow this suite measures.
 */
const actor = { operatorId: null, ip: null };

jest.setTimeout(120_000);

/** What a screen's layout breaks, measured in the page; every list is empty on a good layout. */
interface LayoutReport {
  scrollWidth: number;
  innerWidth: number;
  /** The page's own boxes (document, the shell's main area) that scroll sideways: scrollWidth > clientWidth. */
  sideways: string[];
  /** Primary buttons that cannot be brought wholly into the viewport, or are covered there. */
  unreachable: string[];
  /** Elements sticking out to the right of the viewport outside any box that scrolls sideways. */
  sticking: string[];
}

/**
 * Runs in the page (plain JavaScript: the tests' TypeScript has no DOM types). A button counts as
 * reachable when, after scrolling it into view, it lies wholly inside the viewport and is what a
 * finger would touch at its centre. Boxes that clip or scroll their content (a table's body) may
 * hold wide content; no box may stick out to the right, and the page's own boxes (the document,
 * the shell's main area) never scroll sideways.
 */
const MEASURE_LAYOUT = `(selector) => {
  const name = (el) => el.tagName.toLowerCase() + (el.getAttribute('data-test') ? '[data-test=' + el.getAttribute('data-test') + ']' : '')
    + '.' + [...el.classList].join('.') + ' "' + (el.textContent || '').trim().slice(0, 30) + '"';
  // The shell scrolls its main area rather than the document: that box is the page too.
  const pageBoxes = [document.documentElement, document.body, ...document.querySelectorAll('.el-container, .el-main')];
  // Content a box clips (a table's columns inside its scrolling body) is not sticking out; the box itself is measured.
  const clips = (el) => !pageBoxes.includes(el) && getComputedStyle(el).overflowX !== 'visible';
  const insideScroller = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) if (clips(up)) return true;
    return false;
  };
  const shown = (el) => {
    const rect = el.getBoundingClientRect();
    return rect.width > 0 && rect.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const sideways = pageBoxes
    .filter((el) => el.scrollWidth > el.clientWidth + 0.5)
    .map((el) => name(el).slice(0, 40) + ' ' + el.scrollWidth + '>' + el.clientWidth);
  const sticking = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!shown(el) || insideScroller(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.right > innerWidth + 0.5) sticking.push(name(el) + ' right=' + Math.round(r.right));
  }
  const unreachable = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!shown(el)) continue;
    el.scrollIntoView({ block: 'center', inline: 'nearest' });
    const r = el.getBoundingClientRect();
    const inside = r.left >= -0.5 && r.top >= -0.5 && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!inside || !hit || !el.contains(hit))
      unreachable.push(
        name(el) + ' at ' + Math.round(r.left) + ',' + Math.round(r.top) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height)
          + (hit && !el.contains(hit) ? ' under ' + name(hit) : ''),
      );
  }
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth, sideways, unreachable, sticking: sticking.slice(0, 10) };
}`;

/** Runs in the page: the lines of text each text of the header takes (a wrapped "管 理员" takes two). */
const HEADER_LINES = `() => {
  const header = document.querySelector('header.el-header');
  if (!header) return [{ text: 'no header', lines: 0 }];
  const result = [];
  const walker = document.createTreeWalker(header, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = (node.textContent || '').trim();
    if (!text) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    if (tops.size > 0) result.push({ text, lines: tops.size });
  }
  return result;
}`;

/** Element Plus's dialogs and drawers slide in: measure once no animation runs. */
const SETTLED = `document.getAnimations().every((a) => a.playState !== 'running')`;

describe('the admin page at a phone width', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let contactId = 0;
  let journeyId = 0;
  let mustChange = { username: 'mkt-wang', password: '' };

  const url = (p: string) => `${stack.baseUrl}/admin${p}`;
  const shot = (name: string) => screenshot(page, `phone-${name}`);

  /** The page's layout once the screen has settled: fonts loaded, no animation half-way. */
  async function layoutOf(target: Page, selector = '.el-button--primary'): Promise<LayoutReport> {
    await target.evaluate('document.fonts.ready.then(() => true)');
    return target.evaluate<LayoutReport>(`(${MEASURE_LAYOUT})(${JSON.stringify(selector)})`);
  }

  async function expectFits(target: Page, selector?: string): Promise<void> {
    const report = await layoutOf(target, selector);
    expect({ ...report, scrollWidth: Math.min(report.scrollWidth, report.innerWidth) }).toEqual({
      scrollWidth: report.innerWidth,
      innerWidth: PHONE.width,
      sideways: [],
      unreachable: [],
      sticking: [],
    });
    expect(report.scrollWidth).toBeLessThanOrEqual(report.innerWidth);
  }

  /** Opens a dialog, checks that it fits and that its save button is reachable, then closes it. */
  async function checkDialog(opener: string, save: string, name: string): Promise<void> {
    await page.click(opener);
    const dialog = page.locator('.el-dialog:visible');
    await dialog.waitFor();
    await page.locator(save).waitFor({ state: 'visible' });
    await waitForPage(page, SETTLED);
    await expectFits(page, `${save}, .el-dialog .el-button--primary`);
    const box = await dialog.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= PHONE.width).toBe(true);
    await screenshot(page, `phone-${name}`);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  }

  /** A screen opened by its address, measured once its marker is shown. */
  async function checkScreen(p: string, marker: string, name: string): Promise<void> {
    await page.goto(url(p));
    await page.locator(marker).first().waitFor();
    await waitForPage(page, `document.querySelectorAll('.el-skeleton, .el-loading-mask').length === 0`);
    await shot(name);
    await expectFits(page);
  }

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const created = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    for (const [username, role] of [
      ['mkt-wang', 'operator'],
      ['rep-zhao', 'sales'],
    ] as const) {
      const operator = await stack.services.operators.createOperator({
        username,
        password: `${username}-password-1`,
        role,
        displayName: username === 'mkt-wang' ? '王运营' : '赵销售',
        actor,
      });
      if (!operator.ok) throw new Error(`could not create ${username}`);
    }
    // A reset password must be changed at the next login: that operator sees the password page.
    const reset = await stack.services.operators.resetPassword({ username: 'mkt-wang' });
    if (!reset.ok) throw new Error('could not reset the password');
    mustChange = { username: 'mkt-wang', password: reset.password };

    const group = await stack.services.tagCatalog.createTagGroup({ name: '购买意向', actor });
    if (!group.ok) throw new Error('could not create the tag group');
    for (const name of ['需要发票', '高意向客户', '展会到访']) {
      const tag = await stack.services.tagCatalog.createTag({ groupId: group.value.id, name, actor });
      if (!tag.ok) throw new Error(`could not create tag ${name}`);
    }
    for (const [name, keyword] of [
      ['报名规则', '报名'],
      ['价格咨询', '价格'],
    ]) {
      const rule = await stack.services.tagRules.createTagRule({
        rule: {
          name,
          interactionType: 'text',
          matchKind: 'keyword_exact',
          matchValue: keyword,
          addTags: [{ group: '购买意向', name: '高意向客户' }],
          scorePoints: 5,
          replyText: '收到，稍后会有专人联系您，请留意企业微信好友申请',
        },
        actor,
      });
      if (!rule.ok) throw new Error(`could not create the rule ${name}`);
    }
    const player = stack.player();
    const followers = [];
    for (let n = 0; n < 4; n += 1) followers.push(await player.subscribe());
    for (const follower of followers.slice(0, 2)) await player.sendText({ openid: follower.openid, content: '报名' });
    await stack.services.reactions.idle();
    const login = await stack.services.operators.login({ ...ADMIN, ip: '127.0.0.1' });
    if (!login.ok) throw new Error('admin login failed');
    const response = await fetch(`${stack.baseUrl}/api/admin/contacts?q=${followers[0]?.openid ?? ''}`, {
      headers: { Authorization: `Bearer ${login.token}` },
    });
    contactId = ((await response.json()) as { items: { id: number }[] }).items[0]?.id ?? 0;
    expect(contactId).toBeGreaterThan(0);

    // A journey made from the reactivation template, and a broadcast, for their screens.
    const journey = await stack.services.journeys.createJourney({ name: '沉默用户唤醒', template: 'reactivation', actor });
    if (!journey.ok) throw new Error('could not create the journey');
    journeyId = journey.value.id;
    await stack.services.broadcasts.create({
      name: '双十二老客回馈',
      segmentId: null,
      message: { channel: 'oa_template', payload: { template_id: 'SBX_TPL_COUPON_ARRIVED_0001', data: { thing1: { value: '双十二' } } } },
      sendAt: new Date(stack.clock.now().getTime() + 86_400_000),
      actor,
    });

    // A failed sync task, so that the failed-work table has a row with its long error.
    await stack.services.queue.enqueue({ kind: 'phone-test-sync', dedupeKey: 'phone-test:1', payload: {} });
    const claimed = await stack.services.queue.claim({ kinds: ['phone-test-sync'], limit: 1 });
    const task = claimed?.tasks[0];
    if (!claimed || !task) throw new Error('the task was not claimed');
    await stack.services.queue.fail(claimed.claim, task.id, 'tags/members/batchtagging failed with errcode 45159 (invalid tag id)', {
      retryable: false,
    });

    browser = await launchChromium();
    context = await browser.newContext({ locale: 'zh-CN', viewport: PHONE, hasTouch: true, bypassCSP: true });
    page = await context.newPage();
    await page.goto(url('/'));
    await page.waitForURL(/\/admin\/login/);
    await signIn(page, ADMIN.username, ADMIN.password);
    await page.waitForURL(/\/admin\/dashboard/);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('keeps the header on one line, with the menu drawer and the account menu (logout) in reach', async () => {
    const header = page.locator('header.el-header');
    await header.waitFor();
    expect((await page.evaluate<{ text: string; lines: number }[]>(`(${HEADER_LINES})()`)).filter((line) => line.lines !== 1)).toEqual([]);
    await expectFits(page, '[data-test=menu-toggle], [data-test=user-menu]');

    // The menu is a drawer: the toggle opens it, choosing an item goes there and closes it.
    await page.click('[data-test=menu-toggle]');
    const item = page.locator('[data-test=menu-tags]');
    await item.waitFor({ state: 'visible' });
    await waitForPage(page, SETTLED);
    await expectFits(page, '.el-drawer .el-menu-item');
    await shot('menu-drawer');
    await item.click();
    await page.waitForURL(/\/admin\/tags/);
    await item.waitFor({ state: 'hidden' });

    // Role, language and logout are in the account menu.
    await page.click('[data-test=user-menu]');
    const logout = page.locator('[data-test=logout]');
    await logout.waitFor({ state: 'visible' });
    await waitForPage(page, SETTLED);
    await expect(page.locator('[data-test=whoami]:visible').innerText()).resolves.toContain('管理员');
    await expectFits(page, '[data-test=logout], [data-test^=locale-]');
    await shot('account-menu');

    // The language is chosen there too (and the header still fits in English), then back to Chinese.
    await page.click('[data-test=locale-en]');
    // English is loaded on first use: wait for it.
    await page.locator('[data-test=page-title]', { hasText: 'Tags & tag groups' }).waitFor();
    expect((await page.evaluate<{ text: string; lines: number }[]>(`(${HEADER_LINES})()`)).filter((line) => line.lines !== 1)).toEqual([]);
    await page.click('[data-test=user-menu]');
    await page.locator('[data-test=locale-zh-CN]').click();
    await page.locator('[data-test=page-title]', { hasText: '标签与标签组' }).waitFor();
    await logout.waitFor({ state: 'hidden' });
  });

  it('turned to a desktop width (1366×900) the shell is the desktop one again, and back', async () => {
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.locator('.el-aside [data-test=menu-rules]').waitFor();
    await expect(page.locator('[data-test=menu-toggle]').count()).resolves.toBe(0);
    expect((await page.locator('.el-aside').boundingBox())?.width).toBe(220);
    await expect(page.locator('header [data-test=whoami]').innerText()).resolves.toBe('admin · 管理员');
    await page.locator('header [data-test=logout]').waitFor();
    await screenshot(page, 'phone-width-turned-desktop');
    await page.setViewportSize(PHONE);
    await page.locator('[data-test=menu-toggle]').waitFor();
    await expect(page.locator('.el-aside').count()).resolves.toBe(0);
  });

  it('the dashboard', async () => {
    await checkScreen('/dashboard', '[data-test^=chart-], [data-test=dashboard-empty]', 'dashboard');
  });

  it('the contacts list, and the bulk tagging dialog', async () => {
    await checkScreen('/contacts', `.contact-row-${contactId}`, 'contacts');
    await checkDialog('[data-test=bulk-filter]', '[data-test=bulk-apply]', 'contacts-bulk-dialog');
  });

  it("a contact's page", async () => {
    await checkScreen(`/contacts/${contactId}`, '[data-test=contact-profile]', 'contact');
  });

  it('the tags, with the new group and new tag dialogs', async () => {
    await checkScreen('/tags', '[data-test=tag-group]', 'tags');
    await checkDialog('[data-test=group-new]', '[data-test=tag-form-save]', 'tags-group-dialog');
    await checkDialog('[data-test=tag-new]', '[data-test=tag-form-save]', 'tags-tag-dialog');
    // Deleting asks first, in a message box whose confirm button is in reach too.
    await page.locator('[data-test=group-delete]').first().click();
    const box = page.locator('.el-message-box');
    await box.waitFor({ state: 'visible' });
    await waitForPage(page, SETTLED);
    await expectFits(page, '.el-message-box .el-button--primary');
    await shot('tags-delete-confirm');
    await page.keyboard.press('Escape');
    await box.waitFor({ state: 'hidden' });
  });

  it('the rules, with the new rule dialog', async () => {
    await checkScreen('/rules', '[data-test=rules-table] .el-table__row', 'rules');
    await checkDialog('[data-test=rule-new]', '[data-test=rule-save]', 'rules-dialog');
  });

  it('the segments, with the builder dialog', async () => {
    await checkScreen('/segments', '[data-test=segments-table]', 'segments');
    await checkDialog('[data-test=segment-new]', '[data-test=segment-save]', 'segments-dialog');
  });

  it('the score rules, with the new rule dialog', async () => {
    await checkScreen('/scoring', '[data-test=score-rules-table]', 'scoring');
    await checkDialog('[data-test=score-rule-new]', '[data-test=score-rule-save]', 'scoring-dialog');
  });

  it('the journeys, with the new journey dialog', async () => {
    await checkScreen('/journeys', '[data-test=journeys-table] .journey-row', 'journeys');
    await checkDialog('[data-test=journey-new]', '[data-test=journey-create]', 'journeys-create-dialog');
  });

  it("a journey's graph and editor", async () => {
    await checkScreen(`/journeys/${journeyId}`, '[data-test=journey-node-push1]', 'journey');
  });

  it('the broadcasts, with the new broadcast dialog', async () => {
    await checkScreen('/broadcasts', '[data-test=broadcasts-table] .broadcast-row', 'broadcasts');
    await checkDialog('[data-test=broadcast-new]', '[data-test=broadcast-save]', 'broadcasts-create-dialog');
  });

  it('the template library', async () => {
    await checkScreen('/templates', '[data-test=templates-table] .template-row', 'templates');
  });

  it('the delivery settings', async () => {
    await checkScreen('/delivery-settings', '[data-test=delivery-form]', 'delivery-settings');
  });

  it('the failed work', async () => {
    await checkScreen('/failed-work', '[data-test=failed-row]', 'failed-work');
    // Its columns scroll inside the table, and the table's scrollbar shows that they do (no hover on a phone).
    const table = await page.evaluate<{ scrollWidth: number; clientWidth: number; thumb: number; shown: boolean }>(`(() => {
      const wrap = document.querySelector('[data-test=failed-table] .el-table__body-wrapper .el-scrollbar__wrap');
      const bar = document.querySelector('[data-test=failed-table] .el-table__body-wrapper .el-scrollbar__bar.is-horizontal');
      const thumb = bar && bar.querySelector('.el-scrollbar__thumb');
      return {
        scrollWidth: wrap.scrollWidth,
        clientWidth: wrap.clientWidth,
        thumb: thumb ? thumb.getBoundingClientRect().width : 0,
        shown: !!bar && getComputedStyle(bar).display !== 'none' && getComputedStyle(bar).opacity === '1',
      };
    })()`);
    expect(table.scrollWidth).toBeGreaterThan(table.clientWidth);
    expect(table.shown).toBe(true);
    expect(table.thumb).toBeGreaterThan(0);
  });

  it('the setup', async () => {
    await checkScreen('/setup', '[data-test=setup-platform]', 'setup');
  });

  it('the sandbox', async () => {
    await checkScreen('/sandbox', '[data-test=sandbox-play]', 'sandbox');
  });

  it('the operators, with the new operator dialog', async () => {
    await checkScreen('/operators', '[data-test=operators-table] .operator-row', 'operators');
    await checkDialog('[data-test=operator-new]', '[data-test=operator-save]', 'operators-dialog');
    await checkDialog('[data-test=operator-mp-code-admin]', '[data-test=operator-mp-code-close]', 'operators-mp-code-dialog');
  });

  it('the business cards: the editor and the visitors', async () => {
    await checkScreen('/cards', '[data-test=card-editor]', 'cards');
    await checkScreen('/cards?tab=visitors', '[data-test=card-visitors]', 'cards-visitors');
  });

  it('the audit log', async () => {
    await checkScreen('/audit', '[data-test=audit-table] .audit-row', 'audit');
    // The date range picker's two months (646 px side by side on a desktop) fit the screen too.
    await page.locator('form.toolbar .el-date-editor--daterange input').first().click();
    await page.locator('.el-date-range-picker').waitFor({ state: 'visible' });
    await waitForPage(page, SETTLED);
    await expectFits(page, '.el-date-range-picker td.available');
    await shot('audit-date-range');
    await page.keyboard.press('Escape');
  });

  it('the password change an operator must make first', async () => {
    const other = await browser.newContext({ locale: 'zh-CN', viewport: PHONE, hasTouch: true, bypassCSP: true });
    const target = await other.newPage();
    await target.goto(url('/'));
    await target.waitForURL(/\/admin\/login/);
    await signIn(target, mustChange.username, mustChange.password);
    await target.waitForURL(/\/admin\/password/);
    await target.locator('[data-test=password-submit]').waitFor();
    await screenshot(target, 'phone-password');
    await expectFits(target);
    await other.close();
  });
});
