import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * The admin list's pairs of filters, measured with bench/contacts.bench.ts on 1M contacts
 * (docs/BENCHMARKS.md, "Every pair under the goal"): a tag or a rep combined with a contact's
 * stage, source, score or activity looked up each tag or follow row's contact by primary key
 * (25–800 ms, most of it reading the 118 MiB clustered index from disk), and pairs of the
 * contact's own columns that no one index held walked the same rows or sorted an index merge.
 *
 * contacts (merged_into_id, id, stage, first_source, score, last_interaction_at) is the list's
 * columns in id order, about 45 MiB: a page walks it newest first and checks every filter on
 * contacts without reading a row, and a tag or rep page probes it by id the same way.
 *
 * contacts (merged_into_id, stage) goes: stage pages walk the new index, and a stage's count or
 * GROUP BY reads the prefix of (merged_into_id, stage, last_interaction_at). A stage change still
 * updates three indexes, as before; a change of the source, score or last interaction one more.
 *
 * The new index is built before the old one goes, and each step checks first: MySQL commits each
 * DDL statement on its own, so a run that stopped halfway finishes when it runs again.
 */
export class ContactsListIndex1795780000000 implements MigrationInterface {
  name = 'ContactsListIndex1795780000000';

  async up(q: QueryRunner): Promise<void> {
    await addIndex(q, LIST);
    await dropIndex(q, LIVE_STAGE.name);
  }

  async down(q: QueryRunner): Promise<void> {
    await addIndex(q, LIVE_STAGE);
    await dropIndex(q, LIST.name);
  }
}

interface ContactsIndex {
  name: string;
  columns: string[];
}

const LIST: ContactsIndex = {
  name: 'IDX_contacts_live_list',
  columns: ['merged_into_id', 'id', 'stage', 'first_source', 'score', 'last_interaction_at'],
};
const LIVE_STAGE: ContactsIndex = { name: 'IDX_contacts_live_stage', columns: ['merged_into_id', 'stage'] };

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
