import { writeFileSync } from 'node:fs';
import path from 'node:path';
import QRCode from 'qrcode';
import request from 'supertest';
import { type Browser, type Page } from 'playwright-core';
import { ARTIFACTS, fillInput, launchChromium, openSignedIn, screenshot, PHONE } from '../../support/browser';
import { ADMIN_WEB_ROOT, MOBILE_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * A Y4M video (what Chromium's fake camera plays) of one still frame: the QR code of `text`, black
 * modules on white, in the middle of a 640×480 frame. Y carries the picture; U and V are grey.
 */
function qrVideo(text: string, file: string): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  const [width, height] = [640, 480];
  const scale = Math.floor(400 / (size + 8));
  const left = Math.floor((width - size * scale) / 2);
  const top = Math.floor((height - size * scale) / 2);
  const y = Buffer.alloc(width * height, 255);
  for (let row = 0; row < size; row++)
    for (let col = 0; col < size; col++)
      if (qr.modules.get(row, col))
        for (let dy = 0; dy < scale; dy++)
          y.fill(0, (top + row * scale + dy) * width + left + col * scale, (top + row * scale + dy) * width + left + (col + 1) * scale);
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma]);
  writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F5:1 Ip A1:1 C420jpeg\n`), frame, frame]));
}

/**
 * The exhibition flow in headless Chromium against the real server on SQLite, as a new user does
 * it (issue 15 "Done when", §9): an operator creates an event on the 活动展会 screen and an
 * Official Account channel code for it on the 渠道活码 screen, scans that code from the sandbox
 * panel as a new follower, opens the invitation page as that follower from the same panel (through
 * the sandbox's web OAuth), registers there at phone size, staff check the ticket in on the scanner
 * tab (a second scan is refused with the first gate), and the report tab shows the figures and
 * draws its charts.
 *
 * The site's public address is a host name Chromium maps to the test server (PUBLIC_BASE_URL: web
 * OAuth's redirect_uri is made for it, as in production).
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const SITE_HOST = 'events.flywheel.test';
const SITE = `http://${SITE_HOST}`;

jest.setTimeout(240_000);

describe('the events screens', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(
      db,
      { PUBLIC_BASE_URL: SITE },
      { adminWebRoot: ADMIN_WEB_ROOT, mobileWebRoot: MOBILE_WEB_ROOT, platformTimeoutMs: 15_000 },
    );
    const created = await stack.services.operators.createOperator({
      ...ADMIN,
      role: 'admin',
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    browser = await launchChromium(siteArgs());
    page = await openSignedIn(browser, SITE, ADMIN);
  });

  /**
   * Chromium resolves the site's host name to the test server, and takes it as a secure context
   * as it would over HTTPS in production (the scanner's nonces come from crypto.randomUUID, which
   * only a secure context has).
   */
  const siteArgs = () => [
    `--host-resolver-rules=MAP ${SITE_HOST} 127.0.0.1:${new URL(stack.baseUrl).port}`,
    `--unsafely-treat-insecure-origin-as-secure=${SITE}`,
  ];

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('creates an event with a channel code, scans it from the sandbox panel, registers as that follower, checks in and reads the report', async () => {
    await page.click('[data-test=menu-events]');
    await page.waitForURL(/\/admin\/events/);
    await page.click('[data-test=event-new]');
    await fillInput(page, 'event-name', '2026 智能制造展');
    await fillInput(page, 'event-venue-name', '国家会展中心');
    await fillInput(page, 'event-address', '上海市青浦区崧泽大道333号');
    const range = page.locator('.el-dialog .el-date-editor--datetimerange input.el-range-input');
    await range.nth(0).fill('2030-06-01 09:00:00');
    await range.nth(1).fill('2030-06-01 17:00:00');
    await range.nth(1).press('Enter');
    await page.fill('[data-test=event-agenda] textarea, textarea[data-test=event-agenda]', '09:30 开幕致辞 / 张总');
    await screenshot(page, 'events-create-dialog');
    await page.click('[data-test=event-save]');
    await page.locator('.event-row', { hasText: '2026 智能制造展' }).waitFor();
    const [event] = await db.dataSource.query<{ id: number | string; fields: string }[]>('SELECT id, fields FROM events');
    const eventId = Number(event.id);
    // The form kept the built-in name and phone, and the screen's default company and title.
    expect((JSON.parse(event.fields) as { key: string }[]).map((f) => f.key)).toEqual(['name', 'phone', 'company', 'title']);
    await screenshot(page, 'events-list');

    // An invitation channel for the event: an Official Account QR code (a poster at the venue),
    // made on the 渠道活码 screen with the event chosen.
    await page.click('[data-test=menu-channels]');
    await page.waitForURL(/\/admin\/channels/);
    await page.click('[data-test=channel-new]');
    await fillInput(page, 'channel-name', '展会海报');
    await page.click('[data-test=channel-kind-oa_qr]');
    await page.click('[data-test=channel-event]');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '2026 智能制造展' }).first().click();
    await page.click('[data-test=channel-save]');
    await page.locator('[data-test=channel-preview]').waitFor();
    await page.keyboard.press('Escape');
    const [channelRow] = await db.dataSource.query<{ id: number | string; event_id: number | string; kind: string }[]>(
      'SELECT id, event_id, kind FROM channels',
    );
    const channelId = Number(channelRow.id);
    expect(channelRow).toMatchObject({ kind: 'oa_qr' });
    expect(Number(channelRow.event_id)).toBe(eventId);
    // The event's page lists it.
    await page.goto(`${SITE}/admin/events/${eventId}`);
    await page.locator('[data-test=event-channels] li', { hasText: '展会海报' }).waitFor();

    // The sandbox panel: a new follower scans the poster's code (chosen by its name).
    await page.click('[data-test=menu-sandbox]');
    await page.waitForURL(/\/admin\/sandbox/);
    await page.locator('[data-test=sandbox-visit]').waitFor();
    await page.click('[data-test=sandbox-action-scan_channel]');
    await page.click('[data-test=sandbox-channel]');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '展会海报' }).first().click();
    await page.click('[data-test=sandbox-play]');
    await page.locator('[data-test=sandbox-result]').waitFor();
    await stack.services.reactions.idle();
    const [scanned] = await db.dataSource.query<{ contact_id: number | string; channel_id: number | string }[]>(
      'SELECT contact_id, channel_id FROM channel_touches',
    );
    expect(Number(scanned.channel_id)).toBe(channelId);
    const follower = Number(scanned.contact_id);

    // The same panel opens the invitation page as that follower inside "WeChat" (web OAuth
    // through the sandbox), in a new tab: the page is theirs, on a phone.
    await page.click('[data-test=sandbox-visit-event]');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '2026 智能制造展' }).first().click();
    await page.click('[data-test=sandbox-visit-channel]');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '展会海报' }).first().click();
    await screenshot(page, 'events-sandbox-visit');
    const [phone] = await Promise.all([page.context().waitForEvent('page'), page.click('[data-test=sandbox-visit-open]')]);
    await phone.setViewportSize(PHONE);
    // Back from the authorize page on the invitation page with its channel (the browser keeps WeChat's `#wechat_redirect`).
    await phone.waitForURL(new RegExp(`^${SITE}/e/${eventId}\\?ch=${channelId}(#wechat_redirect)?$`));
    await phone.locator('[data-test=event-name]').waitFor();
    const field = (key: string) => phone.locator(`[data-test=field-${key}] input`).first();
    await field('name').fill('李雷');
    await field('phone').fill('13800138000');
    await field('company').fill('飞轮科技');
    await phone.click('[data-test=consent] input');
    await phone.click('[data-test=submit]');
    await phone.waitForURL(new RegExp(`/e/${eventId}/ticket/`));
    const token = decodeURIComponent(new URL(phone.url()).pathname.split('/').pop() ?? '');
    expect(token.split('.')).toHaveLength(4);
    await screenshot(phone, 'events-phone-ticket');
    // The registration is the follower's who scanned the code, not a new anonymous visitor's.
    const registrations = await db.dataSource.query<{ contact_id: number | string }[]>('SELECT contact_id FROM event_registrations');
    expect(registrations.map((r) => Number(r.contact_id))).toEqual([follower]);
    await phone.close();

    // Staff at gate A: the scanner types the ticket's code and Enter.
    await page.goto(`${SITE}/admin/events/${eventId}?tab=scan`);
    await page.locator('[data-test=scanner]').waitFor();
    await fillInput(page, 'scan-gate', 'A');
    await fillInput(page, 'scan-input', token);
    await page.locator('[data-test=scan-input] input, input[data-test=scan-input]').press('Enter');
    await page.locator('[data-test=scan-result][data-code=checked_in]').waitFor();
    await page.locator('[data-test=scan-headcount]', { hasText: '已到场 1 人' }).waitFor();
    // The same ticket again: refused, naming the first gate.
    await fillInput(page, 'scan-input', token);
    await page.locator('[data-test=scan-input] input, input[data-test=scan-input]').press('Enter');
    const refused = page.locator('[data-test=scan-result][data-code=already_checked_in]');
    await refused.waitFor();
    expect(await refused.textContent()).toContain('A 入口');
    await screenshot(page, 'events-scanner');

    await page.goto(`${SITE}/admin/events/${eventId}?tab=report`);
    await page.locator('[data-test=report-registrations]').waitFor();
    expect(await page.textContent('[data-test=report-registrations]')).toBe('1');
    expect(await page.textContent('[data-test=report-checkins]')).toBe('1');
    expect(await page.textContent('[data-test=report-visits]')).toBe('1');
    await page.locator('[data-test=report-channel-chart] canvas').waitFor();
    await page.locator('[data-test=report-hour-chart] canvas').waitFor();
    await page.locator('[data-test=report-channels] .el-table__row', { hasText: '展会海报' }).waitFor();
    expect(await page.getAttribute('[data-test=report-csv]', 'href')).toBe(`/api/admin/events/${eventId}/report.csv?locale=zh-CN`);
    await screenshot(page, 'events-report');
  });

  it('checks a ticket in through the phone camera: the decoder reads the QR code the camera sees', async () => {
    const [event] = await db.dataSource.query<{ id: number | string }[]>('SELECT id FROM events');
    const eventId = Number(event.id);
    const registered = await request(stack.baseUrl)
      .post(`/api/events/${eventId}/registrations`)
      .send({ answers: { name: '韩梅梅', phone: '13900139000', company: '飞轮科技' }, consent: true })
      .expect(201);
    const token = (registered.body as { ticket: { token: string } }).ticket.token;
    const video = path.join(ARTIFACTS, 'ticket-qr.y4m');
    qrVideo(token, video);
    const cameraBrowser = await launchChromium([
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ]);
    try {
      const staff = await openSignedIn(cameraBrowser, stack.baseUrl, ADMIN);
      await staff.goto(`${stack.baseUrl}/admin/events/${eventId}?tab=scan`);
      await staff.locator('[data-test=scanner]').waitFor();
      await fillInput(staff, 'scan-gate', 'B');
      await staff.click('[data-test=scan-camera-toggle]');
      await staff.locator('[data-test=scan-result][data-code=checked_in]').waitFor({ timeout: 60_000 });
      await staff.locator('[data-test=scan-headcount]', { hasText: '已到场 2 人' }).waitFor();
      await screenshot(staff, 'events-scanner-camera');
      const [checkin] = await db.dataSource.query<{ gate: string }[]>(
        'SELECT c.gate FROM event_checkins c JOIN event_registrations r ON r.id = c.registration_id WHERE r.phone = ?',
        ['+8613900139000'],
      );
      expect(checkin.gate).toBe('B');
    } finally {
      await cameraBrowser.close();
    }
  });
});
