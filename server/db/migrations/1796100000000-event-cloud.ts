import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

const TABLES = ['event_cloud_visits', 'event_cloud_items'];

/**
 * The cloud exhibition (issue 15 §4): the content-centre materials an event shows at
 * /e/<event>/cloud (event_cloud_items, one row per event and material) and its visitors
 * (event_cloud_visits). New tables, no backfill; IF NOT EXISTS, so a run that stopped halfway
 * finishes when run again.
 */
export class EventCloud1796100000000 implements MigrationInterface {
  name = 'EventCloud1796100000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `event_cloud_items` (`event_id` int NOT NULL, `material_id` int NOT NULL, `section` varchar(16) NOT NULL, ' +
          '`position` int NOT NULL, PRIMARY KEY (`event_id`, `material_id`)) ENGINE=InnoDB',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS `event_cloud_visits` (`event_id` int NOT NULL, `visitor_id` varchar(64) NOT NULL, `channel_id` int NULL, ' +
          '`contact_id` int NULL, `first_at` datetime(3) NOT NULL, PRIMARY KEY (`event_id`, `visitor_id`)) ENGINE=InnoDB',
      );
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "event_cloud_items" ("event_id" integer NOT NULL, "material_id" integer NOT NULL, ' +
          '"section" varchar(16) NOT NULL, "position" integer NOT NULL, PRIMARY KEY ("event_id", "material_id"))',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS "event_cloud_visits" ("event_id" integer NOT NULL, "visitor_id" varchar(64) NOT NULL, ' +
          '"channel_id" integer, "contact_id" integer, "first_at" datetime(3) NOT NULL, PRIMARY KEY ("event_id", "visitor_id"))',
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) await q.query(isMysqlRunner(q) ? `DROP TABLE IF EXISTS \`${table}\`` : `DROP TABLE IF EXISTS "${table}"`);
  }
}
