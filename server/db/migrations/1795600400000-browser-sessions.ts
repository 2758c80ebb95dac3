import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * Browser sessions and the first-run password: operators.must_change_password (false for every
 * existing operator, who chose their own password) and operator_sessions.csrf_token_hash (null for
 * sessions opened before: they were bearer tokens, and a bearer request needs no CSRF token).
 * Each column is added only when missing (schema-checks.ts).
 */
export class BrowserSessions1795600400000 implements MigrationInterface {
  name = 'BrowserSessions1795600400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const mysql = isMysqlRunner(queryRunner);
    if (!(await queryRunner.hasColumn('operators', 'must_change_password'))) {
      await queryRunner.query(
        mysql
          ? 'ALTER TABLE `operators` ADD `must_change_password` tinyint NOT NULL DEFAULT 0'
          : 'ALTER TABLE "operators" ADD COLUMN "must_change_password" boolean NOT NULL DEFAULT (0)',
      );
    }
    if (!(await queryRunner.hasColumn('operator_sessions', 'csrf_token_hash'))) {
      await queryRunner.query(
        mysql ? 'ALTER TABLE `operator_sessions` ADD `csrf_token_hash` varchar(64) NULL' : 'ALTER TABLE "operator_sessions" ADD COLUMN "csrf_token_hash" varchar(64)',
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE operator_sessions DROP COLUMN csrf_token_hash');
    await queryRunner.query('ALTER TABLE operators DROP COLUMN must_change_password');
  }
}
