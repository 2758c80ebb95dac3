import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * Lead imports (issue 15 §3): imports and their staged rows import_rows
 * (entities/lead-import*.entity.ts), and the fields a lead brings that contacts had no place for:
 * contacts.company, title, email (nullable, no backfill). IF NOT EXISTS and hasColumn make a
 * second run finish what a first one left.
 */
const MYSQL = [
  'CREATE TABLE IF NOT EXISTS `imports` (`id` int NOT NULL AUTO_INCREMENT, `status` varchar(16) NOT NULL DEFAULT ' +
    "'staging', `file_name` varchar(255) NULL, `encoding` varchar(16) NULL, `event_id` int NULL, `tags` text NOT NULL, " +
    '`overwrite` tinyint NOT NULL DEFAULT 0, `header` text NULL, `total` int NOT NULL DEFAULT 0, `refused` int NOT NULL DEFAULT 0, ' +
    '`duplicates` int NOT NULL DEFAULT 0, `created` int NOT NULL DEFAULT 0, `updated` int NOT NULL DEFAULT 0, `error` varchar(255) NULL, ' +
    '`operator_id` int NULL, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, `applied_at` datetime(3) NULL, ' +
    'INDEX `IDX_imports_created` (`created_at`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `import_rows` (`id` int NOT NULL AUTO_INCREMENT, `import_id` int NOT NULL, `row_no` int NOT NULL, ' +
    '`status` varchar(16) NOT NULL, `phone` varchar(20) NULL, `name` varchar(128) NULL, `company` varchar(128) NULL, `title` varchar(64) NULL, ' +
    '`email` varchar(254) NULL, `unionid` varchar(128) NULL, `external_user_id` varchar(128) NULL, `openid` varchar(128) NULL, ' +
    '`code` varchar(32) NULL, `message` varchar(255) NULL, `raw` text NULL, `contact_id` int NULL, `created` tinyint NOT NULL DEFAULT 0, ' +
    'UNIQUE INDEX `UQ_import_rows_row` (`import_id`, `row_no`), INDEX `IDX_import_rows_contact` (`import_id`, `contact_id`), ' +
    'PRIMARY KEY (`id`)) ENGINE=InnoDB',
];

const SQLITE = [
  'CREATE TABLE IF NOT EXISTS "imports" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "status" varchar(16) NOT NULL DEFAULT ' +
    `('staging'), "file_name" varchar(255), "encoding" varchar(16), "event_id" integer, "tags" text NOT NULL, ` +
    '"overwrite" boolean NOT NULL DEFAULT (0), "header" text, "total" integer NOT NULL DEFAULT (0), "refused" integer NOT NULL DEFAULT (0), ' +
    '"duplicates" integer NOT NULL DEFAULT (0), "created" integer NOT NULL DEFAULT (0), "updated" integer NOT NULL DEFAULT (0), ' +
    '"error" varchar(255), "operator_id" integer, "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL, "applied_at" datetime(3))',
  'CREATE INDEX IF NOT EXISTS "IDX_imports_created" ON "imports" ("created_at")',
  'CREATE TABLE IF NOT EXISTS "import_rows" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "import_id" integer NOT NULL, ' +
    '"row_no" integer NOT NULL, "status" varchar(16) NOT NULL, "phone" varchar(20), "name" varchar(128), "company" varchar(128), ' +
    '"title" varchar(64), "email" varchar(254), "unionid" varchar(128), "external_user_id" varchar(128), "openid" varchar(128), ' +
    '"code" varchar(32), "message" varchar(255), "raw" text, "contact_id" integer, "created" boolean NOT NULL DEFAULT (0))',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_import_rows_row" ON "import_rows" ("import_id", "row_no")',
  'CREATE INDEX IF NOT EXISTS "IDX_import_rows_contact" ON "import_rows" ("import_id", "contact_id")',
];

const CONTACT_COLUMNS: [name: string, type: string][] = [
  ['company', 'varchar(128)'],
  ['title', 'varchar(64)'],
  ['email', 'varchar(254)'],
];

export class Imports1796000000000 implements MigrationInterface {
  name = 'Imports1796000000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = isMysqlRunner(q);
    for (const statement of mysql ? MYSQL : SQLITE) await q.query(statement);
    for (const [name, type] of CONTACT_COLUMNS) {
      if (await q.hasColumn('contacts', name)) continue;
      await q.query(mysql ? `ALTER TABLE \`contacts\` ADD \`${name}\` ${type} NULL` : `ALTER TABLE "contacts" ADD COLUMN "${name}" ${type}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const quote = isMysqlRunner(q) ? (name: string) => `\`${name}\`` : (name: string) => `"${name}"`;
    for (const [name] of CONTACT_COLUMNS)
      if (await q.hasColumn('contacts', name)) await q.query(`ALTER TABLE ${quote('contacts')} DROP COLUMN ${quote(name)}`);
    await q.query(`DROP TABLE IF EXISTS ${quote('import_rows')}`);
    await q.query(`DROP TABLE IF EXISTS ${quote('imports')}`);
  }
}
