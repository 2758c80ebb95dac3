import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * operator_sessions.opened_via (issue 16, the WeCom sidebar): `wecom` for a session the sidebar's
 * WeCom OAuth sign-in opened, NULL for a password login (every session before it). A nullable
 * column, no backfill; hasColumn makes a second run a no-op.
 */
export class OperatorSessionVia1796500000000 implements MigrationInterface {
  name = 'OperatorSessionVia1796500000000';

  async up(q: QueryRunner): Promise<void> {
    if (await q.hasColumn('operator_sessions', 'opened_via')) return;
    await q.query(
      isMysqlRunner(q)
        ? 'ALTER TABLE `operator_sessions` ADD `opened_via` varchar(16) NULL'
        : 'ALTER TABLE "operator_sessions" ADD COLUMN "opened_via" varchar(16)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    if (!(await q.hasColumn('operator_sessions', 'opened_via'))) return;
    await q.query(
      isMysqlRunner(q)
        ? 'ALTER TABLE `operator_sessions` DROP COLUMN `opened_via`'
        : 'ALTER TABLE "operator_sessions" DROP COLUMN "opened_via"',
    );
  }
}
