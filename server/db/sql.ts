import type { EntityManager } from 'typeorm';

/**
 * Raw-SQL helpers for the callback hot path and the inbox worker, where TypeORM's query builder
 * costs more than the statement itself. Placeholders are `?` on both databases.
 */

/** `?,?,?` for an IN list or a VALUES row of n values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(',');
}

/** The datetime text both databases accept for datetime(3) columns, in UTC. */
export function toSqlDate(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/** A datetime(3) a raw query returned: mysql2 gives a Date, better-sqlite3 the UTC text toSqlDate wrote. */
export function fromSqlDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(`${String(value).replace(' ', 'T')}Z`);
}

/** MySQL or MariaDB (TypeORM's `mysql` or `mariadb` type), else SQLite. */
export function isMysqlManager(manager: EntityManager): boolean {
  const type = manager.connection.options.type;
  return type === 'mysql' || type === 'mariadb';
}

/** Runs an INSERT and returns the new row's id (better-sqlite3 and mysql2 report it differently). */
export async function insertReturningId(manager: EntityManager, sql: string, params: unknown[]): Promise<number> {
  const result: unknown = await manager.query(sql, params);
  return toId(typeof result === 'object' && result !== null && 'insertId' in result ? result.insertId : result);
}

/** Runs an UPDATE or DELETE and returns how many rows it changed. */
export async function executeCountingRows(manager: EntityManager, sql: string, params: unknown[]): Promise<number> {
  // Inside a transaction the manager has its runner; outside, borrow one (a pool connection on
  // MySQL, the shared connection on SQLite) and give it back.
  const own = manager.queryRunner ? null : manager.connection.createQueryRunner();
  const runner = manager.queryRunner ?? own;
  if (!runner) throw new Error('no query runner');
  try {
    const result = await runner.query(sql, params, true);
    return result.affected ?? 0;
  } finally {
    await own?.release();
  }
}

/** The id TypeORM's `insert()` reports (a number on SQLite, a number or string on MySQL). */
export function insertedId(identifiers: Record<string, unknown>[]): number {
  return toId(identifiers[0]?.id);
}

/** An id as either driver reports it (a number, a bigint or a digit string on MySQL). */
export function toId(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || (typeof value === 'string' && /^\d+$/.test(value))) return Number(value);
  throw new Error('the INSERT reported no id');
}

/**
 * Makes an SQLite transaction a writer from its first statement (a no-op UPDATE takes the write
 * lock, waiting out busy_timeout). A transaction that reads first and writes later holds a read
 * snapshot, and if another process wrote meanwhile its first write fails at once with
 * SQLITE_BUSY (no wait): read-then-write transactions shared by several processes start with this.
 * MySQL needs nothing (row locks).
 */
export async function beginWriting(manager: EntityManager): Promise<void> {
  if (!isMysqlManager(manager)) await manager.query('UPDATE outbox_limits SET bucket = bucket WHERE 1 = 0');
}
