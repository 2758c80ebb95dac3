import { guardGeneratedMigration, guardMysqlQueries, guardSqliteQueries } from '../../../scripts/migration-guard';

// What TypeORM's MySQL schema builder emits for a column whose type changed (text → mediumtext).
const DROP_PAYLOAD = 'ALTER TABLE `callback_inbox` DROP COLUMN `payload`';
const ADD_PAYLOAD = 'ALTER TABLE `callback_inbox` ADD `payload` mediumtext NOT NULL';

describe('migration guard', () => {
  it('rewrites a MySQL DROP COLUMN + ADD of the same column to one MODIFY that keeps the values', () => {
    const result = guardMysqlQueries([DROP_PAYLOAD, 'ALTER TABLE `tags` ADD `color` varchar(16) NULL', ADD_PAYLOAD], false);
    expect(result.queries).toEqual([
      'ALTER TABLE `callback_inbox` MODIFY `payload` mediumtext NOT NULL',
      'ALTER TABLE `tags` ADD `color` varchar(16) NULL',
    ]);
    expect(result.refused).toEqual([]);
    expect(result.rewritten).toHaveLength(1);
  });

  it('refuses a MySQL column or table drop unless asked for', () => {
    const drops = [DROP_PAYLOAD, 'DROP TABLE `callback_inbox`'];
    expect(guardMysqlQueries(drops, false).refused).toEqual(drops);
    expect(guardMysqlQueries(drops, true)).toEqual({ queries: drops, rewritten: [], refused: [] });
  });

  it('accepts a SQLite table rebuild that copies the rows, and refuses a bare DROP TABLE', () => {
    const rebuild = [
      'CREATE TABLE "temporary_tags" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(128) NOT NULL)',
      'INSERT INTO "temporary_tags"("id", "name") SELECT "id", "name" FROM "tags"',
      'DROP TABLE "tags"',
      'ALTER TABLE "temporary_tags" RENAME TO "tags"',
    ];
    expect(guardSqliteQueries(rebuild, false).refused).toEqual([]);
    expect(guardSqliteQueries(['DROP TABLE "tags"'], false).refused).toEqual(['DROP TABLE "tags"']);
  });
});

// What TypeORM 1.1's schema builders emit (captured from them) for a new table with an index and a
// new nullable column on job_cursors, and for the column job_cursors.value removed from the entity.
const ADDITIVE = {
  mysql: {
    up: [
      'CREATE TABLE `scratch_notes` (`id` int NOT NULL AUTO_INCREMENT, `at` datetime(3) NOT NULL, INDEX `IDX_scratch_notes_at` (`at`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
      'ALTER TABLE `job_cursors` ADD `owner` varchar(32) NULL',
    ],
    down: [
      'ALTER TABLE `job_cursors` DROP COLUMN `owner`',
      'DROP INDEX `IDX_scratch_notes_at` ON `scratch_notes`',
      'DROP TABLE `scratch_notes`',
    ],
  },
  sqlite: {
    up: [
      'CREATE TABLE "scratch_notes" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "at" datetime(3) NOT NULL)',
      'CREATE INDEX "IDX_scratch_notes_at" ON "scratch_notes" ("at") ',
      'CREATE TABLE "temporary_job_cursors" ("name" varchar(64) PRIMARY KEY NOT NULL, "value" varchar(255) NOT NULL, "updated_at" datetime(3) NOT NULL, "owner" varchar(32))',
      'INSERT INTO "temporary_job_cursors"("name", "value", "updated_at") SELECT "name", "value", "updated_at" FROM "job_cursors"',
      'DROP TABLE "job_cursors"',
      'ALTER TABLE "temporary_job_cursors" RENAME TO "job_cursors"',
    ],
    down: [
      'ALTER TABLE "job_cursors" RENAME TO "temporary_job_cursors"',
      'CREATE TABLE "job_cursors" ("name" varchar(64) PRIMARY KEY NOT NULL, "value" varchar(255) NOT NULL, "updated_at" datetime(3) NOT NULL)',
      'INSERT INTO "job_cursors"("name", "value", "updated_at") SELECT "name", "value", "updated_at" FROM "temporary_job_cursors"',
      'DROP TABLE "temporary_job_cursors"',
      'DROP INDEX "IDX_scratch_notes_at"',
      'DROP TABLE "scratch_notes"',
    ],
  },
};
const DESTRUCTIVE_MYSQL = {
  up: ['ALTER TABLE `job_cursors` DROP COLUMN `value`'],
  down: ['ALTER TABLE `job_cursors` ADD `value` varchar(255) NOT NULL'],
};

describe('migration guard over a generated migration', () => {
  it.each(['mysql', 'sqlite'] as const)(
    'writes an additive change on %s without --allow-drop, though its down drops what up adds',
    (kind) => {
      const result = guardGeneratedMigration({ kind, ...ADDITIVE[kind], allowDrop: false });
      expect(result).toEqual({ ...ADDITIVE[kind], rewritten: [], refused: [] });
    },
  );

  it('still refuses an up that drops a column or a table, and writes it with --allow-drop', () => {
    expect(guardGeneratedMigration({ kind: 'mysql', ...DESTRUCTIVE_MYSQL, allowDrop: false }).refused).toEqual(DESTRUCTIVE_MYSQL.up);
    const dropTable = { up: ADDITIVE.mysql.down, down: ADDITIVE.mysql.up };
    expect(guardGeneratedMigration({ kind: 'mysql', ...dropTable, allowDrop: false }).refused).toEqual([
      'ALTER TABLE `job_cursors` DROP COLUMN `owner`',
      'DROP TABLE `scratch_notes`',
    ]);
    const sqliteDrop = { up: ['DROP INDEX "IDX_scratch_notes_at"', 'DROP TABLE "scratch_notes"'], down: ADDITIVE.sqlite.up.slice(0, 2) };
    expect(guardGeneratedMigration({ kind: 'sqlite', ...sqliteDrop, allowDrop: false }).refused).toEqual(['DROP TABLE "scratch_notes"']);
    expect(guardGeneratedMigration({ kind: 'mysql', ...DESTRUCTIVE_MYSQL, allowDrop: true }).refused).toEqual([]);
  });

  it("rewrites a type change's DROP + ADD to MODIFY in down as well, so rolling back keeps the values", () => {
    const result = guardGeneratedMigration({
      kind: 'mysql',
      up: [DROP_PAYLOAD, ADD_PAYLOAD],
      down: [DROP_PAYLOAD, 'ALTER TABLE `callback_inbox` ADD `payload` text NOT NULL'],
      allowDrop: false,
    });
    expect(result.up).toEqual(['ALTER TABLE `callback_inbox` MODIFY `payload` mediumtext NOT NULL']);
    expect(result.down).toEqual(['ALTER TABLE `callback_inbox` MODIFY `payload` text NOT NULL']);
    expect(result.refused).toEqual([]);
    expect(result.rewritten).toHaveLength(2);
  });
});
