import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { describeEachDatabase } from '../../support/database';
import { startS3Double, type S3Double } from '../../support/s3-double';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** An MP4's first box (`ftyp`, brand isom) and 50,000 bytes of anything after it. */
const MP4 = Buffer.concat([Buffer.from('00000018667479706973736f6d0000020069736f6d69736f32', 'hex'), randomBytes(50_000)]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

describeEachDatabase('the content centre on an S3-compatible store (CONTENT_S3_*)', (db) => {
  let s3: S3Double;
  let stack: TestStack;
  let token: string;

  const start = async (secret: string) => {
    stack = await startTestStack(db(), {
      CONTENT_S3_ENDPOINT: s3.endpoint,
      CONTENT_S3_BUCKET: s3.bucket,
      CONTENT_S3_REGION: 'ap-shanghai',
      CONTENT_S3_ACCESS_KEY_ID: s3.accessKeyId,
      CONTENT_S3_SECRET_ACCESS_KEY: secret,
      CONTENT_S3_PREFIX: 'flywheel/test',
    });
    const created = await stack.services.operators.createOperator({
      username: 'admin',
      password: 'admin-password-1',
      role: 'admin',
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username: 'admin', password: 'admin-password-1', ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    token = login.token;
  };
  const create = async (body: object) =>
    (await request(stack.baseUrl).post('/api/admin/content').set('authorization', `Bearer ${token}`).send(body).expect(201)).body as {
      id: number;
      code: string;
    };
  const upload = (id: number, bytes: Buffer, name: string) =>
    request(stack.baseUrl)
      .put(`/api/admin/content/${id}/file?name=${name}`)
      .set('authorization', `Bearer ${token}`)
      .set('content-type', 'application/octet-stream')
      .send(bytes);
  const bytesOf = (p: string) =>
    request(stack.baseUrl)
      .get(p)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
  const stagedFiles = () => {
    const tmp = path.join(stack.config.content.dir, '.tmp');
    return fs.existsSync(tmp) ? fs.readdirSync(tmp) : [];
  };

  beforeEach(async () => {
    s3 = await startS3Double({ region: 'ap-shanghai' });
  });
  afterEach(async () => {
    await stack.close();
    await s3.close();
  });

  jest.setTimeout(60_000);

  it('keeps an upload in the bucket under the prefix, serves it whole and by range from there, and removes the replaced file', async () => {
    await start(s3.secretAccessKey);
    const video = await create({ kind: 'video', title: '产品视频' });
    await upload(video.id, MP4, 'v.mp4').expect(200);
    const [key] = [...s3.objects.keys()];
    expect(key).toMatch(new RegExp(`^flywheel/test/materials/${video.id}/[0-9a-f]{24}$`));
    expect(s3.objects.get(key)?.body.equals(MP4)).toBe(true);
    expect(stagedFiles()).toEqual([]);
    expect(fs.existsSync(path.join(stack.config.content.dir, 'materials'))).toBe(false);

    const whole = await bytesOf(`/c/${video.code}/file`).expect(200);
    expect(whole.body).toEqual(MP4);
    const part = await bytesOf(`/c/${video.code}/file`).set('Range', 'bytes=100-199').expect(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${MP4.length}`);
    expect(part.body).toEqual(MP4.subarray(100, 200));
    // The range went to the store as a range: only those bytes crossed the wire.
    expect(s3.requests.filter((r) => r.method === 'GET').map((r) => r.status)).toEqual([200, 206]);

    const replacement = Buffer.concat([MP4.subarray(0, 24), randomBytes(1_000)]);
    await upload(video.id, replacement, 'v2.mp4').expect(200);
    expect(s3.objects.has(key)).toBe(false);
    expect([...s3.objects.values()].map((o) => o.body.length)).toEqual([replacement.length]);
    expect((await bytesOf(`/c/${video.code}/file`).expect(200)).body).toEqual(replacement);
  });

  it('removes a file the kind refuses from the bucket again (a PDF is no video)', async () => {
    await start(s3.secretAccessKey);
    const video = await create({ kind: 'video', title: '产品视频' });
    const refused = await upload(video.id, PDF, 'a.pdf').expect(415);
    expect(refused.body).toMatchObject({ error: { code: 'content_file_type' } });
    expect(s3.objects.size).toBe(0);
    expect(s3.requests.map((r) => r.method)).toEqual(['PUT', 'DELETE']);
  });

  it('answers 502 content_store_failed with the store’s code when it refuses the signature, and the material keeps no file', async () => {
    await start('not-the-secret');
    const video = await create({ kind: 'video', title: '产品视频' });
    const refused = await upload(video.id, MP4, 'v.mp4').expect(502);
    expect(refused.body).toMatchObject({ error: { code: 'content_store_failed', details: { code: 'SignatureDoesNotMatch' } } });
    expect(JSON.stringify(refused.body)).not.toContain('not-the-secret');
    expect(s3.objects.size).toBe(0);
    expect(stagedFiles()).toEqual([]);
    const material = await request(stack.baseUrl).get(`/api/admin/content/${video.id}`).set('authorization', `Bearer ${token}`).expect(200);
    expect(material.body).toMatchObject({ file: null });
    await request(stack.baseUrl).get(`/c/${video.code}/file`).expect(404);
  });

  it('fails only the one download whose error answer is cut off, and serves the next (the process stays up)', async () => {
    await start(s3.secretAccessKey);
    const video = await create({ kind: 'video', title: '产品视频' });
    await upload(video.id, MP4, 'v.mp4').expect(200);
    s3.breakNext('GET');
    await expect(bytesOf(`/c/${video.code}/file`).then((res) => res.status)).rejects.toThrow();
    expect((await bytesOf(`/c/${video.code}/file`).expect(200)).body).toEqual(MP4);
  });
});
