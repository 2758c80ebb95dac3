import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * WeChat's session_key at rest: AES-256-GCM under a key derived from the stored secret
 * (MINIPROGRAM_SESSION_SECRET, or the random one kept in `settings`), written
 * `v1.<iv>.<tag>.<ciphertext>` in base64url. "开发者服务器不应该把会话密钥下发到小程序，也不应该对外提供这个密钥":
 * a copy of the table alone does not give it away. Pure: node:crypto only.
 * @link https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/login.html
 */
const VERSION = 'v1';
const IV_BYTES = 12;

function keyOf(secret: Buffer): Buffer {
  // A label of its own: the same stored secret never keys two different things the same way.
  return createHash('sha256').update('flywheel.mp.session_key.v1\0').update(secret).digest();
}

export function sealSessionKey(secret: Buffer, sessionKey: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret), iv);
  const sealed = Buffer.concat([cipher.update(sessionKey, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), sealed.toString('base64url')].join('.');
}

/** The session_key, or null when the value was not sealed with this secret (or was altered). */
export function openSessionKey(secret: Buffer, sealed: string): string | null {
  const [version, iv, tag, data] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || data === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
