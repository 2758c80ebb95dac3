import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import Koa from 'koa';
import { chromium } from 'playwright-core';
import { createAdminWebMiddleware } from '../server/http/admin-web';

/**
 * The admin page's first load: opens /admin/login in headless Chromium against the built page
 * (dist/web/admin) and adds up every file it fetched, gzipped (level 9, as a reverse proxy would).
 * Run: npm run bench:web
 */
async function main(): Promise<void> {
  const app = new Koa();
  app.use(createAdminWebMiddleware({ root: path.resolve(__dirname, '../web/admin') }));
  // The page asks /api/admin/me first; signed out, it answers 401 like the server.
  app.use((ctx) => {
    ctx.status = 401;
    ctx.body = { error: { code: 'unauthorized', message: 'Sign in' } };
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const files: { url: string; raw: number; gzip: number }[] = [];
  const reads: Promise<void>[] = [];
  try {
    const page = await browser.newPage();
    page.on('response', (response) => {
      if (!response.url().includes('/admin/')) return;
      files.push({ url: response.url().slice(base.length), raw: 0, gzip: 0 });
      const entry = files[files.length - 1];
      reads.push(
        response.body().then((body) => {
          entry.raw = body.length;
          entry.gzip = gzipSync(body, { level: 9 }).length;
        }),
      );
    });
    await page.goto(`${base}/admin/login`, { waitUntil: 'networkidle' });
    await page.waitForSelector('[data-test=login-submit]');
    await Promise.all(reads);
  } finally {
    await browser.close();
    server.close();
  }
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  for (const file of files.sort((a, b) => b.gzip - a.gzip)) process.stdout.write(`${kb(file.gzip).padStart(9)}  ${file.url}\n`);
  const total = files.reduce((sum, file) => sum + file.gzip, 0);
  const raw = files.reduce((sum, file) => sum + file.raw, 0);
  process.stdout.write(`first load of /admin/login: ${files.length} files, ${kb(raw)} raw, ${kb(total)} gzipped (goal: under 400 KB)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
