import request from 'supertest';
import { type Browser, type Page } from 'playwright-core';
import { fillInput, launchChromium, openSignedIn, screenshot } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The 报名名单 tab (issue 15 §3) in headless Chromium on SQLite: an event's registration is listed
 * with its status and channel, and a walk-in added from the tab's form appears checked in at its
 * gate. Then the sandbox panel offers the invitation page as a follower (§8; the OAuth chain
 * itself is test/e2e/exhibitions/registrations-pool.test.ts).
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const HOUR = 3_600_000;

jest.setTimeout(180_000);

describe('the event registrations tab', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT, platformTimeoutMs: 15_000 });
    const created = await stack.services.operators.createOperator({
      ...ADMIN,
      role: 'admin',
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('lists a registration, adds a walk-in checked in at its gate, and the sandbox panel scans a channel code (opening the invitation page waits for a follower and an event)', async () => {
    const login = await stack.services.operators.login({ ...ADMIN, ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    const now = stack.clock.now().getTime();
    const eventId = (
      (
        await request(stack.baseUrl)
          .post('/api/admin/events')
          .set('authorization', `Bearer ${login.token}`)
          .send({
            name: '2026 智能制造展',
            venue: { address: '上海市青浦区崧泽大道333号' },
            startsAt: new Date(now + 48 * HOUR).toISOString(),
            endsAt: new Date(now + 56 * HOUR).toISOString(),
            capacity: 100,
            registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
            fields: [{ key: 'company', label: '公司', type: 'text', required: false }],
            benefit: null,
          })
          .expect(201)
      ).body as { id: number }
    ).id;
    await request(stack.baseUrl)
      .post(`/api/events/${eventId}/registrations`)
      .send({ answers: { name: '李雷', phone: '13800138000', company: '飞轮科技' }, consent: true })
      .expect(201);

    await page.goto(`${stack.baseUrl}/admin/events/${eventId}?tab=registrations`);
    const rows = page.locator('[data-test=registrations-table] .el-table__body tr');
    await rows.filter({ hasText: '李雷' }).waitFor();
    expect(await rows.filter({ hasText: '李雷' }).locator('[data-test=registration-status]').getAttribute('data-status')).toBe(
      'registered',
    );
    expect(await rows.filter({ hasText: '李雷' }).textContent()).toContain('直接访问');

    await page.click('[data-test=walk-in-open]');
    await fillInput(page, 'walk-in-name', '赵四');
    await fillInput(page, 'walk-in-phone', '13700000004');
    await fillInput(page, 'walk-in-gate', 'north');
    await screenshot(page, 'event-registrations-walk-in');
    await page.click('[data-test=walk-in-save]');
    const walkIn = rows.filter({ hasText: '赵四' });
    await walkIn.waitFor();
    expect(await walkIn.locator('[data-test=registration-status]').getAttribute('data-status')).toBe('checked_in');
    expect(await walkIn.textContent()).toContain('north');
    expect(await walkIn.textContent()).toContain('现场登记');
    await screenshot(page, 'event-registrations');

    // At a phone's width the page does not scroll sideways: the table scrolls in its own box, the toolbar wraps.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await rows.filter({ hasText: '赵四' }).waitFor();
    const sideways = await page.evaluate(
      `[document.documentElement, document.body, ...document.querySelectorAll('.el-main')].filter((el) => el.scrollWidth > el.clientWidth + 0.5).length`,
    );
    expect(sideways).toBe(0);
    await page.locator('[data-test=walk-in-open]').scrollIntoViewIfNeeded();
    const button = await page.locator('[data-test=walk-in-open]').boundingBox();
    expect(button!.x + button!.width).toBeLessThanOrEqual(390);
    await screenshot(page, 'event-registrations-phone');
    await page.setViewportSize({ width: 1280, height: 720 });

    // An Official Account channel code, scanned from the sandbox panel by its name.
    const channel = (
      await request(stack.baseUrl)
        .post('/api/admin/channels')
        .set('authorization', `Bearer ${login.token}`)
        .send({ name: '展会海报', kind: 'oa_qr', eventId })
        .expect(201)
    ).body as { id: number; scene: string };
    await page.goto(`${stack.baseUrl}/admin/sandbox`);
    await page.locator('[data-test=sandbox-visit]').waitFor();
    await page.click('[data-test=sandbox-action-scan_channel]');
    await page.click('[data-test=sandbox-channel]');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '展会海报' }).first().click();
    await page.click('[data-test=sandbox-play]');
    await page.locator('[data-test=sandbox-result]').waitFor();
    await stack.services.reactions.idle();
    const touches = await db.dataSource.query<{ channel_id: number | string }[]>('SELECT channel_id FROM channel_touches');
    expect(touches.map((t) => Number(t.channel_id))).toEqual([channel.id]);
    // Disabled until a follower and an event are chosen.
    expect(await page.locator('[data-test=sandbox-visit-open]').isDisabled()).toBe(true);
    await screenshot(page, 'sandbox-visit');
  });
});
