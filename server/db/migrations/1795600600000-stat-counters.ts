import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * stat_counts and stat_deltas: the dashboard's counters (modules/stats/stat-counters.ts). No
 * backfill here: the counters job counts every metric from its rows the first time it runs on a
 * database, so a metric added later is counted the same way. IF NOT EXISTS: see schema-checks.ts.
 */
export class StatCounters1795600600000 implements MigrationInterface {
  name = 'StatCounters1795600600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (isMysqlRunner(queryRunner)) {
      await queryRunner.query("CREATE TABLE IF NOT EXISTS `stat_counts` (`metric` varchar(32) NOT NULL, `bucket_at` datetime(3) NOT NULL, `dim` varchar(64) NOT NULL, `n` bigint NOT NULL, PRIMARY KEY (`metric`, `bucket_at`, `dim`)) ENGINE=InnoDB");
      await queryRunner.query("CREATE TABLE IF NOT EXISTS `stat_deltas` (`id` int NOT NULL AUTO_INCREMENT, `metric` varchar(32) NOT NULL, `bucket_at` datetime(3) NOT NULL, `dim` varchar(64) NOT NULL, `n` int NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB");
    } else {
      await queryRunner.query("CREATE TABLE IF NOT EXISTS \"stat_counts\" (\"metric\" varchar(32) NOT NULL, \"bucket_at\" datetime(3) NOT NULL, \"dim\" varchar(64) NOT NULL, \"n\" bigint NOT NULL, PRIMARY KEY (\"metric\", \"bucket_at\", \"dim\"))");
      await queryRunner.query("CREATE TABLE IF NOT EXISTS \"stat_deltas\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"metric\" varchar(32) NOT NULL, \"bucket_at\" datetime(3) NOT NULL, \"dim\" varchar(64) NOT NULL, \"n\" integer NOT NULL)");
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (isMysqlRunner(queryRunner)) {
      await queryRunner.query("DROP TABLE IF EXISTS `stat_deltas`");
      await queryRunner.query("DROP TABLE IF EXISTS `stat_counts`");
    } else {
      await queryRunner.query("DROP TABLE \"stat_deltas\"");
      await queryRunner.query("DROP TABLE \"stat_counts\"");
    }
  }
}
