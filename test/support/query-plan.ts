import type { DataSource } from 'typeorm';
import { isMysqlManager } from '../../server/db/sql';

/** One table access of a plan, as either database describes it. */
export interface PlanStep {
  table: string;
  /** The index the step reads (`PRIMARY` for the primary key), or null for a table scan. */
  index: string | null;
  /** MySQL/MariaDB's estimate of the rows it reads; null on SQLite, which gives none. */
  rows: number | null;
  /** The database's own words, to show when an assertion fails. */
  text: string;
  /** A sort the index order does not give (MySQL's `Using filesort`, SQLite's temp B-tree). */
  sorts: boolean;
}

/**
 * The plan of a statement: `EXPLAIN` on MySQL/MariaDB, `EXPLAIN QUERY PLAN` on SQLite, reduced to
 * what a test asserts on (which index each table access reads, and whether it sorts).
 */
export async function queryPlan(dataSource: DataSource, statement: { sql: string; params: unknown[] }): Promise<PlanStep[]> {
  if (isMysqlManager(dataSource.manager)) {
    const rows: Record<string, unknown>[] = await dataSource.query(`EXPLAIN ${statement.sql}`, statement.params);
    return rows.map((row) => {
      const extra = typeof row.Extra === 'string' ? row.Extra : '';
      return {
        table: String(row.table),
        index: typeof row.key === 'string' ? row.key : null,
        rows: row.rows === null || row.rows === undefined ? null : Number(row.rows),
        text: `${String(row.table)}: type=${String(row.type)} key=${String(row.key)} rows=${String(row.rows)} ${extra}`,
        sorts: /filesort/i.test(extra),
      };
    });
  }
  const rows: { detail: string }[] = await dataSource.query(`EXPLAIN QUERY PLAN ${statement.sql}`, statement.params);
  const sorts = rows.some((row) => /USE TEMP B-TREE FOR ORDER BY/.test(row.detail));
  return rows
    .filter((row) => /^(SEARCH|SCAN) /.test(row.detail))
    .map((row) => {
      const index =
        /USING (?:COVERING )?INDEX (\S+)/.exec(row.detail)?.[1] ?? (/USING INTEGER PRIMARY KEY/.test(row.detail) ? 'PRIMARY' : null);
      return { table: row.detail.split(' ')[1] ?? '', index, rows: null, text: row.detail, sorts };
    });
}
