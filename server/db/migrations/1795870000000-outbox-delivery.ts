import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * The outbox's delivery log (`outbox_attempts`), the shared send budgets and quota pauses
 * (`outbox_limits`) and broadcasts (`broadcasts`). New tables, no backfill; each statement is IF
 * NOT EXISTS, so a run that stopped halfway finishes when run again. None refers to
 * outbox_messages (created by 1795890000000, which runs after this one).
 */
export class OutboxDelivery1795870000000 implements MigrationInterface {
  name = 'OutboxDelivery1795870000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `outbox_attempts` (`id` int NOT NULL AUTO_INCREMENT, `outbox_id` int NOT NULL, `attempt` int NOT NULL, ' +
          '`at` datetime(3) NOT NULL, `errcode` int NULL, `errmsg` varchar(255) NULL, `outcome` varchar(16) NOT NULL, ' +
          'UNIQUE INDEX `UQ_outbox_attempts_outbox_attempt` (`outbox_id`, `attempt`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS `outbox_limits` (`bucket` varchar(96) NOT NULL, `tokens` double NOT NULL, `refilled_at` datetime(3) NOT NULL, ' +
          '`paused_until` datetime(3) NULL, `pause_reason` varchar(64) NULL, `updated_at` datetime(3) NOT NULL, PRIMARY KEY (`bucket`)) ENGINE=InnoDB',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS `broadcasts` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(100) NOT NULL, `segment_id` int NULL, ' +
          '`channel` varchar(24) NOT NULL, `message` text NOT NULL, `send_at` datetime(3) NOT NULL, `status` varchar(16) NOT NULL, ' +
          '`paused_from` varchar(16) NULL, `expanded_through` int NOT NULL DEFAULT 0, `expanded` int NOT NULL DEFAULT 0, ' +
          '`total` int NOT NULL DEFAULT 0, `created_by` int NULL, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, ' +
          'INDEX `IDX_broadcasts_status_send_at` (`status`, `send_at`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "outbox_attempts" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "outbox_id" integer NOT NULL, ' +
          '"attempt" integer NOT NULL, "at" datetime(3) NOT NULL, "errcode" integer, "errmsg" varchar(255), "outcome" varchar(16) NOT NULL)',
      );
      await q.query('CREATE UNIQUE INDEX IF NOT EXISTS "UQ_outbox_attempts_outbox_attempt" ON "outbox_attempts" ("outbox_id", "attempt")');
      await q.query(
        'CREATE TABLE IF NOT EXISTS "outbox_limits" ("bucket" varchar(96) PRIMARY KEY NOT NULL, "tokens" double NOT NULL, ' +
          '"refilled_at" datetime(3) NOT NULL, "paused_until" datetime(3), "pause_reason" varchar(64), "updated_at" datetime(3) NOT NULL)',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS "broadcasts" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(100) NOT NULL, ' +
          '"segment_id" integer, "channel" varchar(24) NOT NULL, "message" text NOT NULL, "send_at" datetime(3) NOT NULL, ' +
          '"status" varchar(16) NOT NULL, "paused_from" varchar(16), "expanded_through" integer NOT NULL DEFAULT (0), ' +
          '"expanded" integer NOT NULL DEFAULT (0), "total" integer NOT NULL DEFAULT (0), "created_by" integer, ' +
          '"created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
      );
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_broadcasts_status_send_at" ON "broadcasts" ("status", "send_at")');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['broadcasts', 'outbox_limits', 'outbox_attempts'])
      await q.query(isMysqlRunner(q) ? `DROP TABLE IF EXISTS \`${table}\`` : `DROP TABLE IF EXISTS "${table}"`);
  }
}
