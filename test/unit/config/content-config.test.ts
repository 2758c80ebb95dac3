import path from 'node:path';
import { loadConfig } from '../../../config/config.schema';

describe('the content centre config (CONTENT_DIR, CONTENT_MAX_UPLOAD_MB)', () => {
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
});
