import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';
import { hasIndex } from './schema-checks';

/**
 * contact_tag_changes: every tag put on or taken off a contact, with who did it (an operator, a
 * rule, a platform), for the contact's timeline. Nothing is backfilled: contact_tags holds only
 * the tags held now and the audit log only operators' changes, so earlier history cannot be told
 * whole; the timeline shows changes from this release on.
 *
 * score_ledger (contact_id, created_at): the timeline merges a contact's ledger with its
 * interactions and tag changes in time order, each read by an index range with a LIMIT.
 *
 * Each step checks first (schema-checks.ts): MySQL commits each DDL statement on its own.
 */
export class ContactTagChanges1795810000000 implements MigrationInterface {
  name = 'ContactTagChanges1795810000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `contact_tag_changes` (`id` int NOT NULL AUTO_INCREMENT, `contact_id` int NOT NULL, `tag_id` int NOT NULL, ' +
          '`tag_name` varchar(64) NOT NULL, `op` varchar(8) NOT NULL, `actor_kind` varchar(16) NOT NULL, `actor_id` int NULL, ' +
          '`actor_name` varchar(64) NULL, `cause` varchar(32) NOT NULL, `interaction_id` int NULL, `at` datetime(3) NOT NULL, ' +
          'INDEX `IDX_contact_tag_changes_contact_at` (`contact_id`, `at`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
      if (!(await hasIndex(q, 'score_ledger', LEDGER_INDEX)))
        await q.query(`ALTER TABLE \`score_ledger\` ADD INDEX \`${LEDGER_INDEX}\` (\`contact_id\`, \`created_at\`)`);
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "contact_tag_changes" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "contact_id" integer NOT NULL, ' +
          '"tag_id" integer NOT NULL, "tag_name" varchar(64) NOT NULL, "op" varchar(8) NOT NULL, "actor_kind" varchar(16) NOT NULL, ' +
          '"actor_id" integer, "actor_name" varchar(64), "cause" varchar(32) NOT NULL, "interaction_id" integer, "at" datetime(3) NOT NULL)',
      );
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_contact_tag_changes_contact_at" ON "contact_tag_changes" ("contact_id", "at")');
      await q.query(`CREATE INDEX IF NOT EXISTS "${LEDGER_INDEX}" ON "score_ledger" ("contact_id", "created_at")`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      if (await hasIndex(q, 'score_ledger', LEDGER_INDEX)) await q.query(`ALTER TABLE \`score_ledger\` DROP INDEX \`${LEDGER_INDEX}\``);
      await q.query('DROP TABLE IF EXISTS `contact_tag_changes`');
    } else {
      await q.query(`DROP INDEX IF EXISTS "${LEDGER_INDEX}"`);
      await q.query('DROP TABLE IF EXISTS "contact_tag_changes"');
    }
  }
}

const LEDGER_INDEX = 'IDX_score_ledger_contact_created';
