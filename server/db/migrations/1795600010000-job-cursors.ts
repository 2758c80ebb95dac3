import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/** job_cursors: where a sweep job (the unionid backfill) left off. IF NOT EXISTS: see schema-checks.ts. */
export class JobCursors1795600010000 implements MigrationInterface {
  name = 'JobCursors1795600010000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query('CREATE TABLE IF NOT EXISTS `job_cursors` (`name` varchar(64) NOT NULL, `value` varchar(255) NOT NULL, `updated_at` datetime(3) NOT NULL, PRIMARY KEY (`name`)) ENGINE=InnoDB');
    } else {
      await q.query('CREATE TABLE IF NOT EXISTS "job_cursors" ("name" varchar(64) PRIMARY KEY NOT NULL, "value" varchar(255) NOT NULL, "updated_at" datetime(3) NOT NULL)');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS job_cursors');
  }
}
