import type { Browser, Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The 评分规则 screen in headless Chromium against the real server on SQLite in sandbox mode
 * (issue 14 §1, §8): an operator creates a capped score rule and sees it listed, saves the
 * scoring settings, and reads the AARRR funnel; at phone width the page keeps within the screen.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };

jest.setTimeout(120_000);

describe('the score rules screen in a browser', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const created = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor: { operatorId: null, ip: null } });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    // Two followers so the funnel has something to count: one who only followed, one who wrote.
    const player = stack.player();
    await player.subscribe({ openid: 'o_funnel_1' });
    await player.subscribe({ openid: 'o_funnel_2' });
    await player.sendText({ openid: 'o_funnel_2', content: '你好' });
    await stack.services.reactions.processDue();
    await stack.services.statCounters.runOnce();
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('the menu opens 评分规则; a new capped rule is listed; the funnel counts the stages', async () => {
    await page.click('[data-test=menu-scoring]');
    await page.waitForURL(/\/admin\/scoring/);
    await page.locator('[data-test=score-rules-table]').waitFor();
    const funnel = page.locator('[data-test=lifecycle-funnel]');
    await expect(funnel.getAttribute('data-points')).resolves.toBe('2');
    await expect(funnel.locator('[data-key=activated]').getAttribute('data-value')).resolves.toBe('1');
    await expect(funnel.innerText()).resolves.toContain('激活');

    await page.click('[data-test=score-rule-new]');
    await fillInput(page, 'score-rule-name', '咨询价格');
    await fillInput(page, 'score-rule-points', '8');
    await fillInput(page, 'score-rule-cap', '3');
    await page.click('[data-test=score-rule-save]');
    const row = page.locator('[data-test=score-rules-table] tr', { hasText: '咨询价格' });
    await row.waitFor();
    await expect(row.innerText()).resolves.toMatch(/行为[\s\S]*发来消息[\s\S]*8[\s\S]*3/);
    await screenshot(page, 'scoring-screen');
    const stored = await stack.services.scoreRules.listScoreRules();
    expect(stored).toMatchObject([{ name: '咨询价格', kind: 'behaviour', interactionType: 'text', points: 8, dailyCap: 3 }]);

    await fillInput(page, 'mql-threshold', '60');
    await page.click('[data-test=settings-save]');
    await page.locator('.el-message--success').first().waitFor();
    expect((await stack.services.scoringSettings.readSettings()).mqlThreshold).toBe(60);
  });

  it('at phone width the screen stays within the viewport', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.baseUrl}/admin/scoring`);
    await page.locator('[data-test=score-rules-table]').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'scoring-screen-phone');
  });
});
