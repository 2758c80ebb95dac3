import request from 'supertest';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, screenshot, newPhonePage } from '../../support/browser';
import { MOBILE_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { recordFollower } from '../../support/followers';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * Paid tickets (issue 15 §7) at a phone's size in headless Chromium against the real server on
 * SQLite: a follower web OAuth identified registers for a paid event on its invitation page (the
 * price on the page and the button), pays through the sandbox's stand-in for WeChat's bridge and
 * lands on a valid ticket; an unpaid ticket's 去支付 pays its order and makes it valid.
 */
const HOUR = 3_600_000;

jest.setTimeout(180_000);

describe('a paid event at phone size', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let eventId: number;
  let visitor: number | null = null;
  const contexts: BrowserContext[] = [];

  const newVisitor = (): Promise<Page> => newPhonePage(browser, contexts);

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(
      db,
      {},
      { mobileWebRoot: MOBILE_WEB_ROOT, platformTimeoutMs: 15_000, identifyVisitor: () => Promise.resolve(visitor) },
    );
    const now = stack.clock.now().getTime();
    ({ id: eventId } = await stack.services.events.createEvent({
      name: '智能制造闭门会',
      venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号' },
      startsAt: new Date(now + 48 * HOUR),
      endsAt: new Date(now + 56 * HOUR),
      capacity: 20,
      registrationDeadline: new Date(now + 24 * HOUR),
      fields: [],
      benefit: null,
      agenda: [],
      facts: {},
      smsVerification: false,
      waitlist: false,
      ticketPriceFen: 9900,
      actor: { operatorId: null, ip: null },
    }));
    visitor = (await recordFollower(stack)).contactId;
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await stack?.sandbox.pay?.settled();
    await stack?.close();
    await db?.destroy();
  });

  it('registers and pays on the invitation page, landing on a valid ticket; an unpaid ticket pays with 去支付', async () => {
    const page = await newVisitor();
    await page.goto(`${stack.baseUrl}/e/${eventId}`);
    await page.locator('[data-test=event-name]').waitFor();
    expect(await page.textContent('[data-test=event-price]')).toContain('¥99.00');
    expect((await page.textContent('[data-test=submit]'))?.trim()).toBe('报名并支付 ¥99.00');
    const field = (key: string) => page.locator(`[data-test=field-${key}] input`).first();
    await field('name').fill('韩梅梅');
    await field('phone').fill('13900139001');
    await page.click('[data-test=consent] input');
    await page.click('[data-test=submit]');
    await page.waitForURL(new RegExp(`/e/${eventId}/ticket/`));
    await page.locator('[data-test=ticket-status]', { hasText: '有效' }).waitFor();
    const [paid] = await db.dataSource.query<{ status: string }[]>(
      "SELECT status FROM event_registrations WHERE phone LIKE '%13900139001'",
    );
    expect(paid.status).toBe('registered');
    await screenshot(page, 'paid-ticket-valid');

    // Another follower registered, then closed the pay sheet: the ticket page waits for payment.
    // (A second registration by the first would be 409 already_registered: one per person per event.)
    visitor = (await recordFollower(stack)).contactId;
    const unpaid = await request(stack.baseUrl)
      .post(`/api/events/${eventId}/registrations`)
      .send({ answers: { name: '李雷', phone: '13900139002' }, consent: true })
      .expect(201);
    const { token } = (unpaid.body as { ticket: { token: string } }).ticket;
    await page.goto(`${stack.baseUrl}/e/${eventId}/ticket/${encodeURIComponent(token)}`);
    await page.locator('[data-test=ticket-status]', { hasText: '待支付' }).waitFor();
    expect((await page.textContent('[data-test=ticket-pay]'))?.trim()).toBe('去支付 ¥99.00');
    await screenshot(page, 'paid-ticket-unpaid');
    await page.click('[data-test=ticket-pay]');
    await page.locator('[data-test=ticket-status]', { hasText: '有效' }).waitFor();
    expect(await page.locator('[data-test=ticket-pay]').count()).toBe(0);
  });
});
