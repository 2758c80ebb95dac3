/**
 * Makes generated migration SQL safe for data. TypeORM's MySQL schema builder turns a column whose
 * type, length or nullability changed into `DROP COLUMN c` then `ADD c ...`: every value in the
 * column is gone (a generated migration once did this to callback_inbox.payload and deleted every
 * pending callback). Those pairs become one `MODIFY c ...`, which converts the values in place
 * (and fails loudly if one does not fit). Any other statement of `up` that destroys data is refused.
 */

/** One generated migration, guarded: what the generator writes, and what it must not. */
export interface GuardedMigration {
  up: string[];
  down: string[];
  /** What was rewritten, in `up` or `down`, for the generator to print. */
  rewritten: string[];
  /** Statements of `up` that would lose data; the generator writes nothing while there are any. */
  refused: string[];
}

/**
 * Only `up` is checked: it is what runs on every installed database at start-up. `down` undoes
 * `up`, so it drops what `up` added (the table, the column, the index); checking it too refused
 * every additive migration, and the `--allow-drop` it then took switched the check of `up` off as
 * well. `down` still gets the DROP + ADD → MODIFY rewrite, so rolling a type change back keeps
 * the values.
 */
export function guardGeneratedMigration(params: {
  kind: 'mysql' | 'sqlite';
  up: readonly string[];
  down: readonly string[];
  allowDrop: boolean;
}): GuardedMigration {
  const guard = params.kind === 'mysql' ? guardMysqlQueries : guardSqliteQueries;
  const up = guard(params.up, params.allowDrop);
  const down = guard(params.down, true);
  return { up: up.queries, down: down.queries, rewritten: [...up.rewritten, ...down.rewritten], refused: up.refused };
}

export interface GuardedSql {
  queries: string[];
  /** What was rewritten, for the generator to print. */
  rewritten: string[];
  /** Statements that would lose data and could not be made safe; the generator writes nothing. */
  refused: string[];
}

const DROP_COLUMN = /^ALTER TABLE ((?:`[^`]+`\.)?`[^`]+`) DROP COLUMN `([^`]+)`$/;
const ADD_COLUMN = /^ALTER TABLE ((?:`[^`]+`\.)?`[^`]+`) ADD (`([^`]+)` .+)$/s;
const DROP_TABLE_MYSQL = /^DROP TABLE ((?:`[^`]+`\.)?`[^`]+`)$/;
const DROP_TABLE_SQLITE = /^DROP TABLE "([^"]+)"$/;

/** MySQL and MariaDB: rewrites DROP+ADD of one column to MODIFY; refuses other column and table drops. */
export function guardMysqlQueries(queries: readonly string[], allowDrop: boolean): GuardedSql {
  const out: string[] = [];
  const rewritten: string[] = [];
  const refused: string[] = [];
  const skip = new Set<number>();
  queries.forEach((query, i) => {
    if (skip.has(i)) return;
    const drop = DROP_COLUMN.exec(query);
    if (drop) {
      const [, table, column] = drop;
      const addAt = queries.findIndex((later, j) => {
        if (j <= i || skip.has(j)) return false;
        const add = ADD_COLUMN.exec(later);
        return add !== null && add[1] === table && add[3] === column;
      });
      if (addAt >= 0) {
        const add = ADD_COLUMN.exec(queries[addAt]);
        skip.add(addAt);
        const modify = `ALTER TABLE ${table} MODIFY ${add?.[2] ?? ''}`;
        out.push(modify);
        rewritten.push(`${query} + ADD ${column} → ${modify}`);
        return;
      }
      if (!allowDrop) refused.push(query);
      out.push(query);
      return;
    }
    if (DROP_TABLE_MYSQL.test(query) && !allowDrop) refused.push(query);
    out.push(query);
  });
  return { queries: out, rewritten, refused };
}

/**
 * SQLite cannot alter a column, so TypeORM rebuilds the table: CREATE temporary_t, INSERT INTO
 * temporary_t SELECT ... FROM t, DROP TABLE t, RENAME. A DROP TABLE without that copy before it
 * loses the rows and is refused.
 */
export function guardSqliteQueries(queries: readonly string[], allowDrop: boolean): GuardedSql {
  const refused: string[] = [];
  queries.forEach((query, i) => {
    const drop = DROP_TABLE_SQLITE.exec(query);
    if (!drop || allowDrop) return;
    const copied = queries.slice(0, i).some((earlier) => earlier.startsWith('INSERT INTO ') && earlier.endsWith(` FROM "${drop[1]}"`));
    if (!copied) refused.push(query);
  });
  return { queries: [...queries], rewritten: [], refused };
}
