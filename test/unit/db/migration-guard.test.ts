import { guardMysqlQueries, guardSqliteQueries } from '../../../scripts/migration-guard';

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
