import { loadConfig } from '../../../config/config.schema';

describe('IMPORT_MAX_BYTES', () => {
  it('defaults to 32 MiB, also when left empty as in .env.example', () => {
    expect(loadConfig({}).importMaxBytes).toBe(32 * 1024 * 1024);
    expect(loadConfig({ IMPORT_MAX_BYTES: '' }).importMaxBytes).toBe(32 * 1024 * 1024);
  });

  it('takes a byte count, and refuses one under 1 KiB naming the variable', () => {
    expect(loadConfig({ IMPORT_MAX_BYTES: '2048' }).importMaxBytes).toBe(2048);
    expect(() => loadConfig({ IMPORT_MAX_BYTES: '10' })).toThrow(/IMPORT_MAX_BYTES/);
  });
});
