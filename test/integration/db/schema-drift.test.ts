import { migrationsFor } from '../../../server/db/migrations/migrations';
import { createTestDatabase, DATABASE_KINDS } from '../../support/database';
import { walkMigrations } from '../../support/migration-walk';
import { readSchema } from '../../support/schema-snapshot';

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

  /**
   * The test above sees only the end of the chain: a hand-written migration's `down` is never
   * compared with anything, and a wrong one (an index `up` adds that `down` forgets, a column
   * `down` re-creates with another type) waits for the day someone rolls back. So each registered
   * migration, in order, on both databases: `up` then `down` must give back the schema before
   * `up` exactly (tables, columns in order with type, nullability and default, indexes,
   * constraints), and `up` again must give the schema `up` gave the first time. The first
   * equality is the one that catches a wrong `down`; "up, down, up equals up" alone would not,
   * now that every `up` checks before each step: an index `down` forgot is simply kept by the
   * second `up`. The second equality catches an `up` that depends on what it finds (a check that
   * skips a step it should not). Data is not compared: some `down`s rightly keep what `up` did
   * to rows (the menu events keep their types).
   */
  it("each migration's down gives back the schema before its up, and up again the same schema", async () => {
    const checked: string[] = [];
    await walkMigrations(kind, async (step) => {
      const before = await readSchema(step.dataSource, kind);
      await step.up();
      const after = await readSchema(step.dataSource, kind);
      await step.down();
      expect({ migration: step.name, afterDown: await readSchema(step.dataSource, kind) }).toEqual({
        migration: step.name,
        afterDown: before,
      });
      await step.up();
      expect({ migration: step.name, afterUpAgain: await readSchema(step.dataSource, kind) }).toEqual({
        migration: step.name,
        afterUpAgain: after,
      });
      checked.push(step.name);
    });
    expect(checked).toEqual(migrationsFor(kind).map((migration) => new migration().name));
    // Three passes over every migration: on MariaDB each DDL statement commits on its own, and the
    // walk (~25 s on a quiet machine at 48 migrations) passed the default 30 s on a loaded one.
  }, 120_000);
});
