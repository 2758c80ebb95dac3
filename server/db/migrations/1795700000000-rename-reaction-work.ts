import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';
import { hasIndex } from './schema-checks';

/**
 * interaction_work becomes reaction_work: the table, its worker (modules/reactions), the jobs and
 * the failed-work kind now share one noun. Each step checks first, so a run that stopped halfway
 * (MySQL commits every DDL statement on its own) finishes when it runs again.
 */
export class RenameReactionWork1795700000000 implements MigrationInterface {
  name = 'RenameReactionWork1795700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await rename(queryRunner, { from: 'interaction_work', to: 'reaction_work' });
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await rename(queryRunner, { from: 'reaction_work', to: 'interaction_work' });
  }
}

async function rename(q: QueryRunner, p: { from: string; to: string }): Promise<void> {
  if ((await q.hasTable(p.from)) && !(await q.hasTable(p.to))) {
    await q.query(isMysqlRunner(q) ? `RENAME TABLE \`${p.from}\` TO \`${p.to}\`` : `ALTER TABLE "${p.from}" RENAME TO "${p.to}"`);
  }
  const [due, unique] = [`IDX_${p.from}_due`, `UQ_${p.from}_dedupe_key`];
  if (isMysqlRunner(q)) {
    // Both indexes in one statement: it renames both or neither.
    if (await hasIndex(q, p.to, due)) {
      await q.query(
        `ALTER TABLE \`${p.to}\` RENAME INDEX \`${due}\` TO \`IDX_${p.to}_due\`, RENAME INDEX \`${unique}\` TO \`UQ_${p.to}_dedupe_key\``,
      );
    }
  } else {
    // SQLite cannot rename an index, and its DDL is transactional: drop and create.
    await q.query(`DROP INDEX IF EXISTS "${due}"`);
    await q.query(`DROP INDEX IF EXISTS "${unique}"`);
    await q.query(`CREATE INDEX IF NOT EXISTS "IDX_${p.to}_due" ON "${p.to}" ("status", "next_attempt_at")`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS "UQ_${p.to}_dedupe_key" ON "${p.to}" ("dedupe_key")`);
  }
}
