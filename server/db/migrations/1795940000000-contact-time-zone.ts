import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * contacts.time_zone: the contact's own IANA zone (an operator sets it on the admin page), read by
 * journeys' "until HH:MM" waits and the outbox's quiet hours; NULL means the business zone
 * (BUSINESS_TIMEZONE). A nullable column, no backfill; hasColumn makes a second run a no-op.
 */
export class ContactTimeZone1795940000000 implements MigrationInterface {
  name = 'ContactTimeZone1795940000000';

  async up(q: QueryRunner): Promise<void> {
    if (await q.hasColumn('contacts', 'time_zone')) return;
    await q.query(
      isMysqlRunner(q)
        ? 'ALTER TABLE `contacts` ADD `time_zone` varchar(64) NULL'
        : 'ALTER TABLE "contacts" ADD COLUMN "time_zone" varchar(64)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    if (!(await q.hasColumn('contacts', 'time_zone'))) return;
    await q.query(isMysqlRunner(q) ? 'ALTER TABLE `contacts` DROP COLUMN `time_zone`' : 'ALTER TABLE "contacts" DROP COLUMN "time_zone"');
  }
}
