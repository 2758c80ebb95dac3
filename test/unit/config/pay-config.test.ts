import { ConfigError, loadConfig } from '../../../config/config.schema';
import { generateSandboxPayKeys } from '../../../server/adapters/sandbox/sandbox-pay-keys';
import { sandboxPayKeysWithCertificate } from '../../support/pay-keys';

describe('WeChat Pay configuration', () => {
  const keys = sandboxPayKeysWithCertificate('wxpay');
  const merchant = {
    SANDBOX: 'off',
    WECHATPAY_MCHID: '1900000109',
    WECHATPAY_APPID: 'wxpay',
    WECHATPAY_SERIAL_NO: keys.merchantSerialNo,
    // As a .env line carries it: one line, `\n` written out.
    WECHATPAY_PRIVATE_KEY: keys.merchantPrivateKeyPem.replace(/\n/g, '\\n'),
    WECHATPAY_APIV3_KEY: keys.apiV3Key,
  };

  it('is off without a merchant (sandbox mode brings its own at start)', () => {
    expect(loadConfig({}).pay).toEqual({ merchant: null, apiBase: null, notifyMaxAgeSeconds: 300 });
    expect(loadConfig({ SANDBOX: 'off' }).pay.merchant).toBeNull();
  });

  it('reads a merchant with the public key and the platform certificate, each keyed as Wechatpay-Serial names it', () => {
    const config = loadConfig({
      ...merchant,
      WECHATPAY_PUBLIC_KEY_ID: keys.publicKey.id,
      WECHATPAY_PUBLIC_KEY: keys.publicKey.publicKeyPem,
      WECHATPAY_PLATFORM_CERT: keys.certificate?.certificatePem,
      WECHATPAY_API_BASE: 'http://127.0.0.1:9/pay/',
    });
    expect(config.pay.merchant).toMatchObject({ mchId: '1900000109', appId: 'wxpay', apiV3Key: keys.apiV3Key });
    expect(config.pay.merchant?.merchantPrivateKeyPem).toContain('\n');
    expect(config.pay.merchant?.platformKeys.map((k) => k.id)).toEqual([keys.publicKey.id, keys.certificate?.serialNo]);
    expect(config.pay.apiBase).toBe('http://127.0.0.1:9/pay');
  });

  it('refuses a partial merchant, a merchant without a way to verify, bad keys, and a merchant in sandbox mode', () => {
    expect(() => loadConfig({ SANDBOX: 'off', WECHATPAY_MCHID: '1900000109' })).toThrow(
      /WECHATPAY_SERIAL_NO, WECHATPAY_PRIVATE_KEY, WECHATPAY_APIV3_KEY/,
    );
    expect(() => loadConfig(merchant)).toThrow(/WECHATPAY_PLATFORM_CERT/);
    expect(() => loadConfig({ ...merchant, WECHATPAY_PLATFORM_CERT: 'not a certificate' })).toThrow(/WECHATPAY_PLATFORM_CERT/);
    expect(() => loadConfig({ ...merchant, WECHATPAY_PUBLIC_KEY_ID: keys.publicKey.id })).toThrow(/set both or neither/);
    expect(() => loadConfig({ ...merchant, WECHATPAY_APIV3_KEY: 'short' })).toThrow(/WECHATPAY_APIV3_KEY/);
    const other = generateSandboxPayKeys('wxpay');
    expect(() =>
      loadConfig({
        ...merchant,
        WECHATPAY_PRIVATE_KEY: 'junk',
        WECHATPAY_PUBLIC_KEY_ID: other.publicKey.id,
        WECHATPAY_PUBLIC_KEY: other.publicKey.publicKeyPem,
      }),
    ).toThrow(/WECHATPAY_PRIVATE_KEY/);
    expect(() =>
      loadConfig({
        ...merchant,
        SANDBOX: 'on',
        WECHATPAY_PUBLIC_KEY_ID: other.publicKey.id,
        WECHATPAY_PUBLIC_KEY: other.publicKey.publicKeyPem,
      }),
    ).toThrow(ConfigError);
  });
});
