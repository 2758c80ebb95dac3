import path from 'node:path';
import { loadConfig } from '../../../config/config.schema';

describe('the content centre config (CONTENT_DIR, CONTENT_MAX_UPLOAD_MB, CONTENT_S3_*)', () => {
  it('keeps files beside the SQLite file by default, in ./data/content on MySQL, or where CONTENT_DIR says', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/flywheel/db.sqlite' }).content.dir).toBe('/var/lib/flywheel/content');
    expect(loadConfig({}).content.dir).toBe(path.resolve('./data/content'));
    expect(loadConfig({ DATABASE_URL: 'mysql://u:p@db:3306/fw' }).content.dir).toBe(path.resolve('./data/content'));
    expect(loadConfig({ CONTENT_DIR: '/srv/content' }).content.dir).toBe('/srv/content');
  });

  it('takes the largest upload in MB, 200 by default, and refuses a size the int column cannot hold', () => {
    expect(loadConfig({}).content.maxUploadBytes).toBe(200 * 1024 * 1024);
    expect(loadConfig({ CONTENT_MAX_UPLOAD_MB: '5' }).content.maxUploadBytes).toBe(5 * 1024 * 1024);
    expect(() => loadConfig({ CONTENT_MAX_UPLOAD_MB: '4096' })).toThrow(/CONTENT_MAX_UPLOAD_MB/);
    expect(() => loadConfig({ CONTENT_MAX_UPLOAD_MB: 'lots' })).toThrow(/CONTENT_MAX_UPLOAD_MB/);
  });

  it('keeps files in an S3-compatible bucket when CONTENT_S3_BUCKET is set with its endpoint and keys, and refuses half of it', () => {
    expect(loadConfig({}).content.s3).toBeNull();
    const s3 = {
      CONTENT_S3_ENDPOINT: 'https://cos.ap-shanghai.myqcloud.com/',
      CONTENT_S3_BUCKET: 'flywheel-1250000000',
      CONTENT_S3_ACCESS_KEY_ID: 'AKID',
      CONTENT_S3_SECRET_ACCESS_KEY: 'secret',
    };
    expect(loadConfig({ ...s3, CONTENT_S3_REGION: 'ap-shanghai', CONTENT_S3_PREFIX: 'fw/prod' }).content.s3).toEqual({
      endpoint: 'https://cos.ap-shanghai.myqcloud.com',
      bucket: 'flywheel-1250000000',
      region: 'ap-shanghai',
      accessKeyId: 'AKID',
      secretAccessKey: 'secret',
      prefix: 'fw/prod/',
    });
    expect(loadConfig(s3).content.s3).toMatchObject({ region: 'us-east-1', prefix: '' });
    expect(() => loadConfig({ CONTENT_S3_BUCKET: 'flywheel' })).toThrow(
      /CONTENT_S3_ENDPOINT, CONTENT_S3_ACCESS_KEY_ID, CONTENT_S3_SECRET_ACCESS_KEY: required/,
    );
    expect(() => loadConfig({ ...s3, CONTENT_S3_BUCKET: 'Bad_Bucket' })).toThrow(/CONTENT_S3_BUCKET/);
    expect(() => loadConfig({ ...s3, CONTENT_S3_PREFIX: '/leading' })).toThrow(/CONTENT_S3_PREFIX/);
  });
});
