import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signS3Request } from '../../server/adapters/s3-signature';

/**
 * An S3-compatible store on loopback for tests, answering as S3 does where Flywheel relies on it:
 * Signature Version 4 checked (SignatureDoesNotMatch, InvalidAccessKeyId, RequestTimeTooSkewed),
 * the body's SHA-256 checked against x-amz-content-sha256 (XAmzContentSHA256Mismatch), a PUT
 * without Content-Length refused (MissingContentLength), NoSuchBucket / NoSuchKey, Range (206,
 * InvalidRange 416) and DELETE of a missing key answering 204. The signature is recomputed with the
 * signer under test over the headers the request says it signed; the signer itself is pinned to
 * AWS's published examples (test/unit/adapters/s3-signature.test.ts), so the two cannot agree on
 * a wrong signature.
 */
export interface S3Double {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  objects: Map<string, { body: Buffer; lastModified: Date }>;
  /** Every request: method, key and the status answered. */
  requests: { method: string; key: string; status: number }[];
  /** The next request of this method gets a 500 whose error body is cut off halfway (the connection dropped). */
  breakNext(method: string): void;
  close(): Promise<void>;
}

export async function startS3Double(
  p: { bucket?: string; accessKeyId?: string; secretAccessKey?: string; region?: string } = {},
): Promise<S3Double> {
  const bucket = p.bucket ?? 'flywheel-test';
  const accessKeyId = p.accessKeyId ?? 'AKIDFLYWHEELTEST';
  const secretAccessKey = p.secretAccessKey ?? 'flywheel-test-secret-key';
  const region = p.region ?? 'ap-shanghai';
  const objects = new Map<string, { body: Buffer; lastModified: Date }>();
  const requests: S3Double['requests'] = [];
  const breaking = new Set<string>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const [, pathBucket = '', ...rest] = path.split('/');
      const key = rest.join('/');
      const answer = (status: number, headers: Record<string, string | number> = {}, body: Buffer | string = '') => {
        requests.push({ method: req.method ?? '', key, status });
        res.writeHead(status, headers);
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      const fail = (status: number, code: string, message: string) =>
        answer(
          status,
          { 'content-type': 'application/xml' },
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
        );

      if (breaking.delete(req.method ?? '')) {
        requests.push({ method: req.method ?? '', key, status: 500 });
        res.writeHead(500, { 'content-type': 'application/xml', 'content-length': '500' });
        res.write('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Co');
        res.socket?.destroy();
        return;
      }
      const refusal = checkSignature(req, path, { accessKeyId, secretAccessKey, region });
      if (refusal) return fail(403, refusal.code, refusal.message);
      const body = Buffer.concat(chunks);
      if (pathBucket !== bucket) return fail(404, 'NoSuchBucket', 'The specified bucket does not exist');

      if (req.method === 'PUT') {
        if (req.headers['content-length'] === undefined)
          return fail(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
        if (createHash('sha256').update(body).digest('hex') !== req.headers['x-amz-content-sha256']) {
          return fail(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
        }
        objects.set(key, { body, lastModified: new Date() });
        return answer(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      }
      if (req.method === 'DELETE') {
        objects.delete(key);
        return answer(204);
      }
      const object = objects.get(key);
      if (!object) return req.method === 'HEAD' ? answer(404) : fail(404, 'NoSuchKey', 'The specified key does not exist.');
      const common = { 'last-modified': object.lastModified.toUTCString(), 'accept-ranges': 'bytes' };
      const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
      if (req.method === 'GET' && range) {
        const start = Number(range[1]);
        const end = Math.min(Number(range[2]), object.body.length - 1);
        if (start >= object.body.length || start > end) return fail(416, 'InvalidRange', 'The requested range is not satisfiable');
        const slice = object.body.subarray(start, end + 1);
        return answer(
          206,
          { ...common, 'content-length': slice.length, 'content-range': `bytes ${start}-${end}/${object.body.length}` },
          slice,
        );
      }
      return answer(200, { ...common, 'content-length': object.body.length }, object.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId,
    secretAccessKey,
    objects,
    requests,
    breakNext: (method) => breaking.add(method),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function checkSignature(
  req: http.IncomingMessage,
  path: string,
  credentials: { accessKeyId: string; secretAccessKey: string; region: string },
): { code: string; message: string } | null {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request,SignedHeaders=([a-z0-9;-]+),Signature=([0-9a-f]{64})$/.exec(
      String(req.headers.authorization ?? ''),
    );
  if (!match) return { code: 'AccessDenied', message: 'Missing or malformed Authorization header' };
  const [, keyId, , scopeRegion, signedHeaders] = match;
  if (keyId !== credentials.accessKeyId)
    return { code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const at = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (Number.isNaN(at.getTime()) || Math.abs(at.getTime() - Date.now()) > 15 * 60_000) {
    return { code: 'RequestTimeTooSkewed', message: 'The difference between the request time and the current time is too large.' };
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(';')) {
    if (name === 'x-amz-date' || name === 'x-amz-content-sha256') continue;
    headers[name] = String(req.headers[name] ?? '');
  }
  const expected = signS3Request(
    { method: req.method ?? '', path, headers, payloadSha256: String(req.headers['x-amz-content-sha256'] ?? ''), at },
    { ...credentials, region: scopeRegion },
  );
  if (scopeRegion !== credentials.region) {
    return { code: 'AuthorizationHeaderMalformed', message: `the region '${scopeRegion}' is wrong; expecting '${credentials.region}'` };
  }
  if (expected.authorization !== req.headers.authorization) {
    return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
  }
  return null;
}
