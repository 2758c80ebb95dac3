import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * oa_custom_windows: each follower's customer-service window per Official Account, and the
 * messages sent in it (entities/oa-custom-window.entity.ts). New table, no backfill: windows open
 * with the next interaction after the upgrade (one older than 48 hours is closed anyway). IF NOT
 * EXISTS, so a run that stopped halfway finishes when run again.
 */
export class OaCustomWindows1795910000000 implements MigrationInterface {
  name = 'OaCustomWindows1795910000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `oa_custom_windows` (`contact_id` int NOT NULL, `app_id` varchar(64) NOT NULL, ' +
          '`opened_at` datetime(3) NOT NULL, `sent_count` int NOT NULL DEFAULT 0, `updated_at` datetime(3) NOT NULL, ' +
          'PRIMARY KEY (`contact_id`, `app_id`)) ENGINE=InnoDB',
      );
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "oa_custom_windows" ("contact_id" integer NOT NULL, "app_id" varchar(64) NOT NULL, ' +
          '"opened_at" datetime(3) NOT NULL, "sent_count" integer NOT NULL DEFAULT (0), "updated_at" datetime(3) NOT NULL, ' +
          'PRIMARY KEY ("contact_id", "app_id"))',
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(isMysqlRunner(q) ? 'DROP TABLE IF EXISTS `oa_custom_windows`' : 'DROP TABLE IF EXISTS "oa_custom_windows"');
  }
}
