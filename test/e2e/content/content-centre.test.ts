import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import request from 'supertest';
import type { OperatorRole } from '../../../entities/operator.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** The smallest PNG there is: a 1×1 transparent pixel. */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082',
  'hex',
);
/** An MP4's first box (`ftyp`, brand isom) and 10,000 bytes of anything after it. */
const MP4 = Buffer.concat([Buffer.from('00000018667479706973736f6d0000020069736f6d69736f32', 'hex'), randomBytes(10_000)]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

interface Material {
  id: number;
  code: string;
  kind: string;
  status: string;
  title: string;
  summary: string | null;
  body?: string | null;
  url: string;
  file: { type: string; name: string | null; size: number; url: string } | null;
  stats: { views: number; visitors: number; knownViews: number; avgReadSeconds: number | null };
  byChannel?: { channelId: number | null; views: number; avgReadSeconds: number | null }[];
}

describeEachDatabase('the content centre (内容中心)', (db) => {
  let stack: TestStack;
  let admin: string;
  /** The contact the visitor hook names, or null for an anonymous reader. */
  let reader: number | null;

  const signIn = async (username: string, role: OperatorRole) => {
    const password = `${username}-password-1`;
    const created = await stack.services.operators.createOperator({
      username,
      password,
      role,
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username, password, ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    return login.token;
  };
  const api = (token: string) => ({
    get: (path: string) => request(stack.baseUrl).get(path).set('authorization', `Bearer ${token}`),
    post: (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${token}`).send(body),
    put: (path: string, body: object) => request(stack.baseUrl).put(path).set('authorization', `Bearer ${token}`).send(body),
    upload: (id: number, bytes: Buffer, name: string, type = 'application/octet-stream') =>
      request(stack.baseUrl)
        .put(`/api/admin/content/${id}/file?name=${encodeURIComponent(name)}`)
        .set('authorization', `Bearer ${token}`)
        .set('content-type', type)
        .send(bytes),
  });
  const bytesOf = (path: string) =>
    request(stack.baseUrl)
      .get(path)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
  const create = async (body: object): Promise<Material> =>
    (await api(admin).post('/api/admin/content', body).expect(201)).body as Material;
  const viewKeyOf = (html: string): string => {
    const match = /view="([A-Za-z0-9_-]+)"/.exec(html);
    if (!match) throw new Error('the page carries no view key');
    return match[1];
  };
  const settle = async () => {
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    await stack.services.reactions.idle();
  };

  beforeEach(async () => {
    reader = null;
    stack = await startTestStack(db(), { CONTENT_MAX_UPLOAD_MB: '1' }, { identifyVisitor: () => Promise.resolve(reader) });
    admin = await signIn('admin', 'admin');
  });
  afterEach(async () => {
    await stack.close();
  });

  jest.setTimeout(60_000);

  it('creates, lists by keyset pages, reads, edits and archives materials, each change audited', async () => {
    const a = api(admin);
    const article = await create({ kind: 'article', title: '展会指南', summary: '三分钟看懂', body: '# 欢迎\n\n**展位** A12' });
    expect(article).toMatchObject({ kind: 'article', status: 'active', title: '展会指南', file: null });
    expect(article.code).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(article.url).toBe(`${stack.config.publicBaseUrl}/c/${article.code}`);
    const image = await create({ kind: 'image', title: '展位图' });
    const pdf = await create({ kind: 'pdf', title: '产品手册' });

    const first = (await a.get('/api/admin/content?limit=2').expect(200)).body as { items: Material[]; next: number | null };
    expect(first.items.map((m) => m.id)).toEqual([pdf.id, image.id]);
    expect(first.items[0]).not.toHaveProperty('body');
    expect(first.next).toBe(image.id);
    const second = (await a.get(`/api/admin/content?limit=2&after=${first.next}`).expect(200)).body as {
      items: Material[];
      next: number | null;
    };
    expect(second.items.map((m) => m.id)).toEqual([article.id]);
    expect(second.next).toBeNull();
    const images = (await a.get('/api/admin/content?kind=image').expect(200)).body as { items: Material[] };
    expect(images.items.map((m) => m.id)).toEqual([image.id]);

    const got = (await a.get(`/api/admin/content/${article.id}`).expect(200)).body as Material;
    expect(got.body).toBe('# 欢迎\n\n**展位** A12');
    const edited = (await a.put(`/api/admin/content/${article.id}`, { title: '展会指南（更新）', body: '新的正文' }).expect(200))
      .body as Material;
    expect(edited).toMatchObject({ title: '展会指南（更新）', body: '新的正文', summary: '三分钟看懂' });

    await a.post(`/api/admin/content/${pdf.id}/archive`, {}).expect(200, { archived: true, id: pdf.id });
    await a.post(`/api/admin/content/${pdf.id}/archive`, {}).expect(200, { archived: true, id: pdf.id });
    const active = (await a.get('/api/admin/content').expect(200)).body as { items: Material[] };
    expect(active.items.map((m) => m.id)).toEqual([image.id, article.id]);
    const archived = (await a.get('/api/admin/content?status=archived').expect(200)).body as { items: Material[] };
    expect(archived.items.map((m) => m.id)).toEqual([pdf.id]);
    await request(stack.baseUrl).get(`/c/${pdf.code}`).expect(404);

    const audit = await db().dataSource.query<{ action: string; target_id: string | number }[]>(
      "SELECT action, target_id FROM audit_log WHERE target_type = 'content' ORDER BY id",
    );
    expect(audit.map((row) => [row.action, Number(row.target_id)])).toEqual([
      ['content.create', article.id],
      ['content.create', image.id],
      ['content.create', pdf.id],
      ['content.update', article.id],
      ['content.archive', pdf.id],
    ]);
  });

  it('says what each bad input gets', async () => {
    const a = api(admin);
    const refused = async (body: object, path: string, code: string) => {
      const answer = await a.post('/api/admin/content', body).expect(400);
      expect(answer.body).toMatchObject({ error: { code: 'bad_request', details: [expect.objectContaining({ path, code })] } });
    };
    await refused({ kind: 'poster', title: 'x' }, 'kind', 'invalid_value');
    await refused({ kind: 'image', title: '  ' }, 'title', 'too_small');
    await refused({ kind: 'image', title: 'x', body: 'text' }, 'body', 'content_body_article');
    await refused({ kind: 'article', title: 'x', body: '字'.repeat(20_001) }, 'body', 'content_body_bytes');
    await refused({ kind: 'article', title: 'x', extra: 1 }, '', 'unrecognized_keys');
    await a.get('/api/admin/content?limit=500').expect(400);
    await a.get('/api/admin/content/abc').expect(404);
    await a.get('/api/admin/content/999').expect(404);
    await a.put('/api/admin/content/999', { title: 'x' }).expect(404);
    const image = await create({ kind: 'image', title: '图' });
    await a.put(`/api/admin/content/${image.id}`, { body: '正文' }).expect(400);

    // A sales rep reads materials (to share them) but changes none.
    const rep = api(await signIn('rep', 'sales'));
    await rep.get('/api/admin/content').expect(200);
    await rep.post('/api/admin/content', { kind: 'image', title: 'x' }).expect(403);
    await rep.upload(image.id, PNG, 'a.png').expect(403);
    await request(stack.baseUrl).get('/api/admin/content').expect(401);
    const rows = await db().dataSource.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM content_materials');
    expect(Number(rows[0].n)).toBe(1);
  });

  it('takes a file by what its first bytes are, not by its name, and keeps nothing it refuses', async () => {
    const a = api(admin);
    const image = await create({ kind: 'image', title: '展位图' });
    // HTML named .png and sent as image/png: refused, the material still has no file.
    const fake = await a.upload(image.id, Buffer.from('<html><script>alert(1)</script></html>'), 'photo.png', 'image/png').expect(415);
    expect(fake.body).toMatchObject({ error: { code: 'content_file_type' } });
    await a.upload(image.id, PDF, 'manual.png').expect(415);
    await a.upload(image.id, Buffer.alloc(0), 'empty.png').expect(415);
    expect(((await a.get(`/api/admin/content/${image.id}`).expect(200)).body as Material).file).toBeNull();

    const uploaded = (await a.upload(image.id, PNG, '展位.png', 'text/plain').expect(200)).body as Material;
    expect(uploaded.file).toMatchObject({ type: 'image/png', name: '展位.png', size: PNG.length, url: `/c/${image.code}/file` });
    const served = await bytesOf(`/c/${image.code}/file`).expect(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.body).toEqual(PNG);

    // Over CONTENT_MAX_UPLOAD_MB (1 here): 413, and the PNG stays.
    const big = Buffer.concat([PNG, Buffer.alloc(1024 * 1024)]);
    const tooLarge = await a.upload(image.id, big, 'big.png');
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ error: { code: 'payload_too_large' } });
    expect((await bytesOf(`/c/${image.code}/file`).expect(200)).body).toEqual(PNG);

    // A video takes an MP4 only; a PDF a PDF only; an article's file is its cover image.
    const video = await create({ kind: 'video', title: '产品视频' });
    await a.upload(video.id, PNG, 'v.mp4').expect(415);
    await a.upload(video.id, MP4, 'v.mp4').expect(200);
    const pdf = await create({ kind: 'pdf', title: '手册' });
    await a.upload(pdf.id, MP4, 'm.pdf').expect(415);
    await a.upload(pdf.id, PDF, 'm.pdf').expect(200);
    const article = await create({ kind: 'article', title: '文章', body: '正文' });
    await a.upload(article.id, PDF, 'cover.pdf').expect(415);
    await a.upload(article.id, PNG, 'cover.png').expect(200);
    await a.upload(999, PNG, 'x.png').expect(404);

    const audit = await db().dataSource.query<{ n: number | string }[]>(
      "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'content.upload'",
    );
    expect(Number(audit[0].n)).toBe(4);
    // One file kept per material: a replaced file is removed, a refused one never stays.
    const files = (dir: string): string[] =>
      fs.existsSync(dir)
        ? fs
            .readdirSync(dir, { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => e.name)
        : [];
    expect(files(path.join(stack.config.content.dir, 'materials'))).toHaveLength(4);
    await a.upload(image.id, PNG, '新展位.png').expect(200);
    expect(files(path.join(stack.config.content.dir, 'materials'))).toHaveLength(4);
    expect(files(path.join(stack.config.content.dir, '.tmp'))).toEqual([]);
  });

  it('refuses a chunked upload (no Content-Length) when it passes the limit, keeping no partial file', async () => {
    const image = await create({ kind: 'image', title: '大图' });
    // 1.5 MB in 64 KiB chunks with no declared length: the store counts as it writes and stops at 1 MB.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${stack.baseUrl}/api/admin/content/${image.id}/file?name=big.png`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'image/png', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(PNG);
      const chunk = Buffer.alloc(64 * 1024);
      let sent = 0;
      const pump = (): void => {
        while (sent < 24) {
          sent += 1;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload_too_large' } });
    expect(((await api(admin).get(`/api/admin/content/${image.id}`).expect(200)).body as Material).file).toBeNull();
    // Nothing kept: no temporary file, no file under the material.
    const files = (dir: string): string[] =>
      fs.existsSync(dir)
        ? fs
            .readdirSync(dir, { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => e.name)
        : [];
    expect(files(path.join(stack.config.content.dir, '.tmp'))).toEqual([]);
    expect(files(path.join(stack.config.content.dir, 'materials'))).toEqual([]);
  });

  it('serves a file with byte ranges: 206 with Content-Range, 416 past the end, ETag and Last-Modified', async () => {
    const a = api(admin);
    const video = await create({ kind: 'video', title: '产品视频' });
    await a.upload(video.id, MP4, 'v.mp4').expect(200);
    const path = `/c/${video.code}/file`;
    const size = MP4.length;

    const whole = await bytesOf(path).expect(200);
    expect(whole.body).toEqual(MP4);
    expect(whole.headers).toMatchObject({ 'accept-ranges': 'bytes', 'content-length': String(size), 'content-type': 'video/mp4' });
    const etag = String(whole.headers.etag);
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(new Date(String(whole.headers['last-modified'])).getTime()).not.toBeNaN();

    const first = await bytesOf(path).set('Range', 'bytes=0-99').expect(206);
    expect(first.headers['content-range']).toBe(`bytes 0-99/${size}`);
    expect(first.headers['content-length']).toBe('100');
    expect(first.body).toEqual(MP4.subarray(0, 100));
    const open = await bytesOf(path)
      .set('Range', `bytes=${size - 10}-`)
      .expect(206);
    expect(open.headers['content-range']).toBe(`bytes ${size - 10}-${size - 1}/${size}`);
    expect(open.body).toEqual(MP4.subarray(size - 10));
    const suffix = await bytesOf(path).set('Range', 'bytes=-16').expect(206);
    expect(suffix.body).toEqual(MP4.subarray(size - 16));
    const clipped = await bytesOf(path)
      .set('Range', `bytes=100-${size + 500}`)
      .expect(206);
    expect(clipped.headers['content-range']).toBe(`bytes 100-${size - 1}/${size}`);

    const past = await request(stack.baseUrl).get(path).set('Range', `bytes=${size}-`).expect(416);
    expect(past.headers['content-range']).toBe(`bytes */${size}`);
    expect(past.body).toMatchObject({ error: { code: 'range_not_satisfiable' } });
    // Several ranges, a reversed one, another unit: ignored, the whole file (RFC 9110 §14.2).
    for (const range of ['bytes=0-1,5-6', 'bytes=9-3', 'items=0-1'])
      expect((await bytesOf(path).set('Range', range).expect(200)).body).toEqual(MP4);

    await request(stack.baseUrl).get(path).set('If-None-Match', etag).expect(304);
    expect((await bytesOf(path).set('Range', 'bytes=0-9').set('If-Range', etag).expect(206)).body).toEqual(MP4.subarray(0, 10));
    expect((await bytesOf(path).set('Range', 'bytes=0-9').set('If-Range', '"stale"').expect(200)).body).toEqual(MP4);
    const head = await request(stack.baseUrl).head(path).set('Range', 'bytes=0-9').expect(206);
    expect(head.headers['content-length']).toBe('10');

    await request(stack.baseUrl).get('/c/nosuchcode/file').expect(404);
    const empty = await create({ kind: 'video', title: '未上传' });
    await request(stack.baseUrl).get(`/c/${empty.code}/file`).expect(404);
  });

  it('counts an anonymous view with its channel and read time; an unknown ch is ignored', async () => {
    const a = api(admin);
    const channel = (await a.post('/api/admin/channels', { name: '朋友圈', kind: 'h5' }).expect(201)).body as { id: number };
    const article = await create({
      kind: 'article',
      title: '展会<指南>',
      summary: '摘要',
      body: '# 标题\n\n<script>alert(1)</script> [官网](https://example.com)',
    });

    const page = await request(stack.baseUrl).get(`/c/${article.code}?ch=${channel.id}`).expect(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'nonce-/);
    const html = page.text;
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('<h1>展会&lt;指南&gt;</h1>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<a href="https://example.com" rel="noopener">官网</a>');
    const cookie = (page.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('fw_vid='));
    expect(cookie).toMatch(/^fw_vid=[A-Za-z0-9_-]{22}; path=\/c\/; expires=.*; samesite=lax; httponly$/);
    const view = viewKeyOf(html);

    // The page was served at the clock's now; 40 s later it reports 30 s, then 25 s: the latest wins.
    stack.clock.advance(40_000);
    const beacon = (body: string) =>
      request(stack.baseUrl).post(`/c/${article.code}/beacon`).set('content-type', 'text/plain;charset=UTF-8').send(body);
    await beacon(JSON.stringify({ view, seconds: 30 })).expect(204);
    await beacon(JSON.stringify({ view, seconds: 25.4 })).expect(204);
    let rows = await db().dataSource.query<
      { channel_id: number | string | null; read_seconds: number | string; contact_id: unknown; visitor_id: string }[]
    >('SELECT channel_id, read_seconds, contact_id, visitor_id FROM content_views');
    expect(rows.map((r) => [Number(r.channel_id), Number(r.read_seconds), r.contact_id])).toEqual([[channel.id, 25, null]]);
    expect(cookie).toContain(rows[0].visitor_id);
    // A claim beyond the time since the page was served is cut to it (plus a minute's slack).
    await beacon(JSON.stringify({ view, seconds: 3600 })).expect(204);
    rows = await db().dataSource.query('SELECT channel_id, read_seconds, contact_id, visitor_id FROM content_views');
    expect(Number(rows[0].read_seconds)).toBe(100);

    // Bad beacons: each refused, none changes the view.
    await beacon('not json').expect(400);
    await beacon(JSON.stringify({ view, seconds: -1 })).expect(400);
    await beacon(JSON.stringify({ view: 'no such view', seconds: 1 })).expect(400);
    await beacon(JSON.stringify({ view: 'AAAAAAAAAAAAAAAAAAAAAA', seconds: 1 })).expect(404);
    await beacon('x'.repeat(2000)).expect(413);
    const other = await create({ kind: 'image', title: '别的' });
    await request(stack.baseUrl).post(`/c/${other.code}/beacon`).send({ view, seconds: 5 }).expect(404);

    // The same visitor again (the cookie sent back), through an unknown channel and a malformed one: counted, no channel.
    await request(stack.baseUrl)
      .get(`/c/${article.code}?ch=99999`)
      .set('Cookie', cookie?.split(';')[0] ?? '')
      .expect(200);
    await request(stack.baseUrl).get(`/c/${article.code}?ch=abc`).expect(200);
    await request(stack.baseUrl).get('/c/unknowncode1').expect(404);
    // A HEAD (a link checker, a chat's preview fetch) is answered and not counted.
    await request(stack.baseUrl).head(`/c/${article.code}?ch=${channel.id}`).expect(200);
    await request(stack.baseUrl).head('/c/unknowncode1').expect(404);

    const got = (await a.get(`/api/admin/content/${article.id}`).expect(200)).body as Material;
    expect(got.stats).toEqual({ views: 3, visitors: 2, knownViews: 0, avgReadSeconds: 100 });
    expect(got.byChannel).toEqual([
      { channelId: null, views: 2, visitors: 2, knownViews: 0, avgReadSeconds: null },
      { channelId: channel.id, views: 1, visitors: 1, knownViews: 0, avgReadSeconds: 100 },
    ]);
    // Anonymous views are not on any timeline.
    const interactions = await db().dataSource.query<{ n: number | string }[]>(
      "SELECT COUNT(*) AS n FROM interactions WHERE type = 'content_view'",
    );
    expect(Number(interactions[0].n)).toBe(0);
  });

  it("records a known visitor's view as a content_view interaction that attributes the channel and fires a content_id rule", async () => {
    const a = api(admin);
    const s = stack.services;
    reader = await s.transactor.run(async (m) => {
      const ids = await s.contacts.resolveContacts(m, [
        { kind: 'oa_openid', appId: stack.config.officialAccount.appId, value: 'o-reader' },
      ]);
      return [...ids.values()][0] ?? null;
    });
    const channel = (await a.post('/api/admin/channels', { name: '销售转发', kind: 'h5' }).expect(201)).body as { id: number };
    const pdf = await create({ kind: 'pdf', title: '产品手册' });
    await a.upload(pdf.id, PDF, 'manual.pdf').expect(200);
    await a
      .post('/api/admin/tag-rules', {
        name: '读过手册',
        interactionType: 'content_view',
        matchKind: 'content_id',
        matchValue: String(pdf.id),
        addTags: [{ group: '内容', name: '读过产品手册' }],
      })
      .expect(201);

    const page = await request(stack.baseUrl).get(`/c/${pdf.code}?ch=${channel.id}`).expect(200);
    expect(page.text).toContain(`href="/c/${pdf.code}/file"`);
    const view = viewKeyOf(page.text);
    stack.clock.advance(20_000);
    await request(stack.baseUrl).post(`/c/${pdf.code}/beacon`).send({ view, seconds: 12 }).expect(204);
    await settle();

    const rows = await db().dataSource.query<
      { contact_id: number | string; channel: string; ref_type: string; ref_id: string; detail: unknown; dedupe_key: string }[]
    >("SELECT contact_id, channel, ref_type, ref_id, detail, dedupe_key FROM interactions WHERE type = 'content_view'");
    expect(rows).toHaveLength(1);
    const detail = (typeof rows[0].detail === 'string' ? JSON.parse(rows[0].detail) : rows[0].detail) as Record<string, unknown>;
    expect({ ...rows[0], contact_id: Number(rows[0].contact_id), detail }).toEqual({
      contact_id: reader,
      channel: 'web',
      ref_type: 'content',
      ref_id: String(pdf.id),
      detail: { contentId: pdf.id, title: '产品手册', kind: 'pdf', channelId: channel.id },
      dedupe_key: `content:view:${view}`,
    });
    const touches = await db().dataSource.query<{ channel_id: number | string; contact_id: number | string; type: string }[]>(
      'SELECT channel_id, contact_id, type FROM channel_touches',
    );
    expect(touches.map((t) => [Number(t.channel_id), Number(t.contact_id), t.type])).toEqual([[channel.id, reader, 'content_view']]);
    const tags = await db().dataSource.query<{ name: string }[]>(
      'SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ?',
      [reader],
    );
    expect(tags.map((t) => t.name)).toContain('读过产品手册');
    const got = (await a.get(`/api/admin/content/${pdf.id}`).expect(200)).body as Material;
    expect(got.stats).toEqual({ views: 1, visitors: 1, knownViews: 1, avgReadSeconds: 12 });
    const timeline = (await a.get(`/api/admin/contacts/${reader}/timeline`).expect(200)).body as { items: { type: string }[] };
    expect(timeline.items.map((item) => item.type)).toContain('content_view');
  });
});
