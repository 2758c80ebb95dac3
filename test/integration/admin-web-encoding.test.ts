import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import Koa from 'koa';
import { acceptedEncodings, createAdminWebMiddleware } from '../../server/http/admin-web';
import { ADMIN_WEB_ROOT } from '../support/build-web';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A raw GET: no client-side decoding, so the bytes are the ones sent. */
function get(base: string, url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${url}`, { headers, agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

/** The built page (jest's globalSetup builds it when web/ changed), served over real HTTP. */
describe('the built admin page on the wire: encodings and caching', () => {
  let server: http.Server;
  let base: string;
  const assets = path.join(ADMIN_WEB_ROOT, 'assets');
  // The largest script: the one whose bytes matter.
  const script = readdirSync(assets)
    .filter((name) => name.endsWith('.js'))
    .map((name) => ({ name, size: readFileSync(path.join(assets, name)).length }))
    .sort((a, b) => b.size - a.size)[0].name;
  const raw = readFileSync(path.join(assets, script));

  beforeAll(async () => {
    const app = new Koa();
    app.use(createAdminWebMiddleware({ root: ADMIN_WEB_ROOT, locale: 'en' }));
    server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the brotli copy to a browser that takes br, the same bytes once decoded', async () => {
    const answer = await get(base, `/admin/assets/${script}`, { 'Accept-Encoding': 'gzip, deflate, br, zstd' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-encoding']).toBe('br');
    expect(answer.headers.vary).toMatch(/Accept-Encoding/i);
    expect(answer.headers['content-type']).toMatch(/^text\/javascript/);
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
    expect(answer.body.length).toBeLessThan(raw.length / 3);
    expect(brotliDecompressSync(answer.body).equals(raw)).toBe(true);
  });

  it('sends gzip when br is refused or not offered, and the file itself when nothing is', async () => {
    for (const accept of ['gzip', 'br;q=0, gzip;q=0.8', 'br;q=0, *']) {
      const answer = await get(base, `/admin/assets/${script}`, { 'Accept-Encoding': accept });
      expect(answer.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(answer.body).equals(raw)).toBe(true);
    }
    const plain: Record<string, string>[] = [{}, { 'Accept-Encoding': 'identity' }, { 'Accept-Encoding': 'gzip;q=0, br;q=0' }];
    for (const headers of plain) {
      const answer = await get(base, `/admin/assets/${script}`, headers);
      expect(answer.headers['content-encoding']).toBeUndefined();
      expect(answer.headers.vary).toMatch(/Accept-Encoding/i);
      expect(answer.body.equals(raw)).toBe(true);
    }
  });

  it('caches hashed assets for a year (immutable), and every stylesheet has its compressed copies', async () => {
    const css = readdirSync(assets).filter((name) => name.endsWith('.css') && readFileSync(path.join(assets, name)).length > 4096);
    expect(css.length).toBeGreaterThan(0);
    for (const name of [script, ...css]) {
      const answer = await get(base, `/admin/assets/${name}`, { 'Accept-Encoding': 'br' });
      expect(answer.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(answer.headers['content-encoding']).toBe('br');
    }
  });

  it('serves index.html uncached, with the configured language in <html lang>', async () => {
    for (const url of ['/admin/', '/admin/login', '/admin/dashboard']) {
      const answer = await get(base, url, { 'Accept-Encoding': 'br, gzip' });
      expect(answer.status).toBe(200);
      expect(answer.headers['cache-control']).toBe('no-cache');
      expect(answer.body.toString('utf8')).toMatch(/<html lang="en">/);
    }
  });

  it('has a favicon (SVG), linked from the page, revalidated by its ETag', async () => {
    const index = (await get(base, '/admin/')).body.toString('utf8');
    expect(index).toContain('<link rel="icon" type="image/svg+xml" href="/admin/favicon.svg"');
    const icon = await get(base, '/admin/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.body.toString('utf8')).toMatch(/^<svg /);
    const again = await get(base, '/admin/favicon.svg', { 'If-None-Match': String(icon.headers.etag) });
    expect(again.status).toBe(304);
  });
});

describe('acceptedEncodings (RFC 9110 §12.5.3)', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['gzip, deflate, br', ['br', 'gzip']],
    ['BR;Q=1.0', ['br']],
    ['br;q=0, gzip', ['gzip']],
    ['*', ['br', 'gzip']],
    ['*;q=0', []],
    ['gzip;q=0, *', ['br']],
    ['identity', []],
  ])('%j accepts %j', (header, expected) => {
    expect([...acceptedEncodings(header)].sort()).toEqual([...expected].sort());
  });
});
