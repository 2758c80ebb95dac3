import { type Browser, type BrowserContext } from 'playwright-core';
import request from 'supertest';
import { launchChromium, openSignedIn, screenshot, PHONE } from '../../support/browser';
import { ADMIN_WEB_ROOT, MOBILE_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The satisfaction survey page (web/mobile, issue 15 §5) at a phone's size (390×844, zh-CN) in
 * headless Chromium against the real server on SQLite: a registrant opens their signed link, is
 * told what is missing, rates with the stars, answers and sees the thanks; the link opened again
 * shows the thanks, and a forged link says it is not valid. Then the admin page's 销售跟进 tab:
 * the registrant assigned to a sales rep and marked done, and the satisfaction in the report.
 */
const HOUR = 3_600_000;

jest.setTimeout(180_000);

describe('the survey page at phone size', () => {
  let eventId = 0;
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT, mobileWebRoot: MOBILE_WEB_ROOT, platformTimeoutMs: 15_000 });
    browser = await launchChromium();
    context = await browser.newContext({ locale: 'zh-CN', viewport: PHONE, hasTouch: true });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('opens a survey link, refuses it unrated, takes the answer and thanks', async () => {
    const s = stack.services;
    const created = await s.operators.createOperator({
      username: 'admin',
      password: 'admin-password-1',
      role: 'admin',
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await s.operators.login({ username: 'admin', password: 'admin-password-1', ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    const as = (method: 'post' | 'put', path: string, body: object) =>
      request(stack.baseUrl)[method](path).set('authorization', `Bearer ${login.token}`).send(body);
    const now = stack.clock.now().getTime();
    eventId = (
      (
        await as('post', '/api/admin/events', {
          name: '2026 智能制造展',
          venue: { address: '上海市青浦区崧泽大道333号' },
          startsAt: new Date(now + HOUR).toISOString(),
          endsAt: new Date(now + 5 * HOUR).toISOString(),
          capacity: 100,
          registrationDeadline: new Date(now + HOUR).toISOString(),
          fields: [],
          benefit: null,
        }).expect(201)
      ).body as { id: number }
    ).id;
    const registration = (
      await request(stack.baseUrl)
        .post(`/api/events/${eventId}/registrations`)
        .send({ answers: { name: '李雷', phone: '13800000001' }, consent: true })
        .expect(201)
    ).body as { registrationId: number };
    const survey = (
      await as('put', `/api/admin/events/${eventId}/survey`, {
        title: '展会满意度调查',
        satisfactionLabel: '您对本次展会的整体满意度',
        questions: [
          { key: 'q1', kind: 'single', label: '您从哪里得知本次展会？', required: true, options: ['朋友圈', '海报'] },
          { key: 'q2', kind: 'text', label: '其他建议', required: false },
        ],
      }).expect(200)
    ).body as { id: number };
    const link = new URL(await s.surveys.linkFor(survey.id, eventId, registration.registrationId));

    const page = await context.newPage();
    await page.goto(`${stack.baseUrl}${link.pathname}${link.search}`);
    await page.locator('[data-test=survey-page]').waitFor();
    expect(await page.textContent('[data-test=survey-page]')).toContain('您对本次展会的整体满意度');
    expect(await page.evaluate('document.documentElement.scrollWidth - innerWidth')).toBeLessThanOrEqual(0);

    // Sent without a rating nor the required choice: both say so, nothing is stored.
    await page.click('[data-test=survey-submit]');
    expect(await page.textContent('[data-test=survey-rating] .van-field__error-message')).toBe('请为满意度打分');
    expect(await page.textContent('[data-test=survey-q1] .van-field__error-message')).toBe('请回答此题');
    await page.locator('[data-test=survey-rating] .van-rate__item').nth(3).click();
    expect(await page.textContent('[data-test=survey-rating]')).toContain('满意');
    await page.locator('[data-test=survey-q1] label', { hasText: '海报' }).click();
    await page.locator('[data-test=survey-q2] textarea').fill('展位指引可以更清楚');
    await screenshot(page, 'survey-page');
    await page.click('[data-test=survey-submit]');
    await page.locator('[data-test=survey-thanks]').waitFor();
    expect(await page.textContent('[data-test=survey-thanks]')).toContain('感谢您的反馈');

    const [answer] = await db.dataSource.query<{ satisfaction: number | string; answers: string }[]>(
      'SELECT satisfaction, answers FROM survey_answers',
    );
    expect(Number(answer.satisfaction)).toBe(4);
    expect(JSON.parse(answer.answers)).toEqual({ q1: '海报', q2: '展位指引可以更清楚' });

    // Opened again: answered already, the thanks. A forged link: not valid.
    await page.reload();
    await page.locator('[data-test=survey-thanks]').waitFor();
    const forged = link.search.replace(/.(?=$)/, (c) => (c === 'A' ? 'B' : 'A'));
    await page.goto(`${stack.baseUrl}${link.pathname}${forged}`);
    await page.locator('[data-test=survey-invalid]').waitFor();
    expect(await page.textContent('[data-test=survey-invalid]')).toContain('问卷链接无效');
  });

  it('assigns the registrant on the follow-up tab, marks it done and shows the satisfaction in the report', async () => {
    const rep = await stack.services.operators.createOperator({
      username: 'rep_li',
      password: 'rep-li-password-1',
      role: 'sales',
      wecomUserId: 'li.lei',
      actor: { operatorId: null, ip: null },
    });
    if (!rep.ok) throw new Error(rep.reason);
    const page = await openSignedIn(browser, stack.baseUrl, { username: 'admin', password: 'admin-password-1' });
    await page.goto(`${stack.baseUrl}/admin/events/${eventId}?tab=after`);
    const row = page.locator('[data-test=followups-table] .el-table__row').first();
    await row.waitFor();
    expect(await row.textContent()).toContain('李雷');
    await row.locator('.el-checkbox').click();
    await page.click('[data-test=followups-rep]');
    await page.locator('.el-select-dropdown__item', { hasText: 'rep_li' }).click();
    await page.click('[data-test=followups-assign]');
    await page.locator('[data-test=followups-table] .el-table__row', { hasText: 'rep_li' }).waitFor();
    await row.locator('[data-test=followup-mark-done]').click();
    await row.locator('[data-test=followup-done]').waitFor();
    expect(await row.locator('[data-test=followup-contact]').getAttribute('href')).toMatch(/\/admin\/contacts\/\d+$/);
    await screenshot(page, 'event-followups');

    await page.goto(`${stack.baseUrl}/admin/events/${eventId}?tab=report`);
    await page.locator('[data-test=report-satisfaction-chart]').waitFor();
    expect(await page.textContent('[data-test=report-satisfaction]')).toMatch(/满意度\s*4\s*1 份答卷/);
    await page.context().close();
  });
});
