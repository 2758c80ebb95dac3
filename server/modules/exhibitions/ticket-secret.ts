import { loadStoredSecret } from '../../db/stored-secret';
import type { DataSource } from 'typeorm';
import type { Clock } from '../../adapters/clock';

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
  return loadStoredSecret({ ...p, setting: SECRET_SETTING });
}
