import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * The list's "active in N days + stage" filter, measured with bench/contacts.bench.ts on 1M
 * contacts (docs/BENCHMARKS.md): no index held both conditions, so MariaDB walked the primary key
 * backwards and checked each row (143,000 rows for the first page, 160–190 ms), and its total
 * looked up every active contact's stage. contacts (merged_into_id, stage, last_interaction_at)
 * holds the matches as one range with their ids, read from the index alone (11,000 entries, 3 ms).
 *
 * contacts (last_interaction_at) goes: every query of last_interaction_at asks for live contacts,
 * which (merged_into_id, last_interaction_at) serves as well. Each contact's newest interaction
 * rewrites that column, so the table keeps two indexes on it, as before, not three.
 *
 * The new index is built before the old one goes, and each step checks first: MySQL commits each
 * DDL statement on its own, so a run that stopped halfway finishes when it runs again.
 */
export class ContactsStageActivityIndex1795750000000 implements MigrationInterface {
  name = 'ContactsStageActivityIndex1795750000000';

  async up(q: QueryRunner): Promise<void> {
    await addIndex(q, STAGE_ACTIVITY);
    await dropIndex(q, ACTIVITY.name);
  }

  async down(q: QueryRunner): Promise<void> {
    await addIndex(q, ACTIVITY);
    await dropIndex(q, STAGE_ACTIVITY.name);
  }
}

interface ContactsIndex {
  name: string;
  columns: string[];
}

const STAGE_ACTIVITY: ContactsIndex = {
  name: 'IDX_contacts_live_stage_last_interaction',
  columns: ['merged_into_id', 'stage', 'last_interaction_at'],
};
const ACTIVITY: ContactsIndex = { name: 'IDX_contacts_last_interaction', columns: ['last_interaction_at'] };

async function addIndex(q: QueryRunner, index: ContactsIndex): Promise<void> {
  if (await hasIndex(q, index.name)) return;
  await q.query(
    isMysqlRunner(q)
      ? `ALTER TABLE \`contacts\` ADD INDEX \`${index.name}\` (${index.columns.map((c) => `\`${c}\``).join(', ')})`
      : `CREATE INDEX "${index.name}" ON "contacts" (${index.columns.map((c) => `"${c}"`).join(', ')})`,
  );
}

async function dropIndex(q: QueryRunner, name: string): Promise<void> {
  if (!(await hasIndex(q, name))) return;
  await q.query(isMysqlRunner(q) ? `ALTER TABLE \`contacts\` DROP INDEX \`${name}\`` : `DROP INDEX "${name}"`);
}

async function hasIndex(q: QueryRunner, name: string): Promise<boolean> {
  const table = await q.getTable('contacts');
  return table?.indices.some((index) => index.name === name) ?? false;
}
