import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * After the event (issue 15 §5): surveys (one per event), survey_answers (one per contact per
 * survey) and event_followups (one per contact per event). New tables, IF NOT EXISTS, so a second
 * run finishes what a first one left.
 */
const MYSQL = [
  'CREATE TABLE IF NOT EXISTS `surveys` (`id` int NOT NULL AUTO_INCREMENT, `event_id` int NOT NULL, `title` varchar(128) NOT NULL, ' +
    '`satisfaction_label` varchar(128) NOT NULL, `questions` json NOT NULL, `created_at` datetime(3) NOT NULL, ' +
    '`updated_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_surveys_event` (`event_id`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `survey_answers` (`id` int NOT NULL AUTO_INCREMENT, `survey_id` int NOT NULL, `event_id` int NOT NULL, ' +
    '`contact_id` int NOT NULL, `registration_id` int NOT NULL, `satisfaction` int NOT NULL, `answers` json NOT NULL, ' +
    '`created_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_survey_answers_contact` (`survey_id`, `contact_id`), ' +
    'INDEX `IDX_survey_answers_event` (`event_id`, `satisfaction`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `event_followups` (`id` int NOT NULL AUTO_INCREMENT, `event_id` int NOT NULL, `contact_id` int NOT NULL, ' +
    "`operator_id` int NULL, `assignment_id` int NULL, `state` varchar(8) NOT NULL DEFAULT 'open', `done_by` int NULL, " +
    '`done_at` datetime(3) NULL, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, ' +
    'UNIQUE INDEX `UQ_event_followups_contact` (`event_id`, `contact_id`), INDEX `IDX_event_followups_operator` (`operator_id`, `event_id`), ' +
    'PRIMARY KEY (`id`)) ENGINE=InnoDB',
];

const SQLITE = [
  'CREATE TABLE IF NOT EXISTS "surveys" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "event_id" integer NOT NULL, ' +
    '"title" varchar(128) NOT NULL, "satisfaction_label" varchar(128) NOT NULL, "questions" json NOT NULL, ' +
    '"created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_surveys_event" ON "surveys" ("event_id")',
  'CREATE TABLE IF NOT EXISTS "survey_answers" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "survey_id" integer NOT NULL, ' +
    '"event_id" integer NOT NULL, "contact_id" integer NOT NULL, "registration_id" integer NOT NULL, "satisfaction" integer NOT NULL, ' +
    '"answers" json NOT NULL, "created_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_survey_answers_contact" ON "survey_answers" ("survey_id", "contact_id")',
  'CREATE INDEX IF NOT EXISTS "IDX_survey_answers_event" ON "survey_answers" ("event_id", "satisfaction")',
  'CREATE TABLE IF NOT EXISTS "event_followups" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "event_id" integer NOT NULL, ' +
    `"contact_id" integer NOT NULL, "operator_id" integer, "assignment_id" integer, "state" varchar(8) NOT NULL DEFAULT ('open'), ` +
    '"done_by" integer, "done_at" datetime(3), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_event_followups_contact" ON "event_followups" ("event_id", "contact_id")',
  'CREATE INDEX IF NOT EXISTS "IDX_event_followups_operator" ON "event_followups" ("operator_id", "event_id")',
];

export class EventAfter1796200000000 implements MigrationInterface {
  name = 'EventAfter1796200000000';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of isMysqlRunner(q) ? MYSQL : SQLITE) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    const quote = isMysqlRunner(q) ? (name: string) => `\`${name}\`` : (name: string) => `"${name}"`;
    for (const table of ['event_followups', 'survey_answers', 'surveys']) await q.query(`DROP TABLE IF EXISTS ${quote(table)}`);
  }
}
