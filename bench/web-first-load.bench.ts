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
 *
 * Goals (issue 13 §6): login page ≤ 120 KB, signed-in dashboard ≤ 250 KB. Figures: docs/BENCHMARKS.md.
 */
const GOALS = { login: 120 * 1024, dashboard: 250 * 1024 };
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
