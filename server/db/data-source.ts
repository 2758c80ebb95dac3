import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import mysql2, { type Pool, type PoolConnection, type PoolOptions, type RowDataPacket } from 'mysql2';
import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../config/config.schema';
import { ALL_ENTITIES } from '../../entities/all-entities';
import { migrationsFor } from './migrations/migrations';
import { SnakeNamingStrategy } from './snake-naming.strategy';

export type DatabaseKind = DatabaseConfig['kind'];

/** Which TypeORM driver type speaks to a MySQL-protocol server. */
export type MysqlFlavor = 'mysql' | 'mariadb';

/**
 * Asks the server what it is: MariaDB says so in `VERSION()` (e.g. `10.11.6-MariaDB-0+deb12u1`).
 * TypeORM only applies its MariaDB handling (column defaults, JSON as checked LONGTEXT, UUIDs)
 * with `type: 'mariadb'`; with `'mysql'` its schema builder sees dozens of false differences on
 * MariaDB and a generated migration would rewrite columns that are fine.
 */
export async function detectMysqlFlavor(url: string): Promise<MysqlFlavor> {
  const conn = await createConnection(url);
  try {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS version');
    const version: unknown = rows[0]?.version;
    return typeof version === 'string' && /mariadb/i.test(version) ? 'mariadb' : 'mysql';
  } finally {
    await conn.end();
  }
}

export interface CreateDataSourceOptions {
  poolSize?: number;
  /** Skips asking the server (one short connection) when the caller already knows. */
  mysqlFlavor?: MysqlFlavor;
}

/**
 * One factory for both databases. `synchronize` stays off everywhere: the schema only changes
 * through migrations (TypeORM #2344: synchronize drops columns on real data).
 */
export async function createDataSource(db: DatabaseConfig, options: CreateDataSourceOptions = {}): Promise<DataSource> {
  const common = {
    entities: ALL_ENTITIES,
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    migrationsRun: false,
    logging: false,
  } as const;

  if (db.kind === 'sqlite') {
    if (db.path !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(db.path)), { recursive: true });
    return new DataSource({
      ...common,
      type: 'better-sqlite3',
      database: db.path,
      migrations: migrationsFor('sqlite'),
      // WAL lets readers run beside the one writer; busy_timeout makes a second process wait
      // for the write lock instead of failing at once with SQLITE_BUSY.
      enableWAL: true,
      timeout: 10_000,
      // TypeORM's default of 100 prepared statements churns under the query builder's varied SQL.
      statementCacheSize: 1000,
      prepareDatabase: (raw: { pragma: (sql: string) => unknown }) => {
        raw.pragma('foreign_keys = ON');
        raw.pragma('synchronous = NORMAL');
      },
    });
  }

  return new DataSource({
    ...common,
    type: options.mysqlFlavor ?? (await detectMysqlFlavor(db.url)),
    url: db.url,
    migrations: migrationsFor('mysql'),
    charset: 'utf8mb4_unicode_ci',
    // Dates are stored and read as UTC on both databases (Ghost #6104, TypeORM #5820). `timezone`
    // is only how mysql2 converts JS dates; the session zone (NOW(), CURRENT_TIMESTAMP defaults)
    // is set to UTC on every pooled connection by the driver below.
    driver: mysql2WithUtcSessions,
    timezone: 'Z',
    dateStrings: false,
    supportBigNumbers: true,
    poolSize: options.poolSize ?? 10,
    // mysql2 captures a stack trace for every query (`trace`, on by default) to decorate a failed
    // query's error; TypeORM wraps every failure in a QueryFailedError with the caller's async
    // stack anyway. Measured under the mini-program's registration load: 6% of the server's CPU.
    extra: { trace: false },
  });
}

/** The session zone every pooled MySQL connection runs in, whatever the server's default is. */
export const MYSQL_SESSION_TIME_ZONE = '+00:00';

/**
 * mysql2, except that each new pool connection first runs `SET time_zone = '+00:00'`. The pool's
 * `connection` event fires before the connection is handed to its first user, and a mysql2
 * connection runs its commands in order, so no query can run before the SET. (TypeORM has no
 * per-connection hook; its `driver` option takes the mysql2 module, hence this wrapper.)
 */
const mysql2WithUtcSessions: typeof mysql2 = Object.assign(Object.create(mysql2) as typeof mysql2, {
  createPool(config: PoolOptions): Pool {
    const pool = mysql2.createPool(config);
    pool.on('connection', (connection: PoolConnection) => {
      connection.query(`SET time_zone = '${MYSQL_SESSION_TIME_ZONE}'`, (error) => {
        // A connection that kept the server's zone would write local NOW() values: drop it.
        if (error) connection.destroy();
      });
    });
    return pool;
  },
});
