import { DataSource } from 'typeorm';

const LOCK_TABLE = 'flywheel_migration_lock';

export interface MigrateParams {
  dataSource: DataSource;
  /** Who holds the lock (instance id); shown to whoever waits. */
  holder: string;
  /** A lock older than this is taken to be from a crashed instance. */
  lockTtlMs?: number;
  /** How long to wait for another instance's migration before giving up. */
  waitMs?: number;
  now?: () => number;
}

/**
 * Runs pending migrations under a database lock so that two instances starting together never
 * both migrate. The lock is a row in a table that exists outside the migrations (it has to exist
 * before the first one runs); a lock older than lockTtlMs is taken over, so a crash mid-migration
 * does not block every later start. Returns the names of the migrations this call applied.
 */
export async function runMigrationsWithLock(params: MigrateParams): Promise<string[]> {
  const { dataSource, holder } = params;
  const lockTtlMs = params.lockTtlMs ?? 10 * 60_000;
  const waitMs = params.waitMs ?? 5 * 60_000;
  const now = params.now ?? Date.now;

  await dataSource.query(
    `CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (id INT PRIMARY KEY, holder VARCHAR(64) NOT NULL, expires_at BIGINT NOT NULL)`,
  );

  const deadline = now() + waitMs;
  for (;;) {
    if (await tryAcquire(dataSource, holder, now() + lockTtlMs)) break;
    await dataSource.query(`DELETE FROM ${LOCK_TABLE} WHERE id = 1 AND expires_at < ?`, [now()]);
    if (now() > deadline) {
      const rows: { holder: string }[] = await dataSource.query(`SELECT holder FROM ${LOCK_TABLE} WHERE id = 1`);
      throw new Error(`Timed out waiting for the migration lock held by ${rows[0]?.holder ?? 'nobody'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await dataSource.query(`DELETE FROM ${LOCK_TABLE} WHERE id = 1 AND holder = ?`, [holder]);
  }
}

async function tryAcquire(dataSource: DataSource, holder: string, expiresAt: number): Promise<boolean> {
  try {
    await dataSource.query(`INSERT INTO ${LOCK_TABLE} (id, holder, expires_at) VALUES (1, ?, ?)`, [holder, expiresAt]);
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

/** SQLite and MySQL report a duplicate key differently; both mean "someone else has it". */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const fields = error as Error & { code?: unknown; errno?: unknown; driverError?: { code?: unknown } };
  const code = fields.code ?? fields.driverError?.code;
  return (
    code === 'ER_DUP_ENTRY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    fields.errno === 1062 ||
    /UNIQUE constraint failed|Duplicate entry/.test(error.message)
  );
}
