import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, screenshot } from '../../support/browser';
import { SIDEBAR_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { drainTasks } from '../../support/leases';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The WeCom sidebar (/sidebar) at WeCom's side-panel size in headless Chromium, against the real
 * server on SQLite. The browser says it is WeCom (`wxwork/…` in its User-Agent), so the real
 * @wecom/jssdk takes its WeCom path; the sandbox plays WeCom: its OAuth2 signs the rep in, and its
 * JS-SDK double (/sandbox/wecom/jsbridge.js, loaded because no real bridge is injected) checks the
 * page's signatures and reports the customer in the chat.
 *
 * The site's public address is a host name Chromium maps to the test server (PUBLIC_BASE_URL: the
 * OAuth2 redirect and the JS-SDK signature are both made for it, as in production).
 */

jest.setTimeout(240_000);

const SITE_HOST = 'sidebar.flywheel.test';
const SITE = `http://${SITE_HOST}`;
const WECOM_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 wxwork/4.1.30 MicroMessenger/7.0.1';
/** The member the sandbox's authorize page signs in (sandbox-wecom-app.ts SANDBOX_DEFAULT_MEMBER). */
const REP_USER_ID = 'SandboxRep';
const CUSTOMER = 'wmSidebarCustomer01';

describe('the WeCom sidebar in the browser', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** A WeCom side panel: 360×740, zh-CN, WeCom's User-Agent, an empty cache. */
  const openSidebar = async (): Promise<Page> => {
    const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 740 }, userAgent: WECOM_USER_AGENT });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${SITE}/sidebar`);
    return page;
  };

  const setChat = async (body: Record<string, unknown>): Promise<void> => {
    const answer = await fetch(`${stack.baseUrl}/sandbox/control/wecom-chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!answer.ok) throw new Error(`wecom-chat answered ${answer.status}: ${await answer.text()}`);
  };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, { PUBLIC_BASE_URL: SITE }, { sidebarWebRoot: SIDEBAR_WEB_ROOT, platformTimeoutMs: 15_000 });
    const created = await stack.services.operators.createOperator({
      username: 'rep-li',
      password: 'rep-li-password-1',
      role: 'sales',
      wecomUserId: REP_USER_ID,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    await stack.player().addExternalContact({ userId: REP_USER_ID, externalUserId: CUSTOMER, name: '王总' });
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    const port = new URL(stack.baseUrl).port;
    browser = await launchChromium([`--host-resolver-rules=MAP ${SITE_HOST} 127.0.0.1:${port}`]);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('signs the rep in through WeCom OAuth2 and shows the customer in the chat', async () => {
    const page = await openSidebar();
    page.on('console', (m) => console.log('console', m.text()));
    await page.locator('[data-diagnosis], [data-status], [data-test=name]').first().waitFor();
    console.log(page.url(), await page.locator('main').innerText());
    await screenshot(page, 'sidebar-plumbing');
    await page.locator('[data-test=name]').waitFor();
    expect(await page.textContent('[data-test=name]')).toBe('王总');
    await screenshot(page, 'sidebar-customer');
    void drainTasks;
  });
});
