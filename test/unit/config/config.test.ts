import { ConfigError, loadConfig, SANDBOX_CREDENTIALS } from '../../../config/config.schema';

describe('loadConfig', () => {
  it('runs on SQLite with the sandbox platform when nothing is set', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ kind: 'sqlite', path: './data/flywheel.sqlite' });
    expect(config.sandbox).toBe(true);
    expect(config.port).toBe(3000);
    expect(config.publicBaseUrl).toBe('http://localhost:3000');
    expect(config.officialAccount?.appId).toBe(SANDBOX_CREDENTIALS.wechatAppId);
    expect(config.wecom?.corpId).toBe(SANDBOX_CREDENTIALS.wecomCorpId);
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

  const WECHAT = {
    WECHAT_APPID: 'wx123',
    WECHAT_SECRET: 's',
    WECHAT_TOKEN: 't',
    WECHAT_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  };
  const WECOM = {
    WECOM_CORP_ID: 'ww123',
    WECOM_TOKEN: 't',
    WECOM_AES_KEY: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg',
    WECOM_SECRET: 's',
  };

  it('with only the Official Account configured, WeCom is disabled, not given the sandbox keys', () => {
    const config = loadConfig(WECHAT);
    expect(config.sandbox).toBe(false);
    expect(config.officialAccount).toEqual({ appId: 'wx123', secret: 's', token: 't', aesKey: WECHAT.WECHAT_AES_KEY, messageMode: 'safe' });
    expect(config.wecom).toBeNull();
  });

  it('WECHAT_MESSAGE_MODE: safe by default (the AES key is set), any of the three when given, nothing else', () => {
    expect(loadConfig({}).officialAccount?.messageMode).toBe('safe');
    for (const mode of ['plain', 'compatible', 'safe'])
      expect(loadConfig({ ...WECHAT, WECHAT_MESSAGE_MODE: mode }).officialAccount?.messageMode).toBe(mode);
    expect(() => loadConfig({ ...WECHAT, WECHAT_MESSAGE_MODE: 'aes' })).toThrow(/WECHAT_MESSAGE_MODE/);
  });

  it('refuses plain mode without a freshness window: an unsigned body under a signature good for ever', () => {
    expect(() => loadConfig({ ...WECHAT, WECHAT_MESSAGE_MODE: 'plain', CALLBACK_MAX_AGE_S: '0' })).toThrow(/CALLBACK_MAX_AGE_S/);
    expect(loadConfig({ ...WECHAT, WECHAT_MESSAGE_MODE: 'safe', CALLBACK_MAX_AGE_S: '0' }).callbackMaxAgeSeconds).toBe(0);
  });

  it('with only WeCom configured, the Official Account is disabled', () => {
    const config = loadConfig(WECOM);
    expect(config.sandbox).toBe(false);
    expect(config.officialAccount).toBeNull();
    expect(config.wecom).toMatchObject({ corpId: 'ww123', token: 't', aesKey: WECOM.WECOM_AES_KEY, secret: 's' });
  });

  it('SANDBOX=off with nothing configured disables both platforms', () => {
    const config = loadConfig({ SANDBOX: 'off' });
    expect(config).toMatchObject({ sandbox: false, officialAccount: null, wecom: null });
  });

  it("refuses SANDBOX=on beside a platform's own credentials: its player would sign callbacks with them for anyone", () => {
    expect(() => loadConfig({ ...WECHAT, SANDBOX: 'on' })).toThrow(/SANDBOX: cannot be on while WECHAT_\* credentials are set/);
    expect(() => loadConfig({ ...WECOM, SANDBOX: 'on' })).toThrow(/WECOM_\* credentials/);
    expect(() => loadConfig({ ...WECHAT, ...WECOM, SANDBOX: 'on' })).toThrow(/WECHAT_\* and WECOM_\*/);
    expect(loadConfig({ SANDBOX: 'on' })).toMatchObject({ sandbox: true, wecom: { aesKey: SANDBOX_CREDENTIALS.wecomAesKey } });
  });

  it("hashes passwords at OWASP's scrypt cost unless told otherwise, and never below it in production", () => {
    expect(loadConfig({}).passwordScryptN).toBe(2 ** 14);
    expect(loadConfig({ PASSWORD_SCRYPT_N: '1024' }).passwordScryptN).toBe(1024);
    expect(() => loadConfig({ PASSWORD_SCRYPT_N: '1024', NODE_ENV: 'production' })).toThrow(/PASSWORD_SCRYPT_N: cannot be below 16384/);
    expect(loadConfig({ PASSWORD_SCRYPT_N: String(2 ** 15), NODE_ENV: 'production' }).passwordScryptN).toBe(2 ** 15);
    expect(() => loadConfig({ PASSWORD_SCRYPT_N: '3000' })).toThrow(/PASSWORD_SCRYPT_N: must be a power of two/);
    expect(() => loadConfig({ PASSWORD_SCRYPT_N: '512' })).toThrow(/PASSWORD_SCRYPT_N/);
    expect(() => loadConfig({ PASSWORD_SCRYPT_N: String(2 ** 21) })).toThrow(/PASSWORD_SCRYPT_N/);
  });

  it('refuses SANDBOX=on in production, and auto never turns the sandbox on there', () => {
    expect(() => loadConfig({ SANDBOX: 'on', NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ SANDBOX: 'on', NODE_ENV: 'production' })).toThrow(/SANDBOX/);
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ sandbox: false, officialAccount: null, wecom: null });
    expect(loadConfig({ ...WECHAT, ...WECOM, NODE_ENV: 'production' })).toMatchObject({
      sandbox: false,
      officialAccount: { appId: 'wx123' },
      wecom: { corpId: 'ww123' },
    });
  });

  it('TRUST_PROXY is off unless set to a boolean word', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(() => loadConfig({ TRUST_PROXY: 'maybe' })).toThrow(/TRUST_PROXY/);
  });

  it('needs ADMIN_PASSWORD of 8 characters with ADMIN_USERNAME', () => {
    expect(() => loadConfig({ ADMIN_USERNAME: 'admin' })).toThrow(/ADMIN_PASSWORD/);
    expect(() => loadConfig({ ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'short' })).toThrow(/ADMIN_PASSWORD/);
    expect(loadConfig({ ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'long enough' }).bootstrapAdmin).toEqual({
      username: 'admin',
      password: 'long enough',
    });
  });

  it('reads BUSINESS_TIMEZONE as an IANA zone, Asia/Shanghai by default', () => {
    expect(loadConfig({}).businessTimeZone).toBe('Asia/Shanghai');
    expect(loadConfig({ BUSINESS_TIMEZONE: 'Europe/Berlin' }).businessTimeZone).toBe('Europe/Berlin');
    expect(loadConfig({ BUSINESS_TIMEZONE: 'asia/shanghai' }).businessTimeZone).toBe('Asia/Shanghai');
    expect(() => loadConfig({ BUSINESS_TIMEZONE: 'Mars/Olympus' })).toThrow(ConfigError);
    expect(() => loadConfig({ BUSINESS_TIMEZONE: 'Mars/Olympus' })).toThrow(/BUSINESS_TIMEZONE: must be an IANA time zone/);
  });
});
