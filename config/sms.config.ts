import { z } from 'zod';

/**
 * The `sms` channel's settings: Tencent Cloud SMS (短信), sent with its official client. Parsed
 * once with the rest of the configuration; the secrets are read from the environment only and go
 * nowhere but into the SMS client.
 */

/** Tencent Cloud's SMS endpoint (the nearest region's host is chosen by Tencent behind it). */
export const SMS_DEFAULT_ENDPOINT = 'sms.tencentcloudapi.com';

/**
 * The sandbox's SMS account: public (it is in this file), so used only against the sandbox, which
 * checks requests signed with it. SdkAppIds are ten digits starting with 14.
 */
export const SMS_SANDBOX_CREDENTIALS = Object.freeze({
  secretId: 'AKIDsandboxSmsSecretId000000000000',
  secretKey: 'sandbox-sms-secret-key-000000000',
  sdkAppId: '1400000001',
  signName: 'Flywheel沙箱',
});

const optionalText = z.string().trim().min(1).optional();

export const smsEnvSchema = z.object({
  SMS_SECRET_ID: optionalText,
  SMS_SECRET_KEY: optionalText,
  SMS_SDK_APP_ID: z
    .string()
    .trim()
    .regex(/^\d{10}$/, 'must be the 10-digit SdkAppId from the SMS console (应用管理)')
    .optional(),
  SMS_SIGN_NAME: z.string().trim().min(1).max(64).optional(),
  SMS_REGION: z
    .string()
    .trim()
    .regex(/^[a-z]{2,}-[a-z]+(-\d+)?$/, 'must be a Tencent Cloud region such as ap-guangzhou')
    .default('ap-guangzhou'),
  /**
   * `host[:port][/path]`, optionally after `http://` or `https://` (https when none is given):
   * the SDK signs the service named by the host's first label (`sms.`), so an endpoint of one's own
   * must keep it.
   */
  SMS_ENDPOINT: z
    .string()
    .trim()
    .regex(/^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~/-]*)?$/, 'must be a host such as sms.tencentcloudapi.com')
    .optional(),
});

export type SmsEnv = z.output<typeof smsEnvSchema>;

export interface SmsConfig {
  secretId: string;
  secretKey: string;
  sdkAppId: string;
  signName: string;
  region: string;
  /**
   * The endpoint as a URL (`https://sms.tencentcloudapi.com`), or null: the composition's choice,
   * the sandbox's loopback address in sandbox mode (when the sandbox account is used) and
   * Tencent's host otherwise.
   */
  endpoint: string | null;
  /** True when these are the sandbox's public values (no SMS_* credentials were set). */
  sandboxAccount: boolean;
}

/**
 * The SMS account, or null: the channel is disabled (its rows wait). SMS_SECRET_ID, SMS_SECRET_KEY,
 * SMS_SDK_APP_ID and SMS_SIGN_NAME come together; without them sandbox mode uses the sandbox's
 * account. Throws (with the variables named) on a partial set.
 */
export function readSmsConfig(e: SmsEnv, sandbox: boolean): SmsConfig | null {
  const names = ['SMS_SECRET_ID', 'SMS_SECRET_KEY', 'SMS_SDK_APP_ID', 'SMS_SIGN_NAME'] as const;
  const set = names.filter((n) => e[n] !== undefined);
  if (set.length > 0 && set.length < names.length) {
    const missing = names.filter((n) => e[n] === undefined);
    throw new Error(`${missing.join(', ')}: required when ${set.join(', ')} is set`);
  }
  const endpoint = e.SMS_ENDPOINT === undefined ? null : endpointUrl(e.SMS_ENDPOINT);
  if (set.length === 0) {
    if (!sandbox) return null;
    const s = SMS_SANDBOX_CREDENTIALS;
    return { ...s, region: e.SMS_REGION, endpoint, sandboxAccount: true };
  }
  return {
    secretId: e.SMS_SECRET_ID as string,
    secretKey: e.SMS_SECRET_KEY as string,
    sdkAppId: e.SMS_SDK_APP_ID as string,
    signName: e.SMS_SIGN_NAME as string,
    region: e.SMS_REGION,
    endpoint,
    sandboxAccount: false,
  };
}

function endpointUrl(text: string): string {
  const url = /^https?:\/\//.test(text) ? text : `https://${text}`;
  return url.replace(/\/+$/, '');
}
