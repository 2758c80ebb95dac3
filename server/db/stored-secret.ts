import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Clock } from '../adapters/clock';
import { isMysqlManager, toSqlDate } from './sql';

/**
 * An HMAC key: the configured one (an environment variable: set it in production and keep it, or
 * what was signed with it stops verifying), else a random 32-byte key made on first use and kept
 * in `settings` under `setting`, shared by every instance through the database. Never a key per
 * process (instances would refuse each other's signatures, and a restart would refuse its own) nor
 * one in the code (anyone could forge). Two instances making one at once insert-or-ignore and both
 * read the winner. Used by tracked links, tickets and the visitors' cookie.
 */
export async function loadStoredSecret(p: {
  dataSource: DataSource;
  clock: Clock;
  configured: string | null;
  setting: string;
}): Promise<Buffer> {
  if (p.configured) return Buffer.from(p.configured, 'utf8');
  const manager = p.dataSource.manager;
  const fresh = crypto.randomBytes(32).toString('base64url');
  const conflict = isMysqlManager(manager) ? 'ON DUPLICATE KEY UPDATE name = name' : 'ON CONFLICT (name) DO NOTHING';
  await manager.query(`INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) ${conflict}`, [
    p.setting,
    fresh,
    toSqlDate(p.clock.now()),
  ]);
  const [row]: { value: string }[] = await manager.query('SELECT value FROM settings WHERE name = ?', [p.setting]);
  return Buffer.from(row.value, 'base64url');
}
