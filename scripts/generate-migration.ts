/**
 * Writes one migration from the difference between the entities and the schema the registered
 * migrations build, for both databases in one file (branching on the driver, like every shared
 * migration). Usage (after `npm run build`):
 *   node dist/scripts/generate-migration.js <Name> [--stamp=<ms>] [--mysql-url=<url>] [--allow-drop]
 * The MySQL URL defaults to a scratch database on the local server; the stamp to now.
 *
 * It never emits a DROP COLUMN followed by an ADD of the same column (TypeORM's way of changing a
 * MySQL column's type, which deletes the column's data): such a pair is rewritten to MODIFY and
 * printed. A plain DROP COLUMN or DROP TABLE in `up` (or, on SQLite, a DROP TABLE whose rows were
 * not copied first) is refused unless --allow-drop says the data is meant to go; `down` is not
 * checked, since it drops what `up` adds (scripts/migration-guard.ts). Each MySQL statement gets
 * the check that makes the migration safe to run again after stopping halfway
 * (scripts/migration-steps.ts); one it has no check for is printed, to be written by hand.
 * Then: register the class in server/db/migrations/migrations.ts and run
 * test/integration/db/schema-drift.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createLogger } from '../server/adapters/logger';
import { createDataSource, type DatabaseKind } from '../server/db/data-source';
import { runMigrationsWithLock } from '../server/db/migrate';
import { guardGeneratedMigration, type GuardedMigration } from './migration-guard';
import { checkMysqlStep, type CheckedStep } from './migration-steps';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const name = args.find((arg) => !arg.startsWith('--'));
  const flag = (key: string): string | undefined => args.find((arg) => arg.startsWith(`--${key}=`))?.slice(key.length + 3);
  if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name))
    throw new Error('usage: generate-migration <PascalCaseName> [--stamp=<ms>] [--mysql-url=<url>] [--allow-drop]');
  const mysqlUrl = flag('mysql-url') ?? 'mysql://root@127.0.0.1:3306/flywheel_migration_gen';
  const stamp = Number(flag('stamp') ?? Date.now());
  if (!Number.isSafeInteger(stamp)) throw new Error('--stamp must be an integer (milliseconds)');
  const allowDrop = args.includes('--allow-drop');

  await recreateMysqlDatabase(mysqlUrl);
  const generated = new Map<DatabaseKind, GuardedMigration>();
  for (const kind of ['sqlite', 'mysql'] as const) {
    const ds = await createDataSource(kind === 'sqlite' ? { kind, path: ':memory:' } : { kind, url: mysqlUrl });
    await ds.initialize();
    try {
      await runMigrationsWithLock({ dataSource: ds, holder: 'generator', logger: createLogger('warn') });
      generated.set(kind, await diff(ds, kind, allowDrop));
    } finally {
      await ds.destroy();
    }
  }

  const sqlite = generated.get('sqlite');
  const mysql = generated.get('mysql');
  if (!sqlite || !mysql) throw new Error('both databases must be compared');
  for (const [kind, result] of generated) {
    for (const line of result.rewritten) console.log(`${kind}: rewritten to keep the data: ${line}`);
  }
  const refused = [...generated].flatMap(([kind, result]) => result.refused.map((query) => `${kind}: ${query}`));
  if (refused.length > 0) {
    throw new Error(
      `refusing to write a migration that loses data (write it by hand, or pass --allow-drop if the data is meant to go):\n  ${refused.join('\n  ')}`,
    );
  }
  if (sqlite.up.length === 0 && mysql.up.length === 0) {
    console.log('the schema already matches the entities on both databases');
    return;
  }
  console.log(`wrote ${writeMigration({ name, stamp, sqlite, mysql })}; register it in server/db/migrations/migrations.ts`);
}

async function diff(ds: DataSource, kind: DatabaseKind, allowDrop: boolean): Promise<GuardedMigration> {
  const sql = await ds.driver.createSchemaBuilder().log();
  return guardGeneratedMigration({
    kind,
    up: sql.upQueries.map((q) => q.query),
    down: [...sql.downQueries].reverse().map((q) => q.query),
    allowDrop,
  });
}

function writeMigration(params: { name: string; stamp: number; sqlite: GuardedMigration; mysql: GuardedMigration }): string {
  const className = `${params.name}${params.stamp}`;
  const mysqlSteps = { up: params.mysql.up.map(checkMysqlStep), down: params.mysql.down.map(checkMysqlStep) };
  for (const step of [...mysqlSteps.up, ...mysqlSteps.down].filter((s) => s.unchecked)) {
    console.log(`mysql: no check written before this statement; add one by hand (server/db/migrations/schema-checks.ts): ${step.query}`);
  }
  const call = (query: string): string => `await queryRunner.query(${JSON.stringify(query)});`;
  const mysqlLines = (steps: CheckedStep[]): string =>
    steps.map((step) => (step.when === null ? `      ${call(step.query)}` : `      if (${step.when}) ${call(step.query)}`)).join('\n');
  const sqliteLines = (queries: string[]): string => queries.map((query) => `      ${call(query)}`).join('\n');
  const branch = (mysql: CheckedStep[], sqlite: string[]): string =>
    `    if (isMysqlRunner(queryRunner)) {\n${mysqlLines(mysql)}\n    } else {\n${sqliteLines(sqlite)}\n    }`;
  const usesHasIndex = [...mysqlSteps.up, ...mysqlSteps.down].some((step) => step.usesHasIndex);
  const body = `import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';
${usesHasIndex ? "import { hasIndex } from './schema-checks';\n" : ''}
/**
 * Generated by scripts/generate-migration.ts from the entities; say here why the schema changes.
 * Each MySQL step checks first, so a run that stopped halfway finishes when it runs again.
 */
export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(queryRunner: QueryRunner): Promise<void> {
${branch(mysqlSteps.up, params.sqlite.up)}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${branch(mysqlSteps.down, params.sqlite.down)}
  }
}
`;
  const file = path.join(
    __dirname,
    '..',
    '..',
    'server',
    'db',
    'migrations',
    `${params.stamp}-${params.name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}.ts`,
  );
  fs.writeFileSync(file, body);
  return file;
}

async function recreateMysqlDatabase(url: string): Promise<void> {
  const parsed = new URL(url);
  const database = parsed.pathname.slice(1);
  parsed.pathname = '/';
  const { createConnection } = await import('mysql2/promise');
  const conn = await createConnection(parsed.toString());
  await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await conn.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await conn.end();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
