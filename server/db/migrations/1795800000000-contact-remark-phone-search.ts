import type { MigrationInterface, QueryRunner } from 'typeorm';
import { refreshSearchTerms } from '../../modules/contacts/search-terms';
import { isMysqlRunner } from './is-mysql';

/**
 * contacts.remark and contacts.phone (set by operators on the admin page) and
 * contact_search_terms, the pieces of text the list's search finds contacts by
 * (modules/contacts/search-terms.ts), filled here for every live contact.
 *
 * Safe to run again (schema-checks.ts): the columns are added in one ALTER (atomic, so one of them
 * tells whether it ran), the table with IF NOT EXISTS, and the terms are written per chunk of
 * contacts by refreshSearchTerms, which adds only what is missing. The backfill walks contacts by
 * id, BACKFILL_CHUNK at a time: on a million contacts, a few minutes at start-up.
 */
export class ContactRemarkPhoneSearch1795800000000 implements MigrationInterface {
  name = 'ContactRemarkPhoneSearch1795800000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = isMysqlRunner(q);
    if (!(await q.hasColumn('contacts', 'remark'))) {
      if (mysql) await q.query('ALTER TABLE `contacts` ADD `remark` varchar(100) NULL, ADD `phone` varchar(20) NULL');
      else {
        await q.query('ALTER TABLE "contacts" ADD COLUMN "remark" varchar(100)');
        await q.query('ALTER TABLE "contacts" ADD COLUMN "phone" varchar(20)');
      }
    }
    if (mysql) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `contact_search_terms` (`term` varchar(16) NOT NULL, `contact_id` int NOT NULL, ' +
          'INDEX `IDX_contact_search_terms_contact` (`contact_id`), PRIMARY KEY (`term`, `contact_id`)) ENGINE=InnoDB',
      );
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "contact_search_terms" ("term" varchar(16) NOT NULL, "contact_id" integer NOT NULL, PRIMARY KEY ("term", "contact_id"))',
      );
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_contact_search_terms_contact" ON "contact_search_terms" ("contact_id")');
    }
    for (let after = 0; ; ) {
      const rows: { id: number | string }[] = await q.manager.query(
        `SELECT id FROM contacts WHERE id > ? AND merged_into_id IS NULL ORDER BY id LIMIT ${BACKFILL_CHUNK}`,
        [after],
      );
      if (rows.length === 0) break;
      const ids = rows.map((row) => Number(row.id));
      await refreshSearchTerms(q.manager, ids);
      after = ids[ids.length - 1];
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query('DROP TABLE IF EXISTS `contact_search_terms`');
      if (await q.hasColumn('contacts', 'remark')) await q.query('ALTER TABLE `contacts` DROP COLUMN `phone`, DROP COLUMN `remark`');
    } else {
      await q.query('DROP TABLE IF EXISTS "contact_search_terms"');
      await q.query('ALTER TABLE "contacts" DROP COLUMN "phone"');
      await q.query('ALTER TABLE "contacts" DROP COLUMN "remark"');
    }
  }
}

/** Contacts whose terms are written per statement group. */
const BACKFILL_CHUNK = 1_000;
