import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Login throttling per account and per IP (login_throttles) replaces the hard account lock.
 * operators.failed_logins and locked_until stay for now (see the Operator entity): the previous
 * release, still running during a rolling deploy, reads them. IF NOT EXISTS: see schema-checks.ts.
 */
export class LoginThrottles1795600100000 implements MigrationInterface {
  name = 'LoginThrottles1795600100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const type = queryRunner.connection.driver.options.type;
    if (type === 'mysql' || type === 'mariadb') {
      await queryRunner.query(
        'CREATE TABLE IF NOT EXISTS `login_throttles` (`throttle_key` varchar(128) NOT NULL, `failures` int NOT NULL DEFAULT 0, `window_started_at` datetime(3) NOT NULL, `blocked_until` datetime(3) NULL, `version` int NOT NULL DEFAULT 0, `updated_at` datetime(3) NOT NULL, PRIMARY KEY (`throttle_key`)) ENGINE=InnoDB',
      );
    } else {
      await queryRunner.query(
        'CREATE TABLE IF NOT EXISTS "login_throttles" ("throttle_key" varchar(128) PRIMARY KEY NOT NULL, "failures" integer NOT NULL DEFAULT (0), "window_started_at" datetime(3) NOT NULL, "blocked_until" datetime(3), "version" integer NOT NULL DEFAULT (0), "updated_at" datetime(3) NOT NULL)',
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS login_throttles');
  }
}
