import type { QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * The checks a migration makes before each step, so that running it again after it stopped
 * halfway finishes what the first run left undone and changes nothing else. MySQL and MariaDB
 * commit every DDL statement on its own (and the statements after it run outside the migration's
 * transaction), so a crash between two statements leaves the first done and the migration not
 * recorded; the next start runs it again from the top. One statement is all or nothing (an
 * ALTER TABLE with several clauses included: atomic DDL, MariaDB 10.6+ and MySQL 8), so checking
 * one of its effects tells whether it ran. On SQLite the whole migration is one transaction and a
 * crash rolls it back; the checks then find nothing done.
 *
 * Tables and columns: `queryRunner.hasTable` / `hasColumn` (TypeORM reads information_schema or
 * the table pragma), or `CREATE TABLE IF NOT EXISTS` / `DROP TABLE IF EXISTS`, which both
 * databases accept. MySQL 8 has no IF [NOT] EXISTS for columns and indexes (MariaDB has), hence
 * hasIndex below.
 */
export async function hasIndex(queryRunner: QueryRunner, table: string, index: string): Promise<boolean> {
  const rows: unknown = isMysqlRunner(queryRunner)
    ? await queryRunner.query(
        'SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? LIMIT 1',
        [table, index],
      )
    : await queryRunner.query("SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?", [table, index]);
  return Array.isArray(rows) && rows.length > 0;
}
