import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * outbox_messages: every message Flywheel sends, one row per reason (the unique dedupe key), with
 * its state, so a send goes out at most once (entities/outbox-message.entity.ts). New table, no
 * backfill; each statement is IF NOT EXISTS, so a run that stopped halfway finishes when run again.
 */
export class OutboxMessages1795890000000 implements MigrationInterface {
  name = 'OutboxMessages1795890000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `outbox_messages` (`id` int NOT NULL AUTO_INCREMENT, `dedupe_key` varchar(191) NOT NULL, ' +
          "`contact_id` int NOT NULL, `channel` varchar(24) NOT NULL, `purpose` varchar(16) NOT NULL DEFAULT 'marketing', " +
          '`source_type` varchar(16) NOT NULL, `source_id` varchar(64) NOT NULL, `run_id` int NULL, `node_id` varchar(64) NULL, ' +
          "`payload` text NOT NULL, `state` varchar(16) NOT NULL DEFAULT 'pending', `attempts` int NOT NULL DEFAULT 0, " +
          '`not_before` datetime(3) NOT NULL, `claimed_by` varchar(64) NULL, `claimed_until` datetime(3) NULL, ' +
          '`first_attempt_at` datetime(3) NULL, `sent_at` datetime(3) NULL, `platform_msgid` varchar(64) NULL, ' +
          '`last_errcode` int NULL, `last_error` varchar(255) NULL, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, ' +
          'UNIQUE INDEX `UQ_outbox_messages_dedupe_key` (`dedupe_key`), ' +
          'INDEX `IDX_outbox_messages_claim` (`state`, `channel`, `not_before`), ' +
          'INDEX `IDX_outbox_messages_source` (`source_type`, `source_id`, `state`), ' +
          'INDEX `IDX_outbox_messages_contact` (`contact_id`, `created_at`), ' +
          'INDEX `IDX_outbox_messages_platform_msgid` (`platform_msgid`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "outbox_messages" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "dedupe_key" varchar(191) NOT NULL, ' +
          `"contact_id" integer NOT NULL, "channel" varchar(24) NOT NULL, "purpose" varchar(16) NOT NULL DEFAULT ('marketing'), ` +
          '"source_type" varchar(16) NOT NULL, "source_id" varchar(64) NOT NULL, "run_id" integer, "node_id" varchar(64), ' +
          `"payload" text NOT NULL, "state" varchar(16) NOT NULL DEFAULT ('pending'), "attempts" integer NOT NULL DEFAULT (0), ` +
          '"not_before" datetime(3) NOT NULL, "claimed_by" varchar(64), "claimed_until" datetime(3), "first_attempt_at" datetime(3), ' +
          '"sent_at" datetime(3), "platform_msgid" varchar(64), "last_errcode" integer, "last_error" varchar(255), ' +
          '"created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
      );
      await q.query('CREATE UNIQUE INDEX IF NOT EXISTS "UQ_outbox_messages_dedupe_key" ON "outbox_messages" ("dedupe_key")');
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_outbox_messages_claim" ON "outbox_messages" ("state", "channel", "not_before")');
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_outbox_messages_source" ON "outbox_messages" ("source_type", "source_id", "state")');
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_outbox_messages_contact" ON "outbox_messages" ("contact_id", "created_at")');
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_outbox_messages_platform_msgid" ON "outbox_messages" ("platform_msgid")');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(isMysqlRunner(q) ? 'DROP TABLE IF EXISTS `outbox_messages`' : 'DROP TABLE IF EXISTS "outbox_messages"');
  }
}
