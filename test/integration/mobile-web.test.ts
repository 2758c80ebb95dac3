import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import Koa from 'koa';
import request from 'supertest';
import { createAdminWebMiddleware } from '../../server/http/admin-web';
import { createMobileWebMiddleware, MOBILE_CSP } from '../../server/http/mobile-web';

/**
 * The public mobile pages (web/mobile) served at /e/ beside the admin page: the page's HTML for
 * /e/:eventId and everything under it, hashed files from /e/assets/ with the admin page's caching
 * and precompressed copies, and a hook before the HTML where WeChat's web OAuth will go.
 */
describe('the public pages served at /e/', () => {
  let base: string;
  let root: string;

  const build = (beforePage?: Koa.Middleware): Koa => {
    const app = new Koa();
    app.use(createAdminWebMiddleware({ root: path.join(base, 'admin') }));
    app.use(createMobileWebMiddleware({ root, beforePage }));
    app.use((ctx) => {
      ctx.status = 404;
      ctx.body = 'api 404';
    });
    return app;
  };

  beforeAll(() => {
    base = mkdtempSync(path.join(os.tmpdir(), 'fw-mobile-web-'));
    root = path.join(base, 'mobile');
    mkdirSync(path.join(root, 'assets'), { recursive: true });
    mkdirSync(path.join(base, 'admin'), { recursive: true });
    writeFileSync(path.join(base, 'admin', 'index.html'), '<!doctype html><html lang="zh-CN"><div id="admin"></div>');
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><html lang="zh-CN"><div id="app"></div>');
    const js = `console.log(${JSON.stringify('x'.repeat(2000))})`;
    writeFileSync(path.join(root, 'assets', 'index-m1.js'), js);
    writeFileSync(path.join(root, 'assets', 'index-m1.js.gz'), gzipSync(js));
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('answers the page for /e/:eventId, its ticket links and any deeper path, never cached, under its CSP', async () => {
    const app = build();
    for (const url of ['/e/42', '/e/42?ch=7', '/e/42/ticket/42.7.abc.sig', '/e/42/cloud']) {
      const page = await request(app.callback()).get(url);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['content-security-policy']).toBe(MOBILE_CSP);
      expect(page.text).toContain('<div id="app">');
    }
    expect(MOBILE_CSP).not.toMatch(/script-src[^;]*unsafe-inline/);
  });

  it('serves hashed assets for a year, compressed when the client accepts it; a missing one is 404, not the page', async () => {
    const app = build();
    const js = await request(app.callback()).get('/e/assets/index-m1.js').set('Accept-Encoding', 'gzip');
    expect(js.status).toBe(200);
    expect(js.headers['content-encoding']).toBe('gzip');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    const stale = await request(app.callback()).get('/e/assets/index-old.js');
    expect(stale.status).toBe(404);
    expect(stale.body).toEqual({ error: { code: 'not_found', message: 'Not found' } });
  });

  it('leaves other paths to the rest of the app: the admin page, the API, /event', async () => {
    const app = build();
    expect((await request(app.callback()).get('/admin/')).text).toContain('<div id="admin">');
    expect((await request(app.callback()).get('/api/events/42')).text).toBe('api 404');
    expect((await request(app.callback()).get('/event/42')).text).toBe('api 404');
    expect((await request(app.callback()).post('/e/42')).text).toBe('api 404');
  });

  it('refuses to read outside its folder', async () => {
    writeFileSync(path.join(base, 'secret.txt'), 'TOP SECRET');
    const app = build();
    for (const url of ['/e/../secret.txt', '/e/%2e%2e/secret.txt', '/e/..%2fsecret.txt']) {
      const answer = await request(app.callback()).get(url);
      expect(answer.text).not.toContain('TOP SECRET');
    }
  });

  it('runs the page hook before the HTML only: it may redirect (WeChat OAuth) or let the page through', async () => {
    const seen: string[] = [];
    const app = build(async (ctx, next) => {
      seen.push(ctx.path);
      if (ctx.query.oauth === '1') {
        ctx.redirect('https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx');
        return;
      }
      await next();
    });
    const redirected = await request(app.callback()).get('/e/42?oauth=1');
    expect(redirected.status).toBe(302);
    expect(redirected.headers.location).toMatch(/^https:\/\/open\.weixin\.qq\.com\//);
    const page = await request(app.callback()).get('/e/42');
    expect(page.text).toContain('<div id="app">');
    await request(app.callback()).get('/e/assets/index-m1.js');
    expect(seen).toEqual(['/e/42', '/e/42']);
  });

  it('answers 503 with a clear code when the pages are not built', async () => {
    const app = new Koa();
    app.use(createMobileWebMiddleware({ root: path.join(base, 'nowhere') }));
    const answer = await request(app.callback()).get('/e/42');
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ error: { code: 'mobile_not_built' } });
  });
});
