import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * events.ticket_price_fen (issue 15 §7, paid tickets): the ticket's price in fen, NULL for a free
 * event (every event before this one). A nullable column, no backfill; hasColumn makes a second
 * run a no-op. Registrations gain the status `unpaid` (a varchar(16) already holds it).
 */
export class EventTicketPrice1796400000000 implements MigrationInterface {
  name = 'EventTicketPrice1796400000000';

  async up(q: QueryRunner): Promise<void> {
    if (await q.hasColumn('events', 'ticket_price_fen')) return;
    await q.query(
      isMysqlRunner(q) ? 'ALTER TABLE `events` ADD `ticket_price_fen` int NULL' : 'ALTER TABLE "events" ADD COLUMN "ticket_price_fen" integer',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    if (!(await q.hasColumn('events', 'ticket_price_fen'))) return;
    await q.query(
      isMysqlRunner(q) ? 'ALTER TABLE `events` DROP COLUMN `ticket_price_fen`' : 'ALTER TABLE "events" DROP COLUMN "ticket_price_fen"',
    );
  }
}
