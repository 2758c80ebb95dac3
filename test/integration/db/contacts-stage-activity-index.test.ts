import { ContactsStageActivityIndex1795750000000 } from '../../../server/db/migrations/1795750000000-contacts-stage-activity-index';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../../support/database';

const NEW = 'IDX_contacts_live_stage_last_interaction';
const OLD = 'IDX_contacts_last_interaction';

describe.each(DATABASE_KINDS)('migration: contacts (merged_into_id, stage, last_interaction_at) [%s]', (kind) => {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.destroy();
  });

  const database = () => {
    if (!db) throw new Error('test database not ready');
    return db;
  };
  const contactIndexes = async () => {
    const runner = database().dataSource.createQueryRunner();
    try {
      const table = await runner.getTable('contacts');
      return (table?.indices ?? []).map((index) => index.name).filter((name) => name === NEW || name === OLD);
    } finally {
      await runner.release();
    }
  };
  const run = async (direction: 'up' | 'down') => {
    const runner = database().dataSource.createQueryRunner();
    try {
      await new ContactsStageActivityIndex1795750000000()[direction](runner);
    } finally {
      await runner.release();
    }
  };
  const mysql = () => database().config.kind === 'mysql';

  it('replaces (last_interaction_at) with the new index, and back', async () => {
    expect(await contactIndexes()).toEqual([NEW]);
    await run('down');
    expect(await contactIndexes()).toEqual([OLD]);
    await run('up');
    expect(await contactIndexes()).toEqual([NEW]);
  });

  it('finishes when run again after stopping between its two steps, and does nothing a third time', async () => {
    // Where MySQL stands when the run stopped after building the new index (each DDL commits alone).
    await database().dataSource.query(
      mysql()
        ? `CREATE INDEX \`${OLD}\` ON \`contacts\` (\`last_interaction_at\`)`
        : `CREATE INDEX "${OLD}" ON "contacts" ("last_interaction_at")`,
    );
    expect((await contactIndexes()).sort()).toEqual([OLD, NEW].sort());
    await run('up');
    expect(await contactIndexes()).toEqual([NEW]);
    await run('up');
    expect(await contactIndexes()).toEqual([NEW]);
  });
});
