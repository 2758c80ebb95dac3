import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * segments (saved filters with their kept count) and segment_members (who is in each, since when).
 * The members' primary key (segment_id, contact_id) serves a segment's count and its member pages;
 * IDX_segment_members_contact the membership reaction's "which segments are these contacts in".
 * IF NOT EXISTS: a run that stopped between the two tables finishes when it runs again (schema-checks.ts).
 */
export class Segments1795850000000 implements MigrationInterface {
  name = 'Segments1795850000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `segments` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(64) NOT NULL, `filter` json NOT NULL, ' +
          '`count` int NOT NULL DEFAULT 0, `counted_at` datetime(3) NULL, `created_by` int NULL, `created_at` datetime(3) NOT NULL, ' +
          '`updated_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_segments_name` (`name`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS `segment_members` (`segment_id` int NOT NULL, `contact_id` int NOT NULL, `entered_at` datetime(3) NOT NULL, ' +
          'INDEX `IDX_segment_members_contact` (`contact_id`), PRIMARY KEY (`segment_id`, `contact_id`)) ENGINE=InnoDB',
      );
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "segments" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(64) NOT NULL, ' +
          '"filter" json NOT NULL, "count" integer NOT NULL DEFAULT (0), "counted_at" datetime(3), "created_by" integer, ' +
          '"created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
      );
      await q.query('CREATE UNIQUE INDEX IF NOT EXISTS "UQ_segments_name" ON "segments" ("name")');
      await q.query(
        'CREATE TABLE IF NOT EXISTS "segment_members" ("segment_id" integer NOT NULL, "contact_id" integer NOT NULL, ' +
          '"entered_at" datetime(3) NOT NULL, PRIMARY KEY ("segment_id", "contact_id"))',
      );
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_segment_members_contact" ON "segment_members" ("contact_id")');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS segment_members');
    await q.query('DROP TABLE IF EXISTS segments');
  }
}
