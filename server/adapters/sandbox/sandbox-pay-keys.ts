import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { PayMerchantConfig } from '../../../config/pay.config';

/**
 * The keys of the sandbox's WeChat Pay: the merchant's (Flywheel signs requests with the private
 * key, the sandbox checks them with the public key) and the platform's (the sandbox signs
 * notifications, Flywheel verifies them). Nothing here is published: they are generated when the
 * process starts (or given by a test), so a sandbox notification cannot be forged from the source.
 * Never logged.
 */
export interface SandboxPayKeys {
  mchId: string;
  appId: string;
  merchantSerialNo: string;
  merchantPrivateKeyPem: string;
  merchantPublicKeyPem: string;
  apiV3Key: string;
  /** WeChat Pay public key mode (PUB_KEY_ID_...). */
  publicKey: { id: string; privateKeyPem: string; publicKeyPem: string };
  /**
   * Platform certificate mode, when a test made a certificate (node:crypto cannot issue one, and
   * the server must not shell out to openssl): its serial, PEM and the key that signs with it.
   */
  certificate: { serialNo: string; certificatePem: string; privateKeyPem: string; publicKeyPem: string } | null;
}

export const SANDBOX_MCH_ID = '1900000109';

function rsaKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function generateSandboxPayKeys(appId: string): SandboxPayKeys {
  const merchant = rsaKeyPair();
  const platform = rsaKeyPair();
  // 32 printable characters: the APIv3 key is used as the AES key's bytes.
  const apiV3Key = randomBytes(24).toString('base64').replace(/[+/]/g, 'x').slice(0, 32);
  return {
    mchId: SANDBOX_MCH_ID,
    appId,
    merchantSerialNo: randomBytes(20).toString('hex').toUpperCase(),
    merchantPrivateKeyPem: merchant.privateKeyPem,
    merchantPublicKeyPem: merchant.publicKeyPem,
    apiV3Key,
    publicKey: { id: `PUB_KEY_ID_0119${randomBytes(8).toString('hex').toUpperCase()}`, ...platform },
    certificate: null,
  };
}

let processKeys: SandboxPayKeys | null = null;

/**
 * The process's sandbox Pay keys, made once: the sandbox served by this process and Flywheel's
 * Pay client share them. (`npm run sandbox` in another process has keys of its own: pay actions
 * are played from the admin page's sandbox panel, in the server's process.)
 */
export function processSandboxPayKeys(appId: string): SandboxPayKeys {
  processKeys ??= generateSandboxPayKeys(appId);
  return processKeys;
}

/** What Flywheel's Pay client is configured with, for these keys: it trusts both platform keys. */
export function merchantConfigOfSandbox(keys: SandboxPayKeys): PayMerchantConfig {
  return {
    mchId: keys.mchId,
    appId: keys.appId,
    merchantSerialNo: keys.merchantSerialNo,
    merchantPrivateKeyPem: keys.merchantPrivateKeyPem,
    merchantPublicKeyPem: keys.merchantPublicKeyPem,
    apiV3Key: keys.apiV3Key,
    platformKeys: [
      { id: keys.publicKey.id, publicKeyPem: keys.publicKey.publicKeyPem },
      ...(keys.certificate ? [{ id: keys.certificate.serialNo, publicKeyPem: keys.certificate.publicKeyPem }] : []),
    ],
  };
}
