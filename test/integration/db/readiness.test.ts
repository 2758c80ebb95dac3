import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { createDataSource } from '../../../server/db/data-source';
import { createDatabaseReadiness } from '../../../server/db/readiness';
import { createTestDatabase, DATABASE_KINDS, describeEachDatabase, type TestDatabase } from '../../support/database';

const logger = createLogger('silent');

/** What /readyz asks the database: does it answer, and has every registered migration run. */
describeEachDatabase('database readiness', (db) => {
  const clock = new ManualClock();

  /** Takes the newest migration's row out (as if this code were newer than the database) and puts it back. */
  async function withNewestMigrationUnrun(work: () => Promise<void>): Promise<void> {
    const ds = db().dataSource;
    const [newest]: { id: number; timestamp: number | string; name: string }[] = await ds.query(
      'SELECT id, timestamp, name FROM migrations ORDER BY id DESC LIMIT 1',
    );
    await ds.query('DELETE FROM migrations WHERE id = ?', [newest.id]);
    try {
      await work();
    } finally {
      await ds.query('INSERT INTO migrations (id, timestamp, name) VALUES (?, ?, ?)', [newest.id, newest.timestamp, newest.name]);
    }
  }

  it('a migrated database that answers is ready', async () => {
    const readiness = createDatabaseReadiness({ dataSource: db().dataSource, clock, logger });
    await expect(readiness()).resolves.toEqual({ database: true, migrations: 'applied' });
  });

  it('a registered migration that has not run: pending', async () => {
    await withNewestMigrationUnrun(async () => {
      const readiness = createDatabaseReadiness({ dataSource: db().dataSource, clock, logger });
      await expect(readiness()).resolves.toEqual({ database: true, migrations: 'pending' });
    });
  });

  it('the migration check is reused for cacheMs', async () => {
    const readiness = createDatabaseReadiness({ dataSource: db().dataSource, clock, logger, cacheMs: 5_000 });
    await expect(readiness()).resolves.toMatchObject({ migrations: 'applied' });
    await withNewestMigrationUnrun(async () => {
      clock.advance(4_999);
      await expect(readiness()).resolves.toMatchObject({ migrations: 'applied' });
      clock.advance(1);
      await expect(readiness()).resolves.toMatchObject({ migrations: 'pending' });
    });
  });

  it('a database that does not answer (its connections closed): not ready, migrations unknown', async () => {
    const gone = await createDataSource(db().config, { poolSize: 2 });
    await gone.initialize();
    const readiness = createDatabaseReadiness({ dataSource: gone, clock, logger });
    await gone.destroy();
    await expect(readiness()).resolves.toEqual({ database: false, migrations: 'unknown' });
  });
});

/**
 * A server that takes connections but never gets to the query: here every pooled connection is
 * busy, so the ping waits in the pool's queue. MySQL only: better-sqlite3 has one synchronous
 * connection that never waits like this.
 */
const mysqlOnly = DATABASE_KINDS.includes('mysql') ? describe : describe.skip;
mysqlOnly('database readiness: a stalled database [mysql]', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('mysql');
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('answers not ready within its timeout, and ready again once a connection is free', async () => {
    const stalled = await createDataSource(db.config, { poolSize: 1 });
    await stalled.initialize();
    const holder = stalled.createQueryRunner();
    try {
      await holder.connect();
      const readiness = createDatabaseReadiness({ dataSource: stalled, clock: new ManualClock(), logger, timeoutMs: 200 });
      const started = Date.now();
      await expect(readiness()).resolves.toEqual({ database: false, migrations: 'unknown' });
      expect(Date.now() - started).toBeLessThan(2_000);
      await holder.release();
      await expect(readiness()).resolves.toEqual({ database: true, migrations: 'applied' });
    } finally {
      if (!holder.isReleased) await holder.release();
      await stalled.destroy();
    }
  });
});
