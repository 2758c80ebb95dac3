import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import { isMysqlManager, toSqlDate } from '../../db/sql';

const SECRET_SETTING = 'events.ticket_secret';

/**
 * The tickets' HMAC key. TICKET_SECRET when configured (production: set it and keep it, or every
 * ticket already issued stops scanning). Without it (development, sandbox mode) a random 32-byte
 * key is made on first use and kept in `settings`, because a key made per process would differ
 * between instances (a ticket issued by one would be "forged" at another's gate) and would change
 * at every restart, and a key written in the code would let anyone forge tickets. Two instances
 * making one at once insert-or-ignore and both read the winner (as tracked links do).
 */
export async function loadTicketSecret(p: { dataSource: DataSource; clock: Clock; configured: string | null }): Promise<Buffer> {
  if (p.configured) return Buffer.from(p.configured, 'utf8');
  const manager = p.dataSource.manager;
  const fresh = crypto.randomBytes(32).toString('base64url');
  const conflict = isMysqlManager(manager) ? 'ON DUPLICATE KEY UPDATE name = name' : 'ON CONFLICT (name) DO NOTHING';
  await manager.query(`INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) ${conflict}`, [
    SECRET_SETTING,
    fresh,
    toSqlDate(p.clock.now()),
  ]);
  const [row]: { value: string }[] = await manager.query('SELECT value FROM settings WHERE name = ?', [SECRET_SETTING]);
  return Buffer.from(row.value, 'base64url');
}
