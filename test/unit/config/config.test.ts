import { ConfigError, loadConfig, SANDBOX_CREDENTIALS } from '../../../config/config.schema';

describe('loadConfig', () => {
  it('runs on SQLite with the sandbox platform when nothing is set', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ kind: 'sqlite', path: './data/flywheel.sqlite' });
    expect(config.sandbox).toBe(true);
    expect(config.port).toBe(3000);
    expect(config.publicBaseUrl).toBe('http://localhost:3000');
    expect(config.officialAccount.appId).toBe(SANDBOX_CREDENTIALS.wechatAppId);
    expect(config.callbackMaxAgeSeconds).toBe(300);
    expect(Object.isFrozen(config.officialAccount)).toBe(true);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ WECHAT_APPID: '', PORT: '' }).sandbox).toBe(true);
  });

  it('fails fast naming the bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ WECHAT_AES_KEY: 'short' })).toThrow(/WECHAT_AES_KEY/);
    expect(() => loadConfig({ CALLBACK_MAX_AGE_S: '-1' })).toThrow(ConfigError);
  });

  it('needs the Official Account credentials together, and leaves the sandbox when they are set', () => {
    expect(() => loadConfig({ WECHAT_APPID: 'wx123' })).toThrow(/WECHAT_SECRET, WECHAT_TOKEN, WECHAT_AES_KEY/);
    const config = loadConfig({
      WECHAT_APPID: 'wx123',
      WECHAT_SECRET: 's',
      WECHAT_TOKEN: 't',
      WECHAT_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
      DATABASE_URL: 'mysql://root@127.0.0.1:3306/flywheel',
    });
    expect(config.sandbox).toBe(false);
    expect(config.database).toEqual({ kind: 'mysql', url: 'mysql://root@127.0.0.1:3306/flywheel' });
  });

  it('needs ADMIN_PASSWORD of 8 characters with ADMIN_USERNAME', () => {
    expect(() => loadConfig({ ADMIN_USERNAME: 'admin' })).toThrow(/ADMIN_PASSWORD/);
    expect(() => loadConfig({ ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'short' })).toThrow(/ADMIN_PASSWORD/);
    expect(loadConfig({ ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'long enough' }).bootstrapAdmin).toEqual({ username: 'admin', password: 'long enough' });
  });

  it('reads BUSINESS_TIMEZONE as an IANA zone, Asia/Shanghai by default', () => {
    expect(loadConfig({}).businessTimeZone).toBe('Asia/Shanghai');
    expect(loadConfig({ BUSINESS_TIMEZONE: 'Europe/Berlin' }).businessTimeZone).toBe('Europe/Berlin');
    expect(loadConfig({ BUSINESS_TIMEZONE: 'asia/shanghai' }).businessTimeZone).toBe('Asia/Shanghai');
    expect(() => loadConfig({ BUSINESS_TIMEZONE: 'Mars/Olympus' })).toThrow(ConfigError);
    expect(() => loadConfig({ BUSINESS_TIMEZONE: 'Mars/Olympus' })).toThrow(/BUSINESS_TIMEZONE: must be an IANA time zone/);
  });
});
