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

/**
 * How many rows each table access actually read, by running the statement under MariaDB's
 * `ANALYZE FORMAT=JSON` (r_rows); null where that is not available (SQLite, MySQL). An estimate
 * (EXPLAIN's rows) cannot tell a claim that stops at its LIMIT from one that walks a backlog.
 */
export async function rowsRead(dataSource: DataSource, statement: { sql: string; params: unknown[] }): Promise<number[] | null> {
  if (dataSource.options.type !== 'mariadb') return null;
  const rows: Record<string, unknown>[] = await dataSource.query(`ANALYZE FORMAT=JSON ${statement.sql}`, statement.params);
  const text = rows[0]?.ANALYZE;
  if (typeof text !== 'string') throw new Error('ANALYZE FORMAT=JSON gave no plan');
  const counts: number[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node !== null && typeof node === 'object') {
      const entries: [string, unknown][] = Object.entries(node);
      for (const [key, value] of entries) {
        if (key === 'table' && value !== null && typeof value === 'object') {
          const fields: [string, unknown][] = Object.entries(value);
          const read = fields.find(([name]) => name === 'r_rows')?.[1];
          if (read !== undefined) counts.push(Number(read));
        }
        visit(value);
      }
    }
  };
  visit(JSON.parse(text) as unknown);
  return counts;
}

export interface Statement {
  sql: string;
  params: unknown[];
}

/** The suite's DataSource as the service sees it, recording each statement sent through query(). */
export function recordingStatements(ds: DataSource): { dataSource: DataSource; statements: Statement[] } {
  const statements: Statement[] = [];
  const dataSource = new Proxy(ds, {
    get(target, property, receiver) {
      if (property !== 'query') return Reflect.get(target, property, receiver) as unknown;
      return (sql: string, params: unknown[] = []) => {
        statements.push({ sql, params });
        return target.query(sql, params);
      };
    },
  });
  return { dataSource, statements };
}
