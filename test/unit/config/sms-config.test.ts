import { ConfigError, loadConfig } from '../../../config/config.schema';
import { SMS_SANDBOX_CREDENTIALS } from '../../../config/sms.config';

describe('SMS configuration', () => {
  const real = { SMS_SECRET_ID: 'AKIDreal', SMS_SECRET_KEY: 'real-key', SMS_SDK_APP_ID: '1400123456', SMS_SIGN_NAME: '飞轮科技' };

  it('uses the sandbox account in sandbox mode when no SMS_* credentials are set, endpoint left to the composition', () => {
    const config = loadConfig({});
    expect(config.sms).toEqual({ ...SMS_SANDBOX_CREDENTIALS, region: 'ap-guangzhou', endpoint: null, sandboxAccount: true });
    expect(Object.isFrozen(config.sms)).toBe(true);
  });

  it('disables the channel outside sandbox mode without credentials', () => {
    expect(loadConfig({ SANDBOX: 'off' }).sms).toBeNull();
  });

  it('takes the four together, with the region and an endpoint of one’s own', () => {
    const config = loadConfig({ ...real, SANDBOX: 'off', SMS_REGION: 'ap-beijing', SMS_ENDPOINT: 'sms.ap-beijing.tencentcloudapi.com' });
    expect(config.sms).toEqual({
      secretId: 'AKIDreal',
      secretKey: 'real-key',
      sdkAppId: '1400123456',
      signName: '飞轮科技',
      region: 'ap-beijing',
      endpoint: 'https://sms.ap-beijing.tencentcloudapi.com',
      sandboxAccount: false,
    });
    expect(loadConfig({ ...real, SMS_ENDPOINT: 'http://sms.localhost:8080/sandbox/sms/' }).sms?.endpoint).toBe(
      'http://sms.localhost:8080/sandbox/sms',
    );
  });

  it('refuses a partial set or a bad value, naming the variables', () => {
    expect(() => loadConfig({ SMS_SECRET_ID: 'AKIDreal' })).toThrow(
      /SMS_SECRET_KEY, SMS_SDK_APP_ID, SMS_SIGN_NAME: required when SMS_SECRET_ID is set/,
    );
    expect(() => loadConfig({ ...real, SMS_SDK_APP_ID: '123' })).toThrow(/SMS_SDK_APP_ID/);
    expect(() => loadConfig({ SMS_REGION: 'guangzhou' })).toThrow(ConfigError);
    expect(() => loadConfig({ SMS_ENDPOINT: 'ftp://x' })).toThrow(/SMS_ENDPOINT/);
  });

  it('never puts the secret key in its error messages', () => {
    let message = '';
    try {
      loadConfig({ SMS_SECRET_KEY: 'do-not-print-me' });
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/SMS_SECRET_ID/);
    expect(message).not.toContain('do-not-print-me');
  });
});
