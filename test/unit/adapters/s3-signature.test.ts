import { EMPTY_PAYLOAD_SHA256, sha256Hex, signS3Request } from '../../../server/adapters/s3-signature';

/** The credentials of AWS's "Signature Calculations for the Authorization Header" examples. */
const EXAMPLE = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'us-east-1' };
const AT = new Date('2013-05-24T00:00:00Z');

describe('S3 Signature Version 4 (AWS published examples)', () => {
  it('signs "GET Object" with a Range header as AWS documents', () => {
    const headers = signS3Request(
      {
        method: 'GET',
        path: '/test.txt',
        headers: { Host: 'examplebucket.s3.amazonaws.com', Range: 'bytes=0-9' },
        payloadSha256: EMPTY_PAYLOAD_SHA256,
        at: AT,
      },
      EXAMPLE,
    );
    expect(headers['x-amz-date']).toBe('20130524T000000Z');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('signs "PUT Object" with a key that needs encoding ($) and a signed body hash', () => {
    const body = 'Welcome to Amazon S3.';
    expect(sha256Hex(body)).toBe('44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
    const headers = signS3Request(
      {
        method: 'PUT',
        path: '/test$file.text',
        headers: {
          Host: 'examplebucket.s3.amazonaws.com',
          Date: 'Fri, 24 May 2013 00:00:00 GMT',
          'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        },
        payloadSha256: sha256Hex(body),
        at: AT,
      },
      EXAMPLE,
    );
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
        'SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,' +
        'Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    );
  });

  it('changes the signature when the secret, the path or the body hash differ', () => {
    const base = { method: 'GET', path: '/b/k', headers: { host: 'h' }, payloadSha256: EMPTY_PAYLOAD_SHA256, at: AT };
    const signed = signS3Request(base, EXAMPLE).authorization;
    expect(signS3Request(base, { ...EXAMPLE, secretAccessKey: 'other' }).authorization).not.toBe(signed);
    expect(signS3Request({ ...base, path: '/b/k2' }, EXAMPLE).authorization).not.toBe(signed);
    expect(signS3Request({ ...base, payloadSha256: sha256Hex('x') }, EXAMPLE).authorization).not.toBe(signed);
  });
});
