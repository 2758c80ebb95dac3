import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { z } from 'zod';

/**
 * WeChat Pay (API v3) settings, parsed once with the rest of the configuration. Keys arrive as
 * PEM text in the environment (a `\n` written literally in a .env line is read as a newline).
 * None of this is ever logged: the merchant private key and the APIv3 key are secrets.
 *
 * Notifications are verified with the platform certificate (its serial) or the WeChat Pay public
 * key (`PUB_KEY_ID_...`); both may be set while an account switches from one to the other.
 * @link https://pay.weixin.qq.com/doc/v3/merchant/4012153196 (微信支付公钥)
 */

const pem = z
  .string()
  .min(1)
  .transform((text) => text.replace(/\\n/g, '\n').trim())
  .optional();

export const payEnvSchema = z.object({
  /** 商户号 */
  WECHATPAY_MCHID: z
    .string()
    .regex(/^\d{8,12}$/, 'must be the merchant id (商户号), digits')
    .optional(),
  /** The AppID the JSAPI payments are made in (the Official Account's by default). */
  WECHATPAY_APPID: z.string().trim().min(1).optional(),
  /** The merchant API certificate's serial (商户API证书序列号). */
  WECHATPAY_SERIAL_NO: z
    .string()
    .regex(/^[0-9A-Fa-f]{8,64}$/, 'must be the merchant API certificate serial number (hex)')
    .optional(),
  /** apiclient_key.pem */
  WECHATPAY_PRIVATE_KEY: pem,
  /** APIv3 密钥: exactly 32 bytes. */
  WECHATPAY_APIV3_KEY: z
    .string()
    .refine((key) => Buffer.byteLength(key, 'utf8') === 32, 'must be the 32-byte APIv3 key')
    .optional(),
  /** WeChat Pay public key mode: its id (PUB_KEY_ID_...) and PEM. */
  WECHATPAY_PUBLIC_KEY_ID: z
    .string()
    .regex(/^PUB_KEY_ID_[0-9A-Za-z]+$/, 'must be the WeChat Pay public key id, PUB_KEY_ID_...')
    .optional(),
  WECHATPAY_PUBLIC_KEY: pem,
  /** Platform certificate mode: the certificate PEM (its serial is read from it). */
  WECHATPAY_PLATFORM_CERT: pem,
  /** Where the Pay API is reached (default https://api.mch.weixin.qq.com; the sandbox's in sandbox mode). */
  WECHATPAY_API_BASE: z.url().optional(),
  /** Largest allowed distance between a notification's Wechatpay-Timestamp and now. */
  WECHATPAY_NOTIFY_MAX_AGE_S: z.coerce.number().int().min(1).max(3600).default(300),
});

export type PayEnv = z.output<typeof payEnvSchema>;

/** A key notifications may be signed with: a certificate serial or a public key id → public key PEM. */
export interface PayPlatformKey {
  id: string;
  publicKeyPem: string;
}

export interface PayMerchantConfig {
  mchId: string;
  appId: string;
  merchantSerialNo: string;
  merchantPrivateKeyPem: string;
  /** The merchant's public key or certificate; wechatpay-node-v3 requires one (it never sends it). */
  merchantPublicKeyPem: string;
  apiV3Key: string;
  platformKeys: PayPlatformKey[];
}

export interface PayConfig {
  /** null: the merchant comes from the environment only outside sandbox mode; see compose.ts. */
  merchant: PayMerchantConfig | null;
  apiBase: string | null;
  notifyMaxAgeSeconds: number;
}

const REQUIRED = ['WECHATPAY_MCHID', 'WECHATPAY_SERIAL_NO', 'WECHATPAY_PRIVATE_KEY', 'WECHATPAY_APIV3_KEY'] as const;

/** Throws an Error naming the variable at fault; loadConfig turns it into a ConfigError. */
export function readPayConfig(e: PayEnv, defaultAppId: string | null): PayConfig {
  const set = REQUIRED.filter((name) => e[name] !== undefined);
  const base = { apiBase: e.WECHATPAY_API_BASE?.replace(/\/+$/, '') ?? null, notifyMaxAgeSeconds: e.WECHATPAY_NOTIFY_MAX_AGE_S };
  if (set.length === 0) {
    if (e.WECHATPAY_PUBLIC_KEY || e.WECHATPAY_PLATFORM_CERT) throw new Error(`${REQUIRED.join(', ')}: required with the WeChat Pay keys`);
    return { merchant: null, ...base };
  }
  if (set.length < REQUIRED.length) {
    throw new Error(`${REQUIRED.filter((n) => e[n] === undefined).join(', ')}: required when ${set.join(', ')} is set`);
  }
  if ((e.WECHATPAY_PUBLIC_KEY_ID === undefined) !== (e.WECHATPAY_PUBLIC_KEY === undefined)) {
    throw new Error('WECHATPAY_PUBLIC_KEY_ID, WECHATPAY_PUBLIC_KEY: set both or neither');
  }
  const platformKeys: PayPlatformKey[] = [];
  if (e.WECHATPAY_PUBLIC_KEY_ID && e.WECHATPAY_PUBLIC_KEY) {
    assertPublicKey(e.WECHATPAY_PUBLIC_KEY, 'WECHATPAY_PUBLIC_KEY');
    platformKeys.push({ id: e.WECHATPAY_PUBLIC_KEY_ID, publicKeyPem: e.WECHATPAY_PUBLIC_KEY });
  }
  if (e.WECHATPAY_PLATFORM_CERT) platformKeys.push(platformKeyOfCertificate(e.WECHATPAY_PLATFORM_CERT, 'WECHATPAY_PLATFORM_CERT'));
  if (platformKeys.length === 0) {
    throw new Error('WECHATPAY_PUBLIC_KEY_ID + WECHATPAY_PUBLIC_KEY or WECHATPAY_PLATFORM_CERT: one is needed to verify notifications');
  }
  const appId = e.WECHATPAY_APPID ?? defaultAppId;
  if (!appId) throw new Error('WECHATPAY_APPID: required when no Official Account is configured');
  const privatePem = e.WECHATPAY_PRIVATE_KEY as string;
  let merchantPublicKeyPem: string;
  try {
    merchantPublicKeyPem = createPublicKey(createPrivateKey(privatePem)).export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    throw new Error('WECHATPAY_PRIVATE_KEY: must be the merchant private key (apiclient_key.pem)');
  }
  return {
    merchant: {
      mchId: e.WECHATPAY_MCHID as string,
      appId,
      merchantSerialNo: (e.WECHATPAY_SERIAL_NO as string).toUpperCase(),
      merchantPrivateKeyPem: privatePem,
      merchantPublicKeyPem,
      apiV3Key: e.WECHATPAY_APIV3_KEY as string,
      platformKeys,
    },
    ...base,
  };
}

/** A platform certificate's serial (upper-case hex, as Wechatpay-Serial carries it) and public key. */
export function platformKeyOfCertificate(certificatePem: string, name = 'certificate'): PayPlatformKey {
  try {
    const certificate = new X509Certificate(certificatePem);
    return {
      id: certificate.serialNumber.toUpperCase(),
      publicKeyPem: certificate.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  } catch {
    throw new Error(`${name}: must be a PEM X.509 certificate`);
  }
}

function assertPublicKey(text: string, name: string): void {
  try {
    createPublicKey(text);
  } catch {
    throw new Error(`${name}: must be a PEM public key`);
  }
}
