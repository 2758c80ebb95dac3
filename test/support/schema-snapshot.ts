import type { DataSource, QueryRunner } from 'typeorm';
import type { DatabaseConfig } from '../../config/config.schema';

/**
 * What a database's schema is, read from the database itself (information_schema on MySQL and
 * MariaDB, sqlite_master and the table pragmas on SQLite), in a form two states can be compared
 * in: tables, their columns with type, nullability and default, their indexes with columns and
 * uniqueness, and their constraints. The migrations' own bookkeeping is left out, and so is the
 * order of the columns: Flywheel names every column it reads or writes, and SQLite adds a column
 * only at the end, so a `down` that re-adds a dropped column could not put it back in place
 * without rebuilding the table.
 */
export interface SchemaSnapshot {
  [table: string]: TableShape;
}

export interface TableShape {
  options: string;
  columns: ColumnShape[];
  indexes: { [name: string]: string };
  constraints: string[];
}

export interface ColumnShape {
  name: string;
  type: string;
  nullable: boolean;
  /** The default as the database reports it; null when there is none. */
  default: string | null;
  autoIncrement: boolean;
}

/** Rows of every table, each table's rows sorted, auto-increment columns left out (see below). */
export interface RowsSnapshot {
  [table: string]: string[];
}

/** Tables that are not the application's schema: TypeORM's record of migrations, the lock, SQLite's own. */
const BOOKKEEPING = new Set(['migrations', 'typeorm_metadata', 'flywheel_migration_lease', 'flywheel_migration_lock']);

type Kind = DatabaseConfig['kind'];
type Row = Record<string, unknown>;

async function rows(q: Pick<QueryRunner, 'query'> | DataSource, sql: string, params: unknown[] = []): Promise<Row[]> {
  const result: unknown = await q.query(sql, params);
  return Array.isArray(result) ? (result as Row[]) : [];
}

const byName = (a: ColumnShape, b: ColumnShape): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** information_schema and the pragmas answer strings and numbers (bigints as strings). */
const text = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');

export async function readSchema(ds: DataSource, kind: Kind): Promise<SchemaSnapshot> {
  return kind === 'mysql' ? readMysqlSchema(ds) : readSqliteSchema(ds);
}

async function readMysqlSchema(ds: DataSource): Promise<SchemaSnapshot> {
  const schema: SchemaSnapshot = {};
  const tables = await rows(
    ds,
    "SELECT table_name AS t, engine AS e, table_collation AS c FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  for (const table of tables) {
    const name = text(table.t);
    if (!BOOKKEEPING.has(name)) schema[name] = { options: `${text(table.e)} ${text(table.c)}`, columns: [], indexes: {}, constraints: [] };
  }
  const columns = await rows(
    ds,
    'SELECT table_name AS t, column_name AS c, column_type AS type, collation_name AS coll, is_nullable AS n, column_default AS d, extra AS x ' +
      'FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position',
  );
  for (const column of columns) {
    const shape = schema[text(column.t)];
    // MariaDB reports a nullable column without a default as having the default NULL.
    const def = column.d === null || column.d === 'NULL' ? null : text(column.d);
    const type = column.coll === null ? text(column.type) : `${text(column.type)} ${text(column.coll)}`;
    shape?.columns.push({
      name: text(column.c),
      type,
      nullable: column.n === 'YES',
      default: def,
      autoIncrement: /auto_increment/i.test(text(column.x)),
    });
  }
  const indexColumns = await rows(
    ds,
    'SELECT table_name AS t, index_name AS i, non_unique AS nu, column_name AS c, sub_part AS p FROM information_schema.statistics ' +
      'WHERE table_schema = DATABASE() ORDER BY table_name, index_name, seq_in_index',
  );
  for (const column of indexColumns) {
    const shape = schema[text(column.t)];
    if (!shape) continue;
    const index = text(column.i);
    const part = column.p === null ? text(column.c) : `${text(column.c)}(${text(column.p)})`;
    const prefix = Number(column.nu) === 0 ? 'unique' : 'index';
    shape.indexes[index] = shape.indexes[index] ? `${shape.indexes[index]}, ${part}` : `${prefix} ${part}`;
  }
  const constraints = await rows(
    ds,
    'SELECT table_name AS t, constraint_name AS c, constraint_type AS k FROM information_schema.table_constraints WHERE table_schema = DATABASE() ORDER BY table_name, constraint_name',
  );
  for (const constraint of constraints) schema[text(constraint.t)]?.constraints.push(`${text(constraint.k)} ${text(constraint.c)}`);
  for (const shape of Object.values(schema)) shape.columns.sort(byName);
  return schema;
}

async function readSqliteSchema(ds: DataSource): Promise<SchemaSnapshot> {
  const schema: SchemaSnapshot = {};
  const tables = await rows(
    ds,
    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
  );
  for (const table of tables) {
    const name = text(table.name);
    if (BOOKKEEPING.has(name)) continue;
    const sql = text(table.sql);
    const info = await rows(ds, `PRAGMA table_info("${name}")`);
    const keyColumns = info.filter((column) => Number(column.pk) > 0);
    const columns = info.map((column) => ({
      name: text(column.name),
      type: text(column.type),
      nullable: Number(column.notnull) === 0,
      default: column.dflt_value === null ? null : text(column.dflt_value),
      // An INTEGER PRIMARY KEY is the rowid: SQLite numbers it when the INSERT does not.
      autoIncrement: keyColumns.length === 1 && Number(column.pk) === 1 && /^integer$/i.test(text(column.type)),
    }));
    const indexes: TableShape['indexes'] = {};
    for (const index of await rows(ds, `PRAGMA index_list("${name}")`)) {
      const parts = await rows(ds, `PRAGMA index_info("${text(index.name)}")`);
      const kind = Number(index.unique) === 1 ? 'unique' : 'index';
      indexes[text(index.name)] =
        `${kind} ${parts.map((part) => text(part.name)).join(', ')}${Number(index.partial) === 1 ? ' (partial)' : ''}`;
    }
    // The table's own clauses (primary key, AUTOINCREMENT, CHECK, foreign keys) as SQLite keeps
    // them; the column list is compared above, so only what follows it is kept here.
    const constraints = [
      /AUTOINCREMENT/i.test(sql) ? 'AUTOINCREMENT' : '',
      `PRIMARY KEY ${keyColumns.map((column) => text(column.name)).join(', ')}`,
      ...(await rows(ds, `PRAGMA foreign_key_list("${name}")`)).map(
        (fk) => `FOREIGN KEY ${text(fk.from)} → ${text(fk.table)}.${text(fk.to)} ${text(fk.on_delete)}`,
      ),
      ...checkClauses(sql),
    ].filter((constraint) => constraint !== '');
    schema[name] = { options: /WITHOUT ROWID/i.test(sql) ? 'WITHOUT ROWID' : '', columns: columns.sort(byName), indexes, constraints };
  }
  return schema;
}

/** The CHECK (...) clauses of a CREATE TABLE statement, each up to its closing parenthesis. */
function checkClauses(sql: string): string[] {
  return [...sql.matchAll(/CHECK\s*\(/gi)].map((match) => {
    let depth = 0;
    for (let i = match.index + match[0].length - 1; i < sql.length; i += 1) {
      if (sql[i] === '(') depth += 1;
      if (sql[i] === ')') depth -= 1;
      if (depth === 0) return sql.slice(match.index, i + 1);
    }
    return sql.slice(match.index);
  });
}

/**
 * Every row of every table of `schema`. Auto-increment columns are left out: a transaction rolled
 * back still uses up the numbers it took on InnoDB, so rows a migration inserts after a crash get
 * other ids than in a clean run, and that is no difference. Values are compared as the driver
 * returns them (dates as ISO strings).
 */
export async function readRows(ds: DataSource, schema: SchemaSnapshot, kind: Kind): Promise<RowsSnapshot> {
  const out: RowsSnapshot = {};
  for (const [table, shape] of Object.entries(schema)) {
    const kept = shape.columns.filter((column) => !column.autoIncrement).map((column) => column.name);
    const found = await rows(ds, `SELECT * FROM ${quote(kind, table)}`);
    out[table] = found.map((row) => JSON.stringify(kept.map((column) => normalise(row[column])))).sort();
  }
  return out;
}

function normalise(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function quote(kind: Kind, name: string): string {
  return kind === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

/**
 * Rows for every table, from the schema alone, so that the migrations' data statements have
 * something to work on whatever table they touch. A column with a default gets it (a status
 * column starts 'pending', as the application writes it); integer columns get the row's number
 * (1, 2, ...: a contact_id points at a contact); strings get short JSON texts (a migration may
 * turn a text column into JSON). Nullable columns are NULL in the first row, set in the second,
 * and then, for each bit of the column's position, NULL in one row where the bit is 0 and in the
 * next where it is 1: any two nullable columns are, in some row, one NULL and the other set (a
 * contact with an owner and no merged_into_id, as the follows backfill copies).
 */
export async function seedRows(q: QueryRunner, schema: SchemaSnapshot, kind: Kind): Promise<void> {
  const plans = Object.entries(schema)
    .map(([table, shape]) => {
      const columns = shape.columns.filter((column) => column.default === null || column.autoIncrement);
      const bits = Math.max(1, Math.ceil(Math.log2(Math.max(1, columns.length))));
      return { table, columns, count: 2 + 2 * bits };
    })
    .filter((plan) => plan.columns.length > 0);
  // A foreign key points at a row the parent really has (its ids are 1..count): tables with no
  // foreign key go first, and a child's value cycles through its parent's ids.
  const parents = await foreignKeysOf(
    q,
    kind,
    plans.map((plan) => plan.table),
  );
  const counts = new Map(plans.map((plan) => [plan.table, plan.count]));
  plans.sort((a, b) => Number(parents.has(a.table)) - Number(parents.has(b.table)));
  for (const { table, columns, count } of plans) {
    const values: unknown[] = [];
    for (let row = 0; row < count; row += 1) {
      const bit = Math.floor((row - 2) / 2);
      columns.forEach((column, position) => {
        const isNull =
          column.nullable && !column.autoIncrement && (row === 0 || (row >= 2 && ((position >> bit) & 1) === (row % 2 === 0 ? 0 : 1)));
        const parent = parents.get(table)?.get(column.name);
        const parentCount = parent === undefined ? undefined : counts.get(parent);
        values.push(isNull ? null : parentCount !== undefined ? (row % parentCount) + 1 : seedValue(column.type, row));
      });
    }
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    await q.query(
      `INSERT INTO ${quote(kind, table)} (${columns.map((column) => quote(kind, column.name)).join(', ')}) VALUES ${Array.from({ length: count }, () => tuple).join(', ')}`,
      values,
    );
  }
}

/** Each table's foreign keys: child table → (column → parent table). */
async function foreignKeysOf(q: QueryRunner, kind: Kind, tables: string[]): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  const add = (table: string, column: string, parent: string) => {
    if (!out.has(table)) out.set(table, new Map());
    out.get(table)?.set(column, parent);
  };
  if (kind === 'mysql') {
    const rows = (await q.query(
      'SELECT TABLE_NAME AS t, COLUMN_NAME AS c, REFERENCED_TABLE_NAME AS p FROM information_schema.KEY_COLUMN_USAGE ' +
        'WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL',
    )) as { t: string; c: string; p: string }[];
    for (const row of rows) add(row.t, row.c, row.p);
  } else {
    for (const table of tables) {
      const rows = (await q.query(`PRAGMA foreign_key_list(${quote(kind, table)})`)) as { table: string; from: string }[];
      for (const row of rows) add(table, row.from, row.table);
    }
  }
  return out;
}

function seedValue(type: string, row: number): string | number {
  const lower = type.toLowerCase();
  const length = /^(?:n?var)?(?:char|binary)\((\d+)\)/.exec(lower);
  if (length) return `[${row + 1}]`.slice(0, Number(length[1]));
  if (/^(?:tinyint|boolean|bool|bit)\b/.test(lower)) return row % 2;
  if (/^(?:int|integer|bigint|smallint|mediumint|decimal|numeric|float|double|real)\b/.test(lower)) return row + 1;
  if (/^(?:datetime|timestamp)\b/.test(lower)) return `2026-11-${10 + row} 08:00:00.000`;
  if (/^date\b/.test(lower)) return `2026-11-${10 + row}`;
  if (/^time\b/.test(lower)) return `08:00:${10 + row}`;
  if (/^year\b/.test(lower)) return 2000 + row;
  if (/^uuid\b/.test(lower)) return `00000000-0000-4000-8000-0000000000${10 + row}`;
  if (/^(?:n?varchar|n?char|text|tinytext|mediumtext|longtext|json|clob|blob|tinyblob|mediumblob|longblob)\b/.test(lower)) {
    return `[${row + 1}]`;
  }
  const enumValue = /^enum\('([^']*)'/i.exec(type);
  if (enumValue) return enumValue[1];
  throw new Error(`no seed value for a column of type ${type}: add one in test/support/schema-snapshot.ts`);
}

/** Deletes every row of every table of `schema`. */
export async function deleteRows(q: QueryRunner, schema: SchemaSnapshot, kind: Kind): Promise<void> {
  for (const table of Object.keys(schema)) await q.query(`DELETE FROM ${quote(kind, table)}`);
}
