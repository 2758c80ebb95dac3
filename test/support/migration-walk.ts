import { DataSource, type Logger } from 'typeorm';
import type { DatabaseConfig } from '../../config/config.schema';
import { createLogger } from '../../server/adapters/logger';
import { runMigrationsWithLock } from '../../server/db/migrate';
import { migrationsFor, type MigrationClass } from '../../server/db/migrations/migrations';
import { createTestDatabase } from './database';

const QUIET: Logger = { logQuery() {}, logQueryError() {}, logQuerySlow() {}, logSchemaBuild() {}, logMigration() {}, log() {} };

export interface MigrationStep {
  /** The migration's name, as the migrations table records it. */
  name: string;
  /** The database, with every registered migration before this one applied. */
  dataSource: DataSource;
  /** Runs this migration as start-up does (runMigrationsWithLock: one transaction per migration). */
  up(): Promise<void>;
  /** Undoes it as TypeORM's revert does. */
  down(): Promise<void>;
}

export interface WalkOptions {
  /** Replaces the class of the step's migration, e.g. with one that stops halfway. */
  wrap?: (migration: MigrationClass) => MigrationClass;
}

/**
 * Takes a fresh, empty database through every registered migration of its kind, one at a time and
 * in order, through TypeORM's own runner, and hands each step to `visit` before moving on. The
 * list is read from migrations.ts, so a migration registered there is walked without naming it.
 * A step must leave its migration applied.
 */
export async function walkMigrations(
  kind: DatabaseConfig['kind'],
  visit: (step: MigrationStep) => Promise<void>,
  options: WalkOptions = {},
): Promise<void> {
  const db = await createTestDatabase(kind, { migrate: false });
  const base = db.dataSource.options;
  await db.dataSource.destroy();
  const logger = createLogger('warn');
  try {
    const all = migrationsFor(kind);
    for (const [index, migration] of all.entries()) {
      const name = new migration().name ?? migration.name;
      const current = options.wrap ? options.wrap(migration) : migration;
      // A DataSource that knows this migration and those before it: its runner runs this one only.
      // TypeORM prints every failed migration to the console whatever `logging` says; a failure is
      // thrown to the test anyway, and the crash test fails migrations on purpose.
      const dataSource = new DataSource({ ...base, migrations: [...all.slice(0, index), current], logger: QUIET });
      await dataSource.initialize();
      try {
        await visit({
          name,
          dataSource,
          async up() {
            const applied = await runMigrationsWithLock({ dataSource, holder: `walk-${index}`, logger });
            if (applied.join() !== name) throw new Error(`expected to apply ${name}, applied ${applied.join() || 'nothing'}`);
          },
          async down() {
            await dataSource.undoLastMigration({ transaction: 'each' });
          },
        });
        if (await dataSource.showMigrations()) throw new Error(`${name} is not applied at the end of its step`);
      } finally {
        await dataSource.destroy();
      }
    }
  } finally {
    await db.destroy();
  }
}
