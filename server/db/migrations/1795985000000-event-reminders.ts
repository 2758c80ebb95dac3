import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * event_reminders: per event, the last registration its day-before reminder was queued for (the
 * reminder job's cursor, server/modules/exhibitions/event-reminders.service.ts). A new table,
 * IF NOT EXISTS.
 */
export class EventReminders1795985000000 implements MigrationInterface {
  name = 'EventReminders1795985000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      isMysqlRunner(q)
        ? 'CREATE TABLE IF NOT EXISTS `event_reminders` (`event_id` int NOT NULL, `last_registration_id` int NOT NULL DEFAULT 0, ' +
            '`updated_at` datetime(3) NOT NULL, PRIMARY KEY (`event_id`)) ENGINE=InnoDB'
        : 'CREATE TABLE IF NOT EXISTS "event_reminders" ("event_id" integer PRIMARY KEY NOT NULL, "last_registration_id" integer NOT NULL DEFAULT (0), ' +
            '"updated_at" datetime(3) NOT NULL)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(isMysqlRunner(q) ? 'DROP TABLE IF EXISTS `event_reminders`' : 'DROP TABLE IF EXISTS "event_reminders"');
  }
}
