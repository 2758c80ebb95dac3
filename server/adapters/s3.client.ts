import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import type { S3StoreConfig } from '../../config/content-store.config';
import { EMPTY_PAYLOAD_SHA256, canonicalPath, signS3Request } from './s3-signature';

/** The store answered with an error (`<Error><Code>…`), or not at all (`code` 'network' / 'timeout'). */
export class S3Error extends Error {
  constructor(
    readonly operation: string,
    readonly status: number | null,
    readonly code: string,
    detail: string,
  ) {
    super(`S3 ${operation} failed: ${status ?? 'no answer'} ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'S3Error';
  }
}

export interface S3ObjectStat {
  size: number;
  lastModified: Date;
}

/**
 * The four object calls the content centre needs, path-style (`<endpoint>/<bucket>/<key>`, which
 * every S3-compatible store takes) and signed with Signature Version 4. Bodies stream both ways:
 * an upload sends a file of known size and hash (S3 refuses a PUT without a length unless it is
 * chunk-signed), a download is piped as it arrives.
 *
 * Signing uses the wall clock, never the application's Clock: the store refuses a request more than
 * 15 minutes off its own time (RequestTimeTooSkewed), and the sandbox's clock may have been moved.
 */
export class S3Client {
  private readonly base: URL;

  constructor(
    private readonly config: Omit<S3StoreConfig, 'prefix'>,
    private readonly options: { timeoutMs?: number; now?: () => Date } = {},
  ) {
    this.base = new URL(config.endpoint);
  }

  /** PutObject from a stream of exactly `size` bytes whose SHA-256 is `sha256` (the store checks both). */
  async putObject(key: string, body: Readable, p: { size: number; sha256: string; contentType?: string }): Promise<void> {
    const res = await this.send(
      'PutObject',
      'PUT',
      key,
      { 'content-length': String(p.size), 'content-type': p.contentType ?? 'application/octet-stream' },
      p.sha256,
      body,
    );
    await expectOk('PutObject', res, [200]);
  }

  /** HeadObject: null when there is no such key. */
  async headObject(key: string): Promise<S3ObjectStat | null> {
    const res = await this.send('HeadObject', 'HEAD', key, {}, EMPTY_PAYLOAD_SHA256);
    res.resume();
    if (res.statusCode === 404) return null;
    if (res.statusCode !== 200) throw new S3Error('HeadObject', res.statusCode ?? null, `HTTP${res.statusCode}`, '');
    return { size: Number(res.headers['content-length']), lastModified: new Date(res.headers['last-modified'] ?? 0) };
  }

  /** GetObject, bytes `start..end` inclusive when a range is given; the stream fails with S3Error on an error answer. */
  getObject(key: string, range?: { start: number; end: number }): Readable {
    const out = new PassThrough();
    const headers: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end}` } : {};
    this.send('GetObject', 'GET', key, headers, EMPTY_PAYLOAD_SHA256)
      .then(async (res) => {
        if (res.statusCode === 200 || res.statusCode === 206) {
          // pipeline, not pipe: a reader that goes away (the visitor closed the video) destroys
          // `out`, and the store's response with it, instead of leaving its socket open.
          pipeline(res, out, () => undefined);
          return;
        }
        out.destroy(await errorOf('GetObject', res));
      })
      // A refusal, no answer, or an error body cut off while read: the reader's stream fails.
      .catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));
    return out;
  }

  /** DeleteObject: deleting a missing key succeeds, as S3 itself answers 204 for it. */
  async deleteObject(key: string): Promise<void> {
    const res = await this.send('DeleteObject', 'DELETE', key, {}, EMPTY_PAYLOAD_SHA256);
    await expectOk('DeleteObject', res, [200, 204, 404]);
  }

  private send(
    operation: string,
    method: string,
    key: string,
    extra: Record<string, string>,
    payloadSha256: string,
    body?: Readable,
  ): Promise<IncomingMessage> {
    const path = `${this.base.pathname.replace(/\/+$/, '')}/${this.config.bucket}/${key}`;
    const headers = signS3Request(
      { method, path, headers: { host: this.base.host, ...extra }, payloadSha256, at: (this.options.now ?? (() => new Date()))() },
      this.config,
    );
    const transport = this.base.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port || undefined,
          method,
          path: canonicalPath(path),
          headers,
        },
        (res) => {
          // A download streams at the reader's pace (a paused video reads nothing for minutes):
          // the idle timeout guards the wait for the answer, not the body.
          if (method === 'GET' && (res.statusCode === 200 || res.statusCode === 206)) req.setTimeout(0);
          resolve(res);
        },
      );
      req.setTimeout(this.options.timeoutMs ?? 30_000, () => req.destroy(new S3Error(operation, null, 'timeout', '')));
      req.on('error', (error) => reject(error instanceof S3Error ? error : new S3Error(operation, null, 'network', error.message)));
      if (body) {
        body.on('error', (error) => req.destroy(error));
        body.pipe(req);
      } else {
        req.end();
      }
    });
  }
}

async function expectOk(operation: string, res: IncomingMessage, ok: number[]): Promise<void> {
  if (ok.includes(res.statusCode ?? 0)) {
    res.resume();
    return;
  }
  throw await errorOf(operation, res);
}

/** S3's error body: `<Error><Code>NoSuchKey</Code><Message>…</Message></Error>` (kept short; it never holds the secret). */
async function errorOf(operation: string, res: IncomingMessage): Promise<S3Error> {
  let text = '';
  for await (const chunk of res) {
    if (text.length < 4096) text += (chunk as Buffer).toString('utf8');
  }
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1] ?? `HTTP${res.statusCode}`;
  const message = /<Message>([^<]{1,300})<\/Message>/.exec(text)?.[1] ?? '';
  return new S3Error(operation, res.statusCode ?? null, code, message);
}
