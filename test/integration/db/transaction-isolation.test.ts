import type { DataSource } from 'typeorm';
import { createDataSource } from '../../../server/db/data-source';
import { Transactor } from '../../../server/db/transaction';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../../support/database';

/**
 * `readCommitted` (the counters' fold runs so): a locking read to the end of a table must not
 * hold back a writer inserting after it, as REPEATABLE READ's gap lock does. MySQL only (SQLite
 * has one writer); never skipped unless TEST_SKIP_MYSQL=1.
 */
const describeMysql = DATABASE_KINDS.includes('mysql') ? describe : describe.skip;

describeMysql('Transactor readCommitted [mysql]', () => {
  let db: TestDatabase;
  let other: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    other = await createDataSource(db.config, { poolSize: 1 });
    await other.initialize();
    await other.query('SET SESSION innodb_lock_wait_timeout = 1');
  });
  afterAll(async () => {
    await other.destroy();
    await db.destroy();
  });

  const insertDelta = (source: DataSource) =>
    source.query("INSERT INTO stat_deltas (metric, bucket_at, dim, n) VALUES ('test', '1970-01-01 00:00:00.000', 'a', 1)");

  /** While a transaction has read every delta FOR UPDATE, another instance inserts one. */
  const insertWhileRead = (readCommitted: boolean) =>
    new Transactor(db.dataSource).run(
      async (m) => {
        await m.query('SELECT id FROM stat_deltas ORDER BY id FOR UPDATE');
        try {
          await insertDelta(other);
          return 'inserted';
        } catch (error) {
          if (error instanceof Error && /Lock wait timeout/i.test(error.message)) return 'waited';
          throw error;
        }
      },
      { readCommitted },
    );

  it('lets an insert after the rows it locked through at once; REPEATABLE READ makes it wait', async () => {
    await insertDelta(db.dataSource);
    await expect(insertWhileRead(true)).resolves.toBe('inserted');
    await expect(insertWhileRead(false)).resolves.toBe('waited');
  });
});
