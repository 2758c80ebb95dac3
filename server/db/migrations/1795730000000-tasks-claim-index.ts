import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/** The initial schema's tasks (status, run_at), named by TypeORM. */
const OLD = 'IDX_0463a5352cbe9bc12271b73165';
const CLAIM = 'IDX_tasks_claim';

/**
 * tasks (status, kind, run_at) replaces (status, run_at). A claim asks for due tasks of one kind
 * (`status = 'pending' AND kind IN (?) AND run_at <= ?`, oldest first). With only (status, run_at)
 * it walked every due pending task of every kind to find its own. With both indexes, MariaDB 10.11
 * still chose (status, run_at) when the claimed kind was half the backlog (it gives the order, and
 * the optimizer assumes the kinds are mixed evenly): a claim behind 15,000 older tasks of another
 * kind read all of them, 35 ms against 0.5 ms (docs/BENCHMARKS.md). The prune of done tasks goes
 * kind by kind on the new index. Each step checks first, so a run that stopped halfway (MySQL
 * commits every DDL statement on its own) finishes when it runs again; the new index is built
 * before the old one goes.
 */
export class TasksClaimIndex1795730000000 implements MigrationInterface {
  name = 'TasksClaimIndex1795730000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      if (!(await hasMysqlIndex(q, CLAIM))) await q.query(`ALTER TABLE \`tasks\` ADD INDEX \`${CLAIM}\` (\`status\`, \`kind\`, \`run_at\`)`);
      if (await hasMysqlIndex(q, OLD)) await q.query(`ALTER TABLE \`tasks\` DROP INDEX \`${OLD}\``);
    } else {
      await q.query(`CREATE INDEX IF NOT EXISTS "${CLAIM}" ON "tasks" ("status", "kind", "run_at")`);
      await q.query(`DROP INDEX IF EXISTS "${OLD}"`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      if (!(await hasMysqlIndex(q, OLD))) await q.query(`ALTER TABLE \`tasks\` ADD INDEX \`${OLD}\` (\`status\`, \`run_at\`)`);
      if (await hasMysqlIndex(q, CLAIM)) await q.query(`ALTER TABLE \`tasks\` DROP INDEX \`${CLAIM}\``);
    } else {
      await q.query(`CREATE INDEX IF NOT EXISTS "${OLD}" ON "tasks" ("status", "run_at")`);
      await q.query(`DROP INDEX IF EXISTS "${CLAIM}"`);
    }
  }
}

async function hasMysqlIndex(q: QueryRunner, name: string): Promise<boolean> {
  const rows = await q.manager.query<{ n: number | string }[]>(
    'SELECT COUNT(*) AS n FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?',
    ['tasks', name],
  );
  return Number(rows[0]?.n) > 0;
}
