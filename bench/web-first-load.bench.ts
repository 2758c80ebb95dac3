import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { findFreePort, killChildServers, startChildServer } from './child-server';

/**
 * `npm run bench:web`: what a browser actually receives for the admin page's first load. The
 * built server (dist/server/main.js, sandbox mode, a fresh SQLite file) runs in a child process;
 * headless Chromium opens it with an empty cache and the bytes of every response are added up as
 * they came over the wire (Playwright's `request.sizes()`: the encoded body plus the headers), so
 * whatever the server compresses, or does not, is what is counted.
 *
 * 1. The login page, signed out: /admin/login until the form is there and the network is idle.
 * 2. The signed-in dashboard: a new browser context holding only the session cookie (empty
 *    cache) opens /admin/dashboard until its charts are drawn, with a few sandbox followers
 *    so that there are charts to draw.
 * 3. The public invitation page (web/mobile): a phone-sized context (390×844, empty cache) opens
 *    /e/<event>?ch=<channel> of an event with an agenda, a benefit and a five-field form, until
 *    the form is drawn and the network is idle (the event's JSON and the visit included).
 *
 * 4. The WeCom sidebar (web/mobile/sidebar): a rep (a sales operator with a WeCom userid, who
 *    follows a customer) opens /sidebar in a 360×740 context whose User-Agent is WeCom's, signs
 *    in through the sandbox's WeCom OAuth2, and the page registers the real JS-SDK against the
 *    sandbox's bridge, reads the customer in the chat and draws the profile: counted until the
 *    timeline is drawn and the network is idle (the OAuth redirects, the bridge double, the
 *    signature and the profile JSON included).
 *
 * Goals: login page ≤ 120 KB, signed-in dashboard ≤ 250 KB (issue 13 §6); invitation page
 * ≤ 100 KB (issue 15 §3); sidebar ≤ 150 KB (issue 16). Figures: docs/BENCHMARKS.md.
 */
const GOALS = { login: 120 * 1024, dashboard: 250 * 1024, invitation: 100 * 1024, sidebar: 150 * 1024 };
/** WeCom's desktop client, as the JS-SDK reads it at load (`wxwork/<version>`). */
const WECOM_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 wxwork/4.1.30 MicroMessenger/7.0.1';
const USERNAME = 'bench';
const PASSWORD = 'bench-password-1';

interface Fetched {
  url: string;
  encoding: string;
  body: number;
  headers: number;
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Every response the page receives from `base`, measured once its body has arrived. */
function recordResponses(page: Page, base: string): { files: Fetched[]; settled: () => Promise<void> } {
  const files: Fetched[] = [];
  const pending: Promise<void>[] = [];
  page.on('requestfinished', (request) => {
    if (!request.url().startsWith(base)) return;
    pending.push(
      Promise.all([request.sizes(), request.response()]).then(([sizes, response]) => {
        files.push({
          url: request.url().slice(base.length),
          encoding: response?.headers()['content-encoding'] ?? 'identity',
          // -1 when the browser took it from its own cache (a second favicon request): nothing sent.
          body: Math.max(0, sizes.responseBodySize),
          headers: Math.max(0, sizes.responseHeadersSize),
        });
      }),
    );
  });
  return { files, settled: async () => void (await Promise.all(pending)) };
}

function report(title: string, files: Fetched[], goal: number): boolean {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  process.stdout.write(`\n${title}\n`);
  for (const file of [...files].sort((a, b) => b.body - a.body)) {
    process.stdout.write(`${kb(file.body).padStart(9)}  ${file.encoding.padEnd(8)}  ${file.url}\n`);
  }
  const bodies = files.reduce((sum, file) => sum + file.body, 0);
  const headers = files.reduce((sum, file) => sum + file.headers, 0);
  const total = bodies + headers;
  const pass = total <= goal;
  process.stdout.write(
    `${files.length} responses: ${kb(bodies)} of bodies + ${kb(headers)} of headers = ${kb(total)} on the wire ` +
      `(goal ≤ ${kb(goal)}): ${pass ? 'PASS' : 'FAIL'}\n`,
  );
  return pass;
}

async function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
}

async function post(base: string, path: string, body: object, token?: string): Promise<unknown> {
  const answer = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`${path} answered ${answer.status}: ${text}`);
  // A 204 (the password change) has no body.
  return text ? (JSON.parse(text) as unknown) : null;
}

async function loginToken(base: string, username: string, password: string): Promise<string> {
  const login = await post(base, '/api/admin/login', { username, password });
  return typeof login === 'object' && login !== null && 'token' in login && typeof login.token === 'string' ? login.token : '';
}

const adminToken = (base: string): Promise<string> => loginToken(base, USERNAME, PASSWORD);

/**
 * A rep and the customer in their chat: a sales operator with the sandbox's default WeCom member
 * as their userid, a customer who added them (the sandbox plays the callback), and that customer
 * set as the chat the sandbox's JS-SDK double reports.
 */
async function createRepChat(base: string): Promise<void> {
  const token = await adminToken(base);
  const userId = 'SandboxRep';
  const rep = { username: 'bench-rep', password: 'bench-rep-password-1' };
  await post(base, '/api/admin/operators', { ...rep, role: 'sales', wecomUserId: userId }, token);
  // An operator an admin creates must set their own password before anything else, sidebar included.
  const first = await loginToken(base, rep.username, rep.password);
  await post(base, '/api/admin/me/password', { currentPassword: rep.password, newPassword: `${rep.password}-own` }, first);
  const externalUserId = 'wmBenchCustomer01';
  await post(base, '/sandbox/actions', { action: 'add_external_contact', userId, externalUserId });
  await post(base, '/sandbox/control/wecom-chat', { externalUserId });
  // The add reaches the customer's follows through the callback queue: wait until the rep may read them.
  const repToken = await loginToken(base, rep.username, `${rep.password}-own`);
  for (let tries = 0; ; tries++) {
    const answer = await fetch(`${base}/api/sidebar/contacts/by-external/${externalUserId}`, {
      headers: { authorization: `Bearer ${repToken}` },
    });
    if (answer.ok) return;
    if (tries >= 100) throw new Error(`the rep's customer is not readable: ${answer.status} ${await answer.text()}`);
    await delay(200);
  }
}

/** An event with a channel, as an operator would set it up (admin API, bearer token); answers its page's path. */
async function createInvitation(base: string): Promise<string> {
  const idOf = (body: unknown): number => {
    if (typeof body === 'object' && body !== null && 'id' in body && typeof body.id === 'number') return body.id;
    throw new Error(`no id in ${JSON.stringify(body)}`);
  };
  const token = await adminToken(base);
  const now = Date.now();
  const eventId = idOf(
    await post(
      base,
      '/api/admin/events',
      {
        name: '2026 智能制造展',
        venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
        startsAt: new Date(now + 48 * 3_600_000).toISOString(),
        endsAt: new Date(now + 56 * 3_600_000).toISOString(),
        capacity: 500,
        registrationDeadline: new Date(now + 24 * 3_600_000).toISOString(),
        fields: [
          { key: 'company', label: '公司', type: 'text', required: true },
          { key: 'email', label: '邮箱', type: 'email', required: false },
          { key: 'industry', label: '行业', type: 'select', required: true, options: ['制造', '零售', '金融'] },
        ],
        benefit: { kind: 'gift', description: '定制帆布袋' },
        agenda: [
          { time: '09:30', title: '开幕致辞', speaker: '张总' },
          { time: '10:00', title: '智能工厂案例分享' },
        ],
        facts: { weather: '晴', expectedHeadcount: 800 },
      },
      token,
    ),
  );
  const channelId = idOf(await post(base, '/api/admin/channels', { name: '展会海报 H5', kind: 'h5', eventId }, token));
  return `/e/${eventId}?ch=${channelId}`;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fw-bench-web-'));
  const port = await findFreePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startChildServer({
    script: path.resolve(__dirname, '../server/main.js'),
    port,
    env: {
      ...process.env,
      PORT: String(port),
      PUBLIC_BASE_URL: base,
      DATABASE_URL: `sqlite:${path.join(dataDir, 'flywheel.sqlite')}`,
      SANDBOX: 'on',
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      ADMIN_USERNAME: USERNAME,
      ADMIN_PASSWORD: PASSWORD,
    },
    readyPath: '/readyz',
    readyStatus: 200,
    timeoutMs: 60_000,
  });
  let browser: Browser | null = null;
  let passed = true;
  try {
    // A few followers from two sources, so that the dashboard draws every chart.
    for (const scene of ['expo2026', 'expo2026', 'poster', '']) {
      const answer = await fetch(`${base}/sandbox/actions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(scene ? { action: 'subscribe', scene } : { action: 'subscribe' }),
      });
      if (!answer.ok) throw new Error(`sandbox subscribe answered ${answer.status}: ${await answer.text()}`);
    }
    // The dashboard's counters are folded in by a job every 10 s.
    await delay(11_000);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });

    const signedOut = await newContext(browser);
    const loginPage = await signedOut.newPage();
    const login = recordResponses(loginPage, base);
    await loginPage.goto(`${base}/admin/login`, { waitUntil: 'networkidle' });
    await loginPage.waitForSelector('[data-test=login-submit]');
    await login.settled();
    passed = report('first load of /admin/login (signed out, empty cache)', login.files, GOALS.login) && passed;

    await loginPage.fill('[data-test=login-username] input, input[data-test=login-username]', USERNAME);
    await loginPage.fill('[data-test=login-password] input, input[data-test=login-password]', PASSWORD);
    await loginPage.click('[data-test=login-submit]');
    await loginPage.waitForURL(/\/admin\/dashboard/);
    const cookies = await signedOut.cookies();

    const signedIn = await newContext(browser);
    await signedIn.addCookies(cookies);
    const dashboardPage = await signedIn.newPage();
    const dashboard = recordResponses(dashboardPage, base);
    await dashboardPage.goto(`${base}/admin/dashboard`, { waitUntil: 'networkidle' });
    await dashboardPage.waitForSelector('[data-test=chart-new-contacts] [data-test=bar]');
    await dashboard.settled();
    passed = report('first load of /admin/dashboard (signed in, empty cache)', dashboard.files, GOALS.dashboard) && passed;

    const eventPath = await createInvitation(base);
    const phone = await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 }, hasTouch: true });
    const invitationPage = await phone.newPage();
    const invitation = recordResponses(invitationPage, base);
    await invitationPage.goto(`${base}${eventPath}`, { waitUntil: 'networkidle' });
    await invitationPage.waitForSelector('[data-test=registration-form]');
    await invitation.settled();
    passed =
      report(`first load of ${eventPath} (the public invitation page, phone, empty cache)`, invitation.files, GOALS.invitation) && passed;

    await createRepChat(base);
    const wecom = await browser.newContext({
      locale: 'zh-CN',
      viewport: { width: 360, height: 740 },
      hasTouch: true,
      userAgent: WECOM_USER_AGENT,
    });
    const sidebarPage = await wecom.newPage();
    const sidebar = recordResponses(sidebarPage, base);
    await sidebarPage.goto(`${base}/sidebar`, { waitUntil: 'networkidle' });
    await sidebarPage.waitForSelector('[data-test=timeline] .sb-entry').catch(async (error: unknown) => {
      // What the rep would see instead (a diagnosis, a refusal page) says why.
      process.stderr.write(`${sidebarPage.url()}\n${await sidebarPage.locator('body').innerText()}\n`);
      throw error;
    });
    await sidebar.settled();
    passed = report('first load of /sidebar (a rep in WeCom, 360 px, empty cache, OAuth included)', sidebar.files, GOALS.sidebar) && passed;
  } finally {
    await browser?.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (!passed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  killChildServers();
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
