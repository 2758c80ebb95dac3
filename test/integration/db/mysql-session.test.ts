import { MYSQL_SESSION_TIME_ZONE } from '../../../server/db/data-source';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../../support/database';

/**
 * Every pooled MySQL connection runs in UTC, whatever the server's own zone: NOW() and
 * CURRENT_TIMESTAMP defaults then agree with the UTC datetimes the application writes.
 * MySQL only (SQLite has no session zone); never skipped unless TEST_SKIP_MYSQL=1.
 */
const describeMysql = DATABASE_KINDS.includes('mysql') ? describe : describe.skip;

describeMysql('MySQL sessions [mysql]', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('mysql');
  });
  afterAll(async () => {
    await db.destroy();
  });

  it("runs SET time_zone = '+00:00' on every pooled connection, and NOW() is UTC", async () => {
    // Hold five connections at once (the pool's size in tests), so each is a distinct session.
    const runners = Array.from({ length: 5 }, () => db.dataSource.createQueryRunner());
    try {
      await Promise.all(runners.map((runner) => runner.connect()));
      const rows = await Promise.all(
        runners.map(async (runner) => {
          // Through the runner's manager, so the query runs on the connection this runner holds.
          const [row] = await runner.manager.query<{ id: number | string; tz: string; skew: number | string; now: Date }[]>(
            'SELECT CONNECTION_ID() AS id, @@session.time_zone AS tz, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW()) AS skew, NOW(3) AS now',
          );
          if (!row) throw new Error('no row');
          return row;
        }),
      );
      expect(new Set(rows.map((row) => String(row.id))).size).toBe(5);
      for (const row of rows) {
        expect(row.tz).toBe(MYSQL_SESSION_TIME_ZONE);
        expect(Number(row.skew)).toBe(0);
        // mysql2 reads datetimes as UTC (timezone 'Z'): the server's NOW() is the real instant.
        expect(Math.abs(row.now.getTime() - Date.now())).toBeLessThan(5_000);
      }
    } finally {
      await Promise.all(runners.map((runner) => runner.release()));
    }
  });

  it('keeps UTC on connections that come back from the pool', async () => {
    for (let i = 0; i < 3; i += 1) {
      const [row]: { tz: string }[] = await db.dataSource.query('SELECT @@session.time_zone AS tz');
      expect(row?.tz).toBe(MYSQL_SESSION_TIME_ZONE);
    }
  });
});
