import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * The schema the next capabilities build on (issue "Foundations" §3, §4, §7):
 * - interactions: dedupe_key NOT NULL (every writer namespaces one; old NULLs become
 *   `legacy:<id>`), detail as JSON (MEDIUMTEXT-sized at least: a 70 KiB text overflowed TEXT on
 *   MySQL), ref_type/ref_id, and the indexes of the timeline, segment and reference paths;
 * - contacts: last_interaction_at (backfilled) and indexes for the list filters;
 * - interaction_work replaces callback_inbox: every new interaction, from any channel, gets a work
 *   row from which the reactions run. Pending and failed inbox rows move over (by dedupe key, which
 *   both carry); the decrypted payloads go, since the interaction keeps every documented field;
 * - contact_follows: every WeCom rep who follows a customer, backfilled from contacts.owner_user_id.
 * Index names are explicit so that the entities, both databases and later migrations agree.
 * On MySQL each step checks first, and the rows are copied only where they are missing, so a run
 * that stopped halfway finishes when it runs again (schema-checks.ts); SQLite rolls it back whole.
 */
export class FoundationsSchema1795600000000 implements MigrationInterface {
  name = 'FoundationsSchema1795600000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = isMysqlRunner(q);
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    await q.query(mysql ? "UPDATE interactions SET dedupe_key = CONCAT('legacy:', id) WHERE dedupe_key IS NULL" : "UPDATE interactions SET dedupe_key = 'legacy:' || id WHERE dedupe_key IS NULL");
    if (mysql) {
      // One ALTER, one table rebuild.
      if (!(await q.hasColumn('interactions', 'ref_type'))) {
        await q.query(
          'ALTER TABLE `interactions` MODIFY `dedupe_key` varchar(191) NOT NULL, MODIFY `detail` json NOT NULL, ADD `ref_type` varchar(32) NULL, ADD `ref_id` varchar(64) NULL, ' +
            'DROP INDEX `IDX_ba738bd95864f251cc12adca89`, DROP INDEX `IDX_3ebfd0b110f3ddc21064cc89aa`, ADD UNIQUE INDEX `UQ_interactions_dedupe_key` (`dedupe_key`), ' +
            'ADD INDEX `IDX_interactions_contact_occurred` (`contact_id`, `occurred_at`), ADD INDEX `IDX_interactions_contact_type_occurred` (`contact_id`, `type`, `occurred_at`), ' +
            'ADD INDEX `IDX_interactions_type_occurred` (`type`, `occurred_at`), ADD INDEX `IDX_interactions_ref` (`ref_type`, `ref_id`)',
        );
      }
      if (!(await q.hasColumn('contacts', 'last_interaction_at'))) {
        await q.query(
          'ALTER TABLE `contacts` ADD `last_interaction_at` datetime(3) NULL, ADD INDEX `IDX_contacts_stage` (`stage`), ADD INDEX `IDX_contacts_score` (`score`), ' +
            'ADD INDEX `IDX_contacts_first_source` (`first_source`), ADD INDEX `IDX_contacts_last_interaction` (`last_interaction_at`)',
        );
      }
      await q.query(
        "CREATE TABLE IF NOT EXISTS `interaction_work` (`id` int NOT NULL AUTO_INCREMENT, `dedupe_key` varchar(191) NOT NULL, `status` varchar(16) NOT NULL DEFAULT 'pending', `attempts` int NOT NULL DEFAULT '0', " +
          '`next_attempt_at` datetime(3) NOT NULL, `lease_holder` varchar(64) NULL, `lease_until` datetime(3) NULL, `last_error` varchar(1024) NULL, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, ' +
          'UNIQUE INDEX `UQ_interaction_work_dedupe_key` (`dedupe_key`), INDEX `IDX_interaction_work_due` (`status`, `next_attempt_at`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
      await q.query(
        "CREATE TABLE IF NOT EXISTS `contact_follows` (`id` int NOT NULL AUTO_INCREMENT, `contact_id` int NOT NULL, `user_id` varchar(64) NOT NULL, `status` varchar(16) NOT NULL DEFAULT 'active', `state` varchar(128) NULL, " +
          '`created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_contact_follows_contact_user` (`contact_id`, `user_id`), ' +
          'INDEX `IDX_contact_follows_user` (`user_id`, `status`, `contact_id`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
    } else {
      // SQLite cannot change a column's type or nullability: rebuild the table.
      await q.query(
        'CREATE TABLE "interactions_next" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "contact_id" integer, "type" varchar(48) NOT NULL, "channel" varchar(16) NOT NULL, ' +
          '"occurred_at" datetime(3) NOT NULL, "detail" json NOT NULL, "dedupe_key" varchar(191) NOT NULL, "ref_type" varchar(32), "ref_id" varchar(64), "created_at" datetime(3) NOT NULL)',
      );
      await q.query(
        'INSERT INTO "interactions_next" ("id", "contact_id", "type", "channel", "occurred_at", "detail", "dedupe_key", "created_at") SELECT "id", "contact_id", "type", "channel", "occurred_at", "detail", "dedupe_key", "created_at" FROM "interactions"',
      );
      await q.query('DROP TABLE "interactions"');
      await q.query('ALTER TABLE "interactions_next" RENAME TO "interactions"');
      await q.query('CREATE UNIQUE INDEX "UQ_interactions_dedupe_key" ON "interactions" ("dedupe_key")');
      await q.query('CREATE INDEX "IDX_interactions_contact_occurred" ON "interactions" ("contact_id", "occurred_at")');
      await q.query('CREATE INDEX "IDX_interactions_contact_type_occurred" ON "interactions" ("contact_id", "type", "occurred_at")');
      await q.query('CREATE INDEX "IDX_interactions_type_occurred" ON "interactions" ("type", "occurred_at")');
      await q.query('CREATE INDEX "IDX_interactions_ref" ON "interactions" ("ref_type", "ref_id")');
      await q.query('ALTER TABLE "contacts" ADD COLUMN "last_interaction_at" datetime(3)');
      for (const [name, column] of CONTACT_INDEXES) await q.query(`CREATE INDEX "${name}" ON "contacts" ("${column}")`);
      await q.query(
        'CREATE TABLE "interaction_work" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "dedupe_key" varchar(191) NOT NULL, "status" varchar(16) NOT NULL DEFAULT (\'pending\'), "attempts" integer NOT NULL DEFAULT (0), ' +
          '"next_attempt_at" datetime(3) NOT NULL, "lease_holder" varchar(64), "lease_until" datetime(3), "last_error" varchar(1024), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
      );
      await q.query('CREATE UNIQUE INDEX "UQ_interaction_work_dedupe_key" ON "interaction_work" ("dedupe_key")');
      await q.query('CREATE INDEX "IDX_interaction_work_due" ON "interaction_work" ("status", "next_attempt_at")');
      await q.query(
        'CREATE TABLE "contact_follows" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "contact_id" integer NOT NULL, "user_id" varchar(64) NOT NULL, "status" varchar(16) NOT NULL DEFAULT (\'active\'), ' +
          '"state" varchar(128), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
      );
      await q.query('CREATE UNIQUE INDEX "UQ_contact_follows_contact_user" ON "contact_follows" ("contact_id", "user_id")');
      await q.query('CREATE INDEX "IDX_contact_follows_user" ON "contact_follows" ("user_id", "status", "contact_id")');
    }
    await q.query('UPDATE contacts SET last_interaction_at = (SELECT MAX(i.occurred_at) FROM interactions i WHERE i.contact_id = contacts.id)');
    // Work the old inbox had not finished goes on from the new table; its attempts counted claims.
    // On MySQL each INSERT commits on its own (a DDL statement ended the transaction): a second run
    // copies only what the first did not.
    if (await q.hasTable('callback_inbox')) {
      await q.query(
        "INSERT INTO interaction_work (dedupe_key, status, attempts, next_attempt_at, last_error, created_at, updated_at) SELECT b.dedupe_key, b.status, b.attempts, b.next_attempt_at, b.last_error, b.received_at, ? FROM callback_inbox b WHERE b.status IN ('pending', 'failed') " +
          'AND NOT EXISTS (SELECT 1 FROM interaction_work w WHERE w.dedupe_key = b.dedupe_key)',
        [now],
      );
    }
    await q.query('DROP TABLE IF EXISTS callback_inbox');
    await q.query(
      "INSERT INTO contact_follows (contact_id, user_id, status, state, created_at, updated_at) SELECT c.id, c.owner_user_id, 'active', NULL, c.created_at, c.updated_at FROM contacts c WHERE c.owner_user_id IS NOT NULL AND c.merged_into_id IS NULL " +
        'AND NOT EXISTS (SELECT 1 FROM contact_follows f WHERE f.contact_id = c.id AND f.user_id = c.owner_user_id)',
    );
  }

  /** Back to the spine's schema; unfinished work rows become inbox rows without a payload. */
  async down(q: QueryRunner): Promise<void> {
    const mysql = isMysqlRunner(q);
    await q.query('DROP TABLE contact_follows');
    if (mysql) {
      await q.query(
        "CREATE TABLE `callback_inbox` (`id` int NOT NULL AUTO_INCREMENT, `source` varchar(16) NOT NULL, `dedupe_key` varchar(191) NOT NULL, `payload` mediumtext NOT NULL, `status` varchar(16) NOT NULL DEFAULT 'pending', `attempts` int NOT NULL DEFAULT '0', `next_attempt_at` datetime(3) NOT NULL, `lease_holder` varchar(64) NULL, `lease_until` datetime(3) NULL, `last_error` varchar(1024) NULL, `received_at` datetime(3) NOT NULL, `processed_at` datetime(3) NULL, UNIQUE INDEX `IDX_f459f49659a95bab0ca984724c` (`dedupe_key`), INDEX `IDX_484c09b229abc58a1c52db562f` (`status`, `next_attempt_at`), PRIMARY KEY (`id`)) ENGINE=InnoDB",
      );
    } else {
      await q.query(
        'CREATE TABLE "callback_inbox" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "source" varchar(16) NOT NULL, "dedupe_key" varchar(191) NOT NULL, "payload" text NOT NULL, "status" varchar(16) NOT NULL DEFAULT (\'pending\'), "attempts" integer NOT NULL DEFAULT (0), "next_attempt_at" datetime(3) NOT NULL, "lease_holder" varchar(64), "lease_until" datetime(3), "last_error" varchar(1024), "received_at" datetime(3) NOT NULL, "processed_at" datetime(3))',
      );
      await q.query('CREATE UNIQUE INDEX "IDX_f459f49659a95bab0ca984724c" ON "callback_inbox" ("dedupe_key")');
      await q.query('CREATE INDEX "IDX_484c09b229abc58a1c52db562f" ON "callback_inbox" ("status", "next_attempt_at")');
    }
    await q.query(
      "INSERT INTO callback_inbox (source, dedupe_key, payload, status, attempts, next_attempt_at, last_error, received_at) SELECT CASE WHEN w.dedupe_key LIKE 'wecom:%' THEN 'wecom' ELSE 'oa' END, w.dedupe_key, '', w.status, w.attempts, w.next_attempt_at, w.last_error, w.created_at FROM interaction_work w WHERE w.status IN ('pending', 'failed')",
    );
    await q.query('DROP TABLE interaction_work');
    if (mysql) {
      await q.query('ALTER TABLE `contacts` DROP INDEX `IDX_contacts_stage`, DROP INDEX `IDX_contacts_score`, DROP INDEX `IDX_contacts_first_source`, DROP INDEX `IDX_contacts_last_interaction`, DROP COLUMN `last_interaction_at`');
      await q.query(
        'ALTER TABLE `interactions` DROP INDEX `IDX_interactions_ref`, DROP INDEX `IDX_interactions_type_occurred`, DROP INDEX `IDX_interactions_contact_type_occurred`, DROP INDEX `IDX_interactions_contact_occurred`, ' +
          'DROP INDEX `UQ_interactions_dedupe_key`, ADD UNIQUE INDEX `IDX_3ebfd0b110f3ddc21064cc89aa` (`dedupe_key`), ADD INDEX `IDX_ba738bd95864f251cc12adca89` (`contact_id`, `occurred_at`), ' +
          'DROP COLUMN `ref_id`, DROP COLUMN `ref_type`, MODIFY `detail` text NOT NULL, MODIFY `dedupe_key` varchar(191) NULL',
      );
    } else {
      for (const [name] of CONTACT_INDEXES) await q.query(`DROP INDEX "${name}"`);
      await q.query('ALTER TABLE "contacts" DROP COLUMN "last_interaction_at"');
      await q.query(
        'CREATE TABLE "interactions_prev" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "contact_id" integer, "type" varchar(48) NOT NULL, "channel" varchar(16) NOT NULL, "occurred_at" datetime(3) NOT NULL, "detail" text NOT NULL, "dedupe_key" varchar(191), "created_at" datetime(3) NOT NULL)',
      );
      await q.query('INSERT INTO "interactions_prev" SELECT "id", "contact_id", "type", "channel", "occurred_at", "detail", "dedupe_key", "created_at" FROM "interactions"');
      await q.query('DROP TABLE "interactions"');
      await q.query('ALTER TABLE "interactions_prev" RENAME TO "interactions"');
      await q.query('CREATE UNIQUE INDEX "IDX_3ebfd0b110f3ddc21064cc89aa" ON "interactions" ("dedupe_key")');
      await q.query('CREATE INDEX "IDX_ba738bd95864f251cc12adca89" ON "interactions" ("contact_id", "occurred_at")');
    }
  }
}

const CONTACT_INDEXES = [
  ['IDX_contacts_stage', 'stage'],
  ['IDX_contacts_score', 'score'],
  ['IDX_contacts_first_source', 'first_source'],
  ['IDX_contacts_last_interaction', 'last_interaction_at'],
] as const;
