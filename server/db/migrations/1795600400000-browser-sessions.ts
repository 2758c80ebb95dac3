import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * Browser sessions and the first-run password: operators.must_change_password (false for every
 * existing operator, who chose their own password) and operator_sessions.csrf_token_hash (null for
 * sessions opened before: they were bearer tokens, and a bearer request needs no CSRF token).
 */
export class BrowserSessions1795600400000 implements MigrationInterface {
  name = 'BrowserSessions1795600400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (isMysqlRunner(queryRunner)) {
      await queryRunner.query('ALTER TABLE `operators` ADD `must_change_password` tinyint NOT NULL DEFAULT 0');
      await queryRunner.query('ALTER TABLE `operator_sessions` ADD `csrf_token_hash` varchar(64) NULL');
    } else {
      await queryRunner.query('ALTER TABLE "operators" ADD COLUMN "must_change_password" boolean NOT NULL DEFAULT (0)');
      await queryRunner.query('ALTER TABLE "operator_sessions" ADD COLUMN "csrf_token_hash" varchar(64)');
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE operator_sessions DROP COLUMN csrf_token_hash');
    await queryRunner.query('ALTER TABLE operators DROP COLUMN must_change_password');
  }
}
