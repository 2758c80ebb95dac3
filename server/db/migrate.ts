import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Logger } from '../adapters/logger';
import { releaseRowLease, takeRowLease } from './lease-queue';
import { isUniqueViolation } from './errors';

/** The lock row lives outside the migrations: it has to exist before the first one runs. */
const LOCK_TABLE = 'flywheel_migration_lease';
/**
 * The lock of versions before the lease protocol: one row inserted per run, with an expiry in
 * epoch milliseconds and no heartbeat. It is still honoured (an older instance may be migrating
 * during a rolling deploy) but never taken.
 */
const LEGACY_LOCK_TABLE = 'flywheel_migration_lock';
const DEFAULT_LOCK_TTL_MS = 30_000;

export interface MigrateParams {
  dataSource: DataSource;
  /** Who holds the lock (instance id); shown to whoever waits. */
  holder: string;
  /**
   * How long the lock lasts without a heartbeat. Short, so a crashed migrator frees it quickly;
   * a live one renews it every `heartbeatMs`, so a long migration is never taken over.
   */
  lockTtlMs?: number;
  /** How often the holder renews the lock; a third of the TTL unless given. */
  heartbeatMs?: number;
  /** How long to wait for another instance's migration before giving up. */
  waitMs?: number;
  now?: () => number;
  logger: Logger;
}

/**
 * Runs pending migrations under the migration lock, so that two instances starting together
 * never both migrate. Returns the names of the migrations this call applied.
 */
export async function runMigrationsWithLock(params: MigrateParams): Promise<string[]> {
  return withMigrationLock(params, async () => {
    const applied = await params.dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  });
}

/**
 * Runs `work` holding the migration lock: a row lease (takeRowLease, the project's one lease
 * protocol) with a short TTL and a heartbeat. A crashed holder stops renewing, and the next
 * instance takes the lock over once the TTL has passed.
 *
 * On SQLite the heartbeat shares the one connection with the migration, so a renewal made while
 * a migration's transaction is open commits with it; another process cannot write to the file
 * meanwhile anyway. If the lock is lost all the same (the process stalled longer than the TTL),
 * the work is not interrupted halfway, but the call fails once it ends, so the start-up stops.
 */
export async function withMigrationLock<T>(params: MigrateParams, work: () => Promise<T>): Promise<T> {
  const { dataSource } = params;
  const lockTtlMs = params.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  const heartbeatMs = params.heartbeatMs ?? Math.max(1, Math.floor(lockTtlMs / 3));
  const waitMs = params.waitMs ?? 5 * 60_000;
  const now = params.now ?? Date.now;
  // A token per run, so two runs in one process (tests, tools) exclude each other too.
  const lease = `${params.holder.slice(0, 48)}#${randomBytes(6).toString('hex')}`;
  const row = { manager: dataSource.manager, table: LOCK_TABLE, where: { sql: 'id = 1', params: [] } };
  const take = () => takeRowLease({ ...row, holder: lease, leaseMs: lockTtlMs });

  await ensureLockRow(dataSource);
  const deadline = now() + waitMs;
  for (;;) {
    if (await take()) {
      const legacy = await liveLegacyHolder(dataSource, now());
      if (legacy === null) break;
      await releaseRowLease({ ...row, holder: lease });
    }
    if (now() > deadline) {
      const holders: { lease_holder: string | null }[] = await dataSource.query(`SELECT lease_holder FROM ${LOCK_TABLE} WHERE id = 1`);
      const holder = (await liveLegacyHolder(dataSource, now())) ?? holders[0]?.lease_holder ?? 'nobody';
      throw new Error(`Timed out waiting for the migration lock held by ${holder}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const state: { lost: string | null } = { lost: null };
  let beating: Promise<void> = Promise.resolve();
  const beat = async (): Promise<void> => {
    if (state.lost !== null) return;
    try {
      if (await take()) return;
      state.lost = 'another instance took it over after the heartbeat lapsed';
      params.logger.error('the migration lock was lost while migrating', { holder: lease });
    } catch (error) {
      // The next beat tries again; the TTL leaves room for two misses.
      params.logger.warn('could not renew the migration lock', { holder: lease, error });
    }
  };
  const timer = setInterval(() => {
    beating = beating.then(beat);
  }, heartbeatMs);
  try {
    const result = await work();
    if (state.lost !== null) throw new Error(`the migration lock was lost while migrating: ${state.lost}`);
    return result;
  } finally {
    clearInterval(timer);
    await beating;
    await releaseRowLease({ ...row, holder: lease });
  }
}

/** Creates the lock table and its one row when missing; racing instances may both try. */
async function ensureLockRow(dataSource: DataSource): Promise<void> {
  await dataSource.query(
    `CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (id INT PRIMARY KEY, lease_holder VARCHAR(64) NULL, lease_until DATETIME(3) NULL)`,
  );
  try {
    await dataSource.query(`INSERT INTO ${LOCK_TABLE} (id, lease_holder, lease_until) VALUES (1, NULL, NULL)`);
  } catch (error) {
    // Deliberate: the row exists already (created earlier, or by the instance we raced).
    if (!isUniqueViolation(error)) throw error;
  }
}

/** The holder of a live lock of the previous shape (an older instance migrating), or null. */
async function liveLegacyHolder(dataSource: DataSource, nowMs: number): Promise<string | null> {
  const runner = dataSource.createQueryRunner();
  try {
    if (!(await runner.hasTable(LEGACY_LOCK_TABLE))) return null;
  } finally {
    await runner.release();
  }
  const rows: { holder: string }[] = await dataSource.query(`SELECT holder FROM ${LEGACY_LOCK_TABLE} WHERE id = 1 AND expires_at >= ?`, [
    nowMs,
  ]);
  return rows[0]?.holder ?? null;
}
