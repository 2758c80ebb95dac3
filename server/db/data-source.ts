import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../config/config.schema';
import { ALL_ENTITIES } from '../../entities/all-entities';
import { MYSQL_MIGRATIONS } from './migrations/mysql/mysql-migrations';
import { SQLITE_MIGRATIONS } from './migrations/sqlite/sqlite-migrations';
import { SnakeNamingStrategy } from './snake-naming.strategy';

export type DatabaseKind = DatabaseConfig['kind'];


/**
 * One factory for both databases. `synchronize` stays off everywhere: the schema only changes
 * through migrations (TypeORM #2344: synchronize drops columns on real data).
 */
export function createDataSource(db: DatabaseConfig, options: { poolSize?: number } = {}): DataSource {
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
      migrations: SQLITE_MIGRATIONS,
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
    type: 'mysql',
    url: db.url,
    migrations: MYSQL_MIGRATIONS,
    charset: 'utf8mb4_unicode_ci',
    // Dates are stored and read as UTC on both databases (Ghost #6104, TypeORM #5820).
    timezone: 'Z',
    dateStrings: false,
    supportBigNumbers: true,
    poolSize: options.poolSize ?? 10,
  });
}
