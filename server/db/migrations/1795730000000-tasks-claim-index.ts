import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * tasks (status, kind, run_at): a claim asks for due tasks of one kind (`status = 'pending' AND
 * kind IN (?) AND run_at <= ?`, oldest first). On (status, run_at) alone it walked every due
 * pending task of every kind to find its own; with kind in the index it reads its kind's due rows
 * in order and stops at the LIMIT. (status, run_at) stays: pruning done tasks walks it.
 * Only an index is added; re-running after a stop finds it and does nothing.
 */
export class TasksClaimIndex1795730000000 implements MigrationInterface {
  name = 'TasksClaimIndex1795730000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      if (!(await hasMysqlIndex(q))) await q.query('ALTER TABLE `tasks` ADD INDEX `IDX_tasks_claim` (`status`, `kind`, `run_at`)');
    } else {
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_tasks_claim" ON "tasks" ("status", "kind", "run_at")');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      if (await hasMysqlIndex(q)) await q.query('ALTER TABLE `tasks` DROP INDEX `IDX_tasks_claim`');
    } else {
      await q.query('DROP INDEX IF EXISTS "IDX_tasks_claim"');
    }
  }
}

async function hasMysqlIndex(q: QueryRunner): Promise<boolean> {
  const rows = await q.manager.query<{ n: number | string }[]>(
    'SELECT COUNT(*) AS n FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?',
    ['tasks', 'IDX_tasks_claim'],
  );
  return Number(rows[0]?.n) > 0;
}
