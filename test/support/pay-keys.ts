import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSandboxPayKeys, type SandboxPayKeys } from '../../server/adapters/sandbox/sandbox-pay-keys';

/**
 * Sandbox Pay keys with a platform certificate besides the public key, for tests of certificate
 * mode. node:crypto makes keys but cannot issue a certificate; openssl does, in test setup only.
 */
export function sandboxPayKeysWithCertificate(appId: string): SandboxPayKeys {
  const keys = generateSandboxPayKeys(appId);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-pay-'));
  try {
    const keyPath = path.join(dir, 'platform-key.pem');
    const certPath = path.join(dir, 'platform-cert.pem');
    fs.writeFileSync(keyPath, privateKeyPem, { mode: 0o600 });
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-x509',
        '-key',
        keyPath,
        '-out',
        certPath,
        '-days',
        '2',
        '-subj',
        '/CN=Tenpay.com sandbox platform',
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
      ],
      { stdio: 'ignore' },
    );
    const certificatePem = fs.readFileSync(certPath, 'utf8');
    return {
      ...keys,
      certificate: {
        serialNo: new X509Certificate(certificatePem).serialNumber.toUpperCase(),
        certificatePem,
        privateKeyPem,
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
