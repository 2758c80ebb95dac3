import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import request from 'supertest';
import { ADMIN_CSP, createAdminWebMiddleware } from '../../server/http/admin-web';

describe('the admin page served at /admin', () => {
  let dir: string;
  let app: Koa;

  beforeAll(() => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'fw-web-'));
    dir = path.join(base, 'admin');
    mkdirSync(path.join(dir, 'assets'), { recursive: true });
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(path.join(dir, 'assets', 'index-abc123.css'), 'body{}');
    writeFileSync(path.join(dir, 'favicon.svg'), '<svg/>');
    // A file beside the root that traversal would reach.
    writeFileSync(path.join(base, 'secret.txt'), 'TOP SECRET');
    app = new Koa();
    app.use(createAdminWebMiddleware({ root: dir }));
    app.use((ctx) => {
      ctx.status = 404;
      ctx.body = 'api 404';
    });
  });
  afterAll(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('serves hashed assets cached for a year, with their type and nosniff', async () => {
    const js = await request(app.callback()).get('/admin/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    const css = await request(app.callback()).get('/admin/assets/index-abc123.css');
    expect(css.headers['content-type']).toMatch(/^text\/css/);
  });

  it('serves index.html revalidated every time, under the CSP', async () => {
    for (const url of ['/admin/', '/admin/index.html']) {
      const page = await request(app.callback()).get(url);
      expect(page.status).toBe(200);
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers['content-security-policy']).toBe(ADMIN_CSP);
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.text).toContain('<div id="app">');
    }
    expect(ADMIN_CSP).toContain("script-src 'self'");
    expect(ADMIN_CSP).not.toMatch(/script-src[^;]*unsafe-inline/);
  });

  it('answers index.html for history-mode routes, but 404 for a missing asset', async () => {
    const deep = await request(app.callback()).get('/admin/contacts/42');
    expect(deep.status).toBe(200);
    expect(deep.headers['cache-control']).toBe('no-cache');
    expect(deep.text).toContain('<div id="app">');
    const stale = await request(app.callback()).get('/admin/assets/index-old999.js');
    expect(stale.status).toBe(404);
  });

  it('redirects / and /admin to /admin/', async () => {
    expect((await request(app.callback()).get('/')).headers.location).toBe('/admin/');
    expect((await request(app.callback()).get('/admin')).headers.location).toBe('/admin/');
  });

  it('never serves a file outside its folder', async () => {
    for (const url of [
      '/admin/../secret.txt',
      '/admin/%2e%2e/secret.txt',
      '/admin/assets/..%2f..%2fsecret.txt',
      '/admin/..%5csecret.txt',
      '/admin/%00secret.txt',
    ]) {
      const answer = await request(app.callback()).get(url);
      expect(answer.text).not.toContain('TOP SECRET');
    }
  });

  it('leaves other paths and methods to the API', async () => {
    expect((await request(app.callback()).get('/api/admin/me')).text).toBe('api 404');
    expect((await request(app.callback()).post('/admin/')).text).toBe('api 404');
  });
});
