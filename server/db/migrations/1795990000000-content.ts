import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * The content centre (issue 15 §1b): content_materials and content_views
 * (entities/content-material.entity.ts, content-view.entity.ts). New tables; each statement is
 * IF NOT EXISTS, so a run that stopped halfway finishes when run again.
 */
const MYSQL = [
  'CREATE TABLE IF NOT EXISTS `content_materials` (`id` int NOT NULL AUTO_INCREMENT, `code` varchar(16) NOT NULL, `kind` varchar(16) NOT NULL, ' +
    "`status` varchar(16) NOT NULL DEFAULT 'active', `title` varchar(128) NOT NULL, `summary` varchar(512) NULL, `body` text NULL, " +
    '`file_key` varchar(191) NULL, `file_type` varchar(64) NULL, `file_name` varchar(255) NULL, `file_size` int NULL, ' +
    '`file_sha256` varchar(64) NULL, `file_uploaded_at` datetime(3) NULL, `created_by` int NULL, `created_at` datetime(3) NOT NULL, ' +
    '`updated_at` datetime(3) NOT NULL, `archived_at` datetime(3) NULL, UNIQUE INDEX `UQ_content_materials_code` (`code`), ' +
    'INDEX `IDX_content_materials_status` (`status`, `id`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `content_views` (`id` int NOT NULL AUTO_INCREMENT, `view_key` varchar(32) NOT NULL, `material_id` int NOT NULL, ' +
    '`channel_id` int NULL, `visitor_id` varchar(32) NULL, `contact_id` int NULL, `read_seconds` int NOT NULL DEFAULT 0, ' +
    '`viewed_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_content_views_key` (`view_key`), ' +
    'INDEX `IDX_content_views_material` (`material_id`, `viewed_at`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
];

const SQLITE = [
  'CREATE TABLE IF NOT EXISTS "content_materials" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "code" varchar(16) NOT NULL, ' +
    `"kind" varchar(16) NOT NULL, "status" varchar(16) NOT NULL DEFAULT ('active'), "title" varchar(128) NOT NULL, "summary" varchar(512), ` +
    '"body" text, "file_key" varchar(191), "file_type" varchar(64), "file_name" varchar(255), "file_size" integer, "file_sha256" varchar(64), ' +
    '"file_uploaded_at" datetime(3), "created_by" integer, "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL, ' +
    '"archived_at" datetime(3))',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_content_materials_code" ON "content_materials" ("code")',
  'CREATE INDEX IF NOT EXISTS "IDX_content_materials_status" ON "content_materials" ("status", "id")',
  'CREATE TABLE IF NOT EXISTS "content_views" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "view_key" varchar(32) NOT NULL, ' +
    '"material_id" integer NOT NULL, "channel_id" integer, "visitor_id" varchar(32), "contact_id" integer, ' +
    '"read_seconds" integer NOT NULL DEFAULT (0), "viewed_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_content_views_key" ON "content_views" ("view_key")',
  'CREATE INDEX IF NOT EXISTS "IDX_content_views_material" ON "content_views" ("material_id", "viewed_at")',
];

export class Content1795990000000 implements MigrationInterface {
  name = 'Content1795990000000';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of isMysqlRunner(q) ? MYSQL : SQLITE) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    const quote = isMysqlRunner(q) ? (name: string) => `\`${name}\`` : (name: string) => `"${name}"`;
    await q.query(`DROP TABLE IF EXISTS ${quote('content_views')}`);
    await q.query(`DROP TABLE IF EXISTS ${quote('content_materials')}`);
  }
}
