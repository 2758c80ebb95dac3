import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/** settings: named values kept across restarts (the sandbox clock's offset). IF NOT EXISTS: see schema-checks.ts. */
export class Settings1795820000000 implements MigrationInterface {
  name = 'Settings1795820000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `settings` (`name` varchar(64) NOT NULL, `value` varchar(255) NOT NULL, `updated_at` datetime(3) NOT NULL, PRIMARY KEY (`name`)) ENGINE=InnoDB',
      );
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "settings" ("name" varchar(64) PRIMARY KEY NOT NULL, "value" varchar(255) NOT NULL, "updated_at" datetime(3) NOT NULL)',
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS settings');
  }
}
