/**
 * The check the generator writes before each MySQL statement, so that a generated migration that
 * stopped halfway finishes when it runs again (MySQL commits every DDL statement on its own; see
 * server/db/migrations/schema-checks.ts). SQLite needs none: the runner gives each migration one
 * transaction there, and a crash rolls it back whole.
 */
export interface CheckedStep {
  query: string;
  /** A condition in the generated migration under which the statement runs; null: it always runs. */
  when: string | null;
  /** Whether `when` calls hasIndex (the generated file then imports it). */
  usesHasIndex: boolean;
  /** No check is known for this statement: the generator says so, and the crash test will too. */
  unchecked: boolean;
}

const id = '`([^`]+)`';
const quoted = (name: string): string => JSON.stringify(name).replace(/^"|"$/g, "'");
const hasColumn = (table: string, column: string): string => `await queryRunner.hasColumn(${quoted(table)}, ${quoted(column)})`;
const hasIndex = (table: string, index: string): string => `await hasIndex(queryRunner, ${quoted(table)}, ${quoted(index)})`;

/** What TypeORM 1.1's MySQL schema builder emits, each with the check that tells whether it ran. */
export function checkMysqlStep(query: string): CheckedStep {
  const step = (when: string | null, rewritten = query): CheckedStep => ({
    query: rewritten,
    when,
    usesHasIndex: when?.includes('hasIndex(') ?? false,
    unchecked: false,
  });
  let match: RegExpExecArray | null;
  if (new RegExp(`^CREATE TABLE ${id}`).test(query)) return step(null, query.replace(/^CREATE TABLE /, 'CREATE TABLE IF NOT EXISTS '));
  if (new RegExp(`^DROP TABLE ${id}$`).test(query)) return step(null, query.replace(/^DROP TABLE /, 'DROP TABLE IF EXISTS '));
  if ((match = new RegExp(`^RENAME TABLE ${id} TO ${id}$`).exec(query))) {
    return step(`(await queryRunner.hasTable(${quoted(match[1])})) && !(await queryRunner.hasTable(${quoted(match[2])}))`);
  }
  if ((match = new RegExp(`^CREATE (?:UNIQUE |FULLTEXT |SPATIAL )?INDEX ${id} ON ${id}`).exec(query))) {
    return step(`!(${hasIndex(match[2], match[1])})`);
  }
  if ((match = new RegExp(`^DROP INDEX ${id} ON ${id}$`).exec(query))) return step(hasIndex(match[2], match[1]));
  if ((match = new RegExp(`^ALTER TABLE ${id} DROP COLUMN ${id}$`).exec(query))) return step(hasColumn(match[1], match[2]));
  // Setting a column to the definition it already has changes nothing: no check needed.
  if (new RegExp(`^ALTER TABLE ${id} MODIFY ${id} `).test(query)) return step(null);
  if ((match = new RegExp(`^ALTER TABLE ${id} CHANGE ${id} ${id} `).exec(query))) {
    return step(match[2] === match[3] ? null : hasColumn(match[1], match[2]));
  }
  if ((match = new RegExp(`^ALTER TABLE ${id} ADD ${id} `).exec(query))) return step(`!(${hasColumn(match[1], match[2])})`);
  return { query, when: null, usesHasIndex: false, unchecked: true };
}
