import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's Chromium, headless, for the browser tests. Without the background-networking flags it
 * floods the closed network with refused connections (FACTS.md).
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A phone's screen, as the public pages and the admin page at phone width are tested. */
export const PHONE = { width: 390, height: 844 };

/** A new visitor on a phone: a fresh zh-CN context (empty storage), kept in `contexts` for closing. */
export async function newPhonePage(browser: Browser, contexts: BrowserContext[]): Promise<Page> {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: PHONE, hasTouch: true });
  contexts.push(context);
  return context.newPage();
}

/** Screenshots go here (git-ignored). */
export const ARTIFACTS = path.resolve(__dirname, '../../artifacts/browser');

/** `extraArgs`: e.g. a fake camera playing a file (the scanner test). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** A full-page screenshot in artifacts/browser, named by the screen and the state it shows. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Waits until a page expression holds. Playwright evaluates a string predicate with `eval` again at
 * every poll, which the pages' CSP (script-src 'self') refuses as soon as the first check is false;
 * a function is evaluated once and then only called. So the expression is wrapped in a function.
 */
export async function waitForPage(page: Page, expression: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- built in Node, serialised to the page
  await page.waitForFunction(new Function(`return (${expression});`) as () => unknown);
}

/** Element Plus puts `data-test` on the wrapper or the inner input, depending on the component. */
export function fillInput(page: Page, testId: string, value: string): Promise<void> {
  return page.fill(`input[data-test=${testId}], [data-test=${testId}] input`, value);
}

/** A new zh-CN page signed in as this operator, on the dashboard (the admin page at `baseUrl`/admin). */
export async function openSignedIn(browser: Browser, baseUrl: string, who: { username: string; password: string }): Promise<Page> {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await page.goto(`${baseUrl}/admin/`);
  await page.waitForURL(/\/admin\/login/);
  await signIn(page, who.username, who.password);
  await page.waitForURL(/\/admin\/dashboard/);
  return page;
}

/** Fills the login form and submits it; the caller waits for where it should land. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await fillInput(page, 'login-username', username);
  await fillInput(page, 'login-password', password);
  await page.click('[data-test=login-submit]');
}
