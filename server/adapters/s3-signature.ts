import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 for S3-compatible stores (AWS S3, Tencent COS, Aliyun OSS, MinIO all take
 * it), in the Authorization header. Pure: the caller gives the time, so a test can replay AWS's
 * published examples and a server double can check a request with the same rules.
 *
 * The canonical request is `method \n path \n query \n headers \n \n signed-header-names \n
 * payload-hash`; the string to sign names the scope `<yyyymmdd>/<region>/s3/aws4_request`; the key
 * is an HMAC chain from `AWS4<secret>` through date, region, service and `aws4_request`.
 */

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface S3RequestToSign {
  method: string;
  /** The object's path as stored, not encoded: `/<bucket>/<key>` (path-style) or `/<key>`. */
  path: string;
  /** Lower- or mixed-case names; `host` must be among them. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body (EMPTY_PAYLOAD_SHA256 for none); sent as x-amz-content-sha256. */
  payloadSha256: string;
  at: Date;
}

/** SHA-256 of nothing: the payload hash of a GET, HEAD or DELETE. */
export const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The headers to send: the given ones, x-amz-date, x-amz-content-sha256 and Authorization. */
export function signS3Request(request: S3RequestToSign, credentials: S3Credentials): Record<string, string> {
  const amzDate = request.at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers['x-amz-date'] = amzDate;
  headers['x-amz-content-sha256'] = request.payloadSha256;
  const names = Object.keys(headers).sort();
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(request.path),
    '',
    ...names.map((name) => `${name}:${headers[name].trim().replace(/\s+/g, ' ')}`),
    '',
    names.join(';'),
    request.payloadSha256,
  ].join('\n');
  const scope = `${day}/${credentials.region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [credentials.region, 's3', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope},` + `SignedHeaders=${names.join(';')},Signature=${signature}`;
  return headers;
}

/** Each segment URI-encoded once, RFC 3986's unreserved characters left as they are. */
export function canonicalPath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
