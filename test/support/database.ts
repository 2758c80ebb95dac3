import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../config/config.schema';
import { createLogger } from '../../server/adapters/logger';
import { createDataSource } from '../../server/db/data-source';
import { SeedDefaultRules1795436300000 } from '../../server/db/migrations/1795436300000-seed-default-rules';
import { runMigrationsWithLock } from '../../server/db/migrate';
import { seedDefaultStageRules } from '../../server/db/migrations/1795860000000-scoring-lifecycle';

/**
 * Database suites run on SQLite and again on MariaDB/MySQL. MySQL is never skipped silently:
 * if the server is not there the suite fails. Set TEST_SKIP_MYSQL=1 to opt out by hand
 * (CI never sets it).
 */
export const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const DATABASE_KINDS: DatabaseConfig['kind'][] = process.env.TEST_SKIP_MYSQL === '1' ? ['sqlite'] : ['sqlite', 'mysql'];

let counter = 0;

export interface TestDatabase {
  config: DatabaseConfig;
  dataSource: DataSource;
  /** Deletes every row, keeping the schema and the seeded defaults. */
  reset(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated, empty database of the given kind, private to the calling suite. With
 * `migrate: false` it has no table yet, for the tests that run the migrations one at a time.
 */
export async function createTestDatabase(kind: DatabaseConfig['kind'], options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  counter += 1;
  // Jest workers are separate processes: the pid keeps their databases apart (the SQLite files
  // are in mkdtemp directories), the counter and the random part keep a suite's apart.
  const suffix = `${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
  let config: DatabaseConfig;
  let dropDatabase: () => Promise<void>;
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-test-'));
    config = { kind, path: path.join(dir, 'test.sqlite') };
    dropDatabase = () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true }));
  } else {
    const name = `flywheel_t_${suffix}`;
    const url = new URL(TEST_MYSQL_URL);
    await adminQuery(url, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    url.pathname = `/${name}`;
    config = { kind, url: url.toString() };
    dropDatabase = async () => adminQuery(new URL(TEST_MYSQL_URL), `DROP DATABASE IF EXISTS \`${name}\``);
  }
  const dataSource = await createDataSource(config, { poolSize: 5 });
  await dataSource.initialize();
  if (options.migrate !== false) await runMigrationsWithLock({ dataSource, holder: `test-${suffix}`, logger: createLogger('warn') });

  return {
    config,
    dataSource,
    async reset() {
      for (const meta of dataSource.entityMetadatas) {
        await dataSource.query(`DELETE FROM ${dataSource.driver.escape(meta.tableName)}`);
      }
      // Back to a fresh installation, which includes the default rules the data migration seeds.
      const runner = dataSource.createQueryRunner();
      try {
        await new SeedDefaultRules1795436300000().up(runner);
        await seedDefaultStageRules(runner);
      } finally {
        await runner.release();
      }
    },
    async destroy() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await dropDatabase();
    },
  };
}

async function adminQuery(url: URL, sql: string): Promise<void> {
  const { createConnection } = await import('mysql2/promise');
  const server = new URL(url.toString());
  server.pathname = '/';
  const conn = await createConnection(server.toString());
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

/**
 * `describe` once per database kind, with a fresh migrated database for the block, emptied
 * before each test. Use: `describeEachDatabase('contacts', (db) => { it(..., () => db().dataSource ...) })`.
 */
export function describeEachDatabase(name: string, body: (db: () => TestDatabase) => void): void {
  describe.each(DATABASE_KINDS)(`${name} [%s]`, (kind) => {
    let database: TestDatabase | undefined;
    beforeAll(async () => {
      database = await createTestDatabase(kind);
    });
    beforeEach(async () => {
      await database?.reset();
    });
    afterAll(async () => {
      await database?.destroy();
    });
    body(() => {
      if (!database) throw new Error('test database not ready');
      return database;
    });
  });
}

/**
 * A second DataSource on the suite's database, standing for a second server instance: its own
 * connections, the same data. For races between instances.
 */
export function useSecondInstance(db: () => TestDatabase): () => DataSource {
  let other: DataSource | undefined;
  beforeAll(async () => {
    other = await createDataSource(db().config, { poolSize: 5 });
    await other.initialize();
  });
  afterAll(async () => {
    await other?.destroy();
  });
  return () => {
    if (!other) throw new Error('second instance not ready');
    return other;
  };
}

/**
 * Resolves once a transaction (or `waiters` of them) on this MySQL/MariaDB database waits for a
 * row lock, for tests that interleave transactions on purpose: hold one open, start the others,
 * wait for this, go on.
 * A state, polled every 200 ms: MariaDB rebuilds INNODB_TRX only when nobody read it in the last
 * 100 ms, so a faster poll reads the same stale picture forever.
 */
export async function untilSomeoneWaitsForALock(dataSource: DataSource, waiters = 1): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [row]: { n: number | string }[] = await dataSource.query(
      `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
        WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()`,
    );
    if (Number(row.n) >= waiters) return;
  }
  throw new Error(`${waiters} transaction(s) did not come to wait for a lock within 20 s`);
}
