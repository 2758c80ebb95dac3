import { type Browser, type Page } from 'playwright-core';
import type { JourneyDefinition } from '../../../server/modules/journeys/journey-definition';
import { launchChromium, openSignedIn, screenshot } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * Publishing a new version while customers wait in an older one (issue 14 §3): the page offers
 * the 迁移进行中的用户 dialog, the operator picks the new version's wait node, and the customers
 * move. Headless Chromium against the real server on SQLite.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const actor = { operatorId: null, ip: null };

jest.setTimeout(150_000);

const v1: JourneyDefinition = {
  entry: { kind: 'manual' },
  reentry: 'after_exit',
  start: 'wait',
  goal: null,
  nodes: [
    { id: 'wait', type: 'wait', mode: 'duration', seconds: 86_400, next: 'end' },
    { id: 'end', type: 'exit' },
  ],
};
const v2: JourneyDefinition = {
  ...v1,
  start: 'pause',
  nodes: [
    { id: 'pause', type: 'wait', mode: 'duration', seconds: 3_600, next: 'later' },
    { id: 'later', type: 'wait', mode: 'duration', seconds: 3_600, next: 'end' },
    { id: 'end', type: 'exit' },
  ],
};

describe('the journey screen moves customers in progress on publish', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let journeyId = 0;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const created = await stack.services.operators.createOperator({ ...ADMIN, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    await stack.player().subscribe();
    await stack.services.reactions.idle();
    const [row] = await db.dataSource.query<{ id: number }[]>('SELECT id FROM contacts ORDER BY id LIMIT 1');
    const journey = await stack.services.journeys.createJourney({ name: '迁移测试', definition: v1, actor });
    if (!journey.ok) throw new Error(JSON.stringify(journey));
    journeyId = journey.value.id;
    await stack.services.journeys.publish({ id: journeyId, actor });
    await stack.services.journeys.enroll({ id: journeyId, contactIds: [Number(row.id)], actor });
    await stack.services.journeyEngine.advanceDue();
    await stack.services.journeys.saveVersion({ id: journeyId, definition: v2, actor });
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('asks where the waiting customer goes, and moves them there', async () => {
    await page.goto(`${stack.baseUrl}/admin/journeys/${journeyId}`);
    await page.click('[data-test=journey-publish]');
    const dialog = page.locator('[data-test=migrate-dialog]');
    await dialog.getByText('迁移进行中的用户').waitFor();
    await dialog.getByText('1 位等待中').waitFor();
    // Nothing chosen yet ("wait" is not in version 2, which has two wait nodes): moving is not offered until it is.
    await expect(page.locator('[data-test=migrate-submit]').isDisabled()).resolves.toBe(true);
    await page.click('[data-test=migrate-to-wait]');
    await page.locator('.el-select-dropdown__item', { hasText: 'pause' }).click();
    await screenshot(page, 'journeys-migrate-dialog');
    await page.click('[data-test=migrate-submit]');
    await page.locator('.el-message', { hasText: '1 位用户已迁移到新版本' }).waitFor();
    const runs = await db.dataSource.query<{ version: number; node_id: string }[]>('SELECT version, node_id FROM journey_runs');
    expect(runs.map((r) => [Number(r.version), r.node_id])).toEqual([[2, 'pause']]);
    await page.locator('[data-test=journey-status]', { hasText: '运行中' }).waitFor();
  });
});
