import type { DataSource } from 'typeorm';
import type { Clock } from '../adapters/clock';
import type { Logger } from '../adapters/logger';

export interface DatabaseReadiness {
  /** The database answered `SELECT 1` within the timeout. */
  database: boolean;
  /** Every migration this code registers has run; `unknown` when the database did not answer. */
  migrations: 'applied' | 'pending' | 'unknown';
}

export interface DatabaseReadinessParams {
  dataSource: DataSource;
  clock: Clock;
  logger: Logger;
  /** A probe that waits longer than this answers "not ready" (a stalled pool, a hung server). */
  timeoutMs?: number;
  /** How long a migration check is reused: probes come every few seconds from each balancer. */
  cacheMs?: number;
}

const DEFAULT_TIMEOUT_MS = 2_000;
const DEFAULT_CACHE_MS = 5_000;

/**
 * What /readyz asks the database. The ping runs at every probe; the migration check (the names
 * TypeORM has recorded against the classes this code registers) is reused for `cacheMs`. It only
 * reads: TypeORM's showMigrations() would create the migrations table when it is missing. A
 * database that has run migrations this code does not know (a newer instance went first in a
 * rolling deploy) is still ready for this code.
 */
export function createDatabaseReadiness(p: DatabaseReadinessParams): () => Promise<DatabaseReadiness> {
  const timeoutMs = p.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cacheMs = p.cacheMs ?? DEFAULT_CACHE_MS;
  const table = p.dataSource.driver.escape(p.dataSource.options.migrationsTableName ?? 'migrations');
  const registered = p.dataSource.migrations.map((m) => m.name ?? m.constructor.name);
  let cached: { applied: boolean; at: number } | null = null;

  const migrationsApplied = async (): Promise<boolean> => {
    const now = p.clock.now().getTime();
    if (cached && now - cached.at < cacheMs) return cached.applied;
    const rows: { name: string }[] = await p.dataSource.query(`SELECT name FROM ${table}`);
    const executed = new Set(rows.map((r) => r.name));
    cached = { applied: registered.every((name) => executed.has(name)), at: now };
    return cached.applied;
  };

  return async () => {
    try {
      await withTimeout(p.dataSource.query('SELECT 1'), timeoutMs);
    } catch (error) {
      p.logger.warn('readiness: the database did not answer', { error });
      return { database: false, migrations: 'unknown' };
    }
    try {
      return { database: true, migrations: (await withTimeout(migrationsApplied(), timeoutMs)) ? 'applied' : 'pending' };
    } catch (error) {
      p.logger.warn('readiness: the applied migrations could not be read', { error });
      return { database: true, migrations: 'unknown' };
    }
  };
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
