import { createTestDatabase, DATABASE_KINDS } from '../../support/database';

/**
 * After every migration the entities describe exactly the schema the migrations built: the schema
 * builder has nothing to do. A difference here is either an entity out of step with its migration
 * or a migration still to write; left alone, the next generated migration would "fix" it, and a
 * generated fix once dropped and re-added callback_inbox.payload, deleting every pending callback.
 */
describe.each(DATABASE_KINDS)('schema drift [%s]', (kind) => {
  it('the schema builder finds no difference between the entities and the migrated database', async () => {
    const db = await createTestDatabase(kind);
    try {
      const sql = await db.dataSource.driver.createSchemaBuilder().log();
      expect(sql.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});
