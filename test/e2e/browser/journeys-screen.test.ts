import { type Browser, type Page } from 'playwright-core';
import { launchChromium, openSignedIn, screenshot } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The 旅程 screen (issue 14 §8), in headless Chromium against the real server on SQLite with the
 * sandbox platform: create a journey from the `reactivation` template, see it drawn as a graph,
 * publish it, enroll a sandbox follower, skip the sandbox clock from the page, and watch the node
 * counts move (the first push, its two-day wait, the second push).
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };

jest.setTimeout(150_000);

describe('the journeys screen', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let contactId = 0;

  /** A node's figure on the graph reaches `count` (the page reads the stats again after each skip, and every 5 s). */
  async function nodeCount(stat: 'entered' | 'waiting' | 'completed' | 'sent', node: string, count: number): Promise<void> {
    await page.locator(`[data-test=node-${stat}-${node}][data-count="${count}"]`).waitFor({ timeout: 15_000 });
  }

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    // 10:00 in Shanghai: the pushes fall outside the quiet hours (22:00–08:00) whenever the suite runs.
    stack.clock.set(new Date('2026-12-07T02:00:00.000Z'));
    const created = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    await stack.player().subscribe();
    await stack.services.reactions.idle();
    const [row] = await db.dataSource.query<{ id: number }[]>('SELECT id FROM contacts ORDER BY id LIMIT 1');
    contactId = Number(row.id);
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('instantiates reactivation, enrolls a follower, and the node counts move as the sandbox clock is skipped', async () => {
    await page.click('[data-test=menu-journeys]');
    await page.waitForURL(/\/admin\/journeys$/);
    await page.click('[data-test=journey-new]');
    // The reactivation template is offered first and chosen; its name is the journey's until one is typed.
    await expect(page.locator('[data-test=journey-from] .el-radio-button').first().innerText()).resolves.toBe('沉默用户唤醒');
    await expect(page.locator('[data-test=journey-from-reactivation].is-active').count()).resolves.toBe(1);
    await expect(page.inputValue('input[data-test=journey-name], [data-test=journey-name] input')).resolves.toBe('沉默用户唤醒');
    await screenshot(page, 'journeys-create');
    await page.click('[data-test=journey-create]');
    await page.waitForURL(/\/admin\/journeys\/\d+$/);

    // Drawn as a graph: every node of the definition, with its figures at 0.
    await page.locator('[data-test=journey-node-push1]').waitFor();
    for (const node of ['wait1', 'push2', 'wait2', 'sms', 'wecom', 'wechat_habit', 'churned', 'done'])
      await page.locator(`[data-test=journey-node-${node}]`).waitFor();
    await expect(page.locator('.vue-flow__edge').count()).resolves.toBeGreaterThanOrEqual(10);
    await nodeCount('entered', 'push1', 0);
    await expect(page.locator('[data-test=journey-status]').innerText()).resolves.toBe('草稿');

    await page.click('[data-test=journey-publish]');
    await page.locator('[data-test=journey-status]', { hasText: '运行中' }).waitFor();

    // Enroll the sandbox follower by its number.
    await page.click('[data-test=journey-enroll]');
    await page.fill('textarea[data-test=enroll-ids], [data-test=enroll-ids] textarea', String(contactId));
    await page.click('[data-test=enroll-submit]');
    await page.locator('.el-message', { hasText: '已加入 1 位' }).waitFor();
    await nodeCount('entered', 'push1', 0);

    // An hour on: the run pushed the offer and waits for it to be opened.
    await page.click('[data-test=journey-skip-3600]');
    await nodeCount('entered', 'push1', 1);
    await nodeCount('completed', 'push1', 1);
    await nodeCount('waiting', 'wait1', 1);
    // The sandbox clock played the send too: the push went out, on the graph under its node.
    await nodeCount('sent', 'push1', 1);
    await nodeCount('entered', 'push2', 0);
    await page.locator('[data-test=journey-total-entered][data-count="1"]').waitFor();
    await screenshot(page, 'journeys-graph-waiting');

    // Two days on, not opened: the second push went out and the run waits again.
    await page.click('[data-test=journey-skip-172800]');
    await nodeCount('waiting', 'wait1', 0);
    await nodeCount('completed', 'wait1', 1);
    await nodeCount('entered', 'push2', 1);
    await nodeCount('sent', 'push2', 1);
    await nodeCount('waiting', 'wait2', 1);
    await screenshot(page, 'journeys-graph-second-push');

    // Pause and resume from the page.
    await page.click('[data-test=journey-pause]');
    await page.locator('[data-test=journey-status]', { hasText: '已暂停' }).waitFor();
    await page.click('[data-test=journey-resume]');
    await page.locator('[data-test=journey-status]', { hasText: '运行中' }).waitFor();
  });

  it("shows the server's validation messages on the node they name", async () => {
    const editor = page.locator('textarea[data-test=journey-json], [data-test=journey-json] textarea');
    const definition = JSON.parse(await editor.inputValue()) as { nodes: { id: string; next?: string }[] };
    const push1 = definition.nodes.find((n) => n.id === 'push1');
    if (!push1) throw new Error('no push1 node');
    push1.next = 'nowhere';
    await editor.fill(JSON.stringify(definition, null, 2));
    await page.click('[data-test=journey-save]');
    await page.locator('[data-test=journey-json-error]').waitFor();
    const problem = page.locator('[data-test=journey-node-push1] .jnode-problem');
    await problem.waitFor();
    await expect(problem.innerText()).resolves.toContain('next');
    await screenshot(page, 'journeys-graph-invalid');
  });
});
