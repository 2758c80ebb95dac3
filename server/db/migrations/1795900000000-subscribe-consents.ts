import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * Subscribe-message consent (entities/subscribe-consent.entity.ts): each contact's grants per
 * (channel, app, template) and the answers applied to them. New tables, no backfill; every
 * statement is IF NOT EXISTS, so a run that stopped halfway finishes when run again.
 */
export class SubscribeConsents1795900000000 implements MigrationInterface {
  name = 'SubscribeConsents1795900000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of isMysqlRunner(q) ? MYSQL : SQLITE) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['subscribe_consent_events', 'subscribe_consents']) await q.query(`DROP TABLE IF EXISTS ${table}`);
  }
}

const MYSQL = [
  'CREATE TABLE IF NOT EXISTS `subscribe_consents` (`id` int NOT NULL AUTO_INCREMENT, `contact_id` int NOT NULL, ' +
    '`channel` varchar(16) NOT NULL, `app_id` varchar(64) NOT NULL, `template_id` varchar(128) NOT NULL, ' +
    "`kind` varchar(16) NOT NULL DEFAULT 'one_time', `status` varchar(16) NOT NULL, `remaining` int NOT NULL DEFAULT 0, " +
    '`updated_at` datetime(3) NOT NULL, ' +
    'UNIQUE INDEX `UQ_subscribe_consents_key` (`contact_id`, `channel`, `app_id`, `template_id`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `subscribe_consent_events` (`id` int NOT NULL AUTO_INCREMENT, `dedupe_key` varchar(191) NOT NULL, ' +
    '`contact_id` int NOT NULL, `channel` varchar(16) NOT NULL, `app_id` varchar(64) NOT NULL, `template_id` varchar(128) NOT NULL, ' +
    '`status` varchar(16) NOT NULL, `source` varchar(16) NOT NULL, `at` datetime(3) NOT NULL, ' +
    'UNIQUE INDEX `UQ_subscribe_consent_events_key` (`dedupe_key`), INDEX `IDX_subscribe_consent_events_contact` (`contact_id`), ' +
    'PRIMARY KEY (`id`)) ENGINE=InnoDB',
];

const SQLITE = [
  'CREATE TABLE IF NOT EXISTS "subscribe_consents" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "contact_id" integer NOT NULL, ' +
    '"channel" varchar(16) NOT NULL, "app_id" varchar(64) NOT NULL, "template_id" varchar(128) NOT NULL, ' +
    `"kind" varchar(16) NOT NULL DEFAULT ('one_time'), "status" varchar(16) NOT NULL, "remaining" integer NOT NULL DEFAULT (0), ` +
    '"updated_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_subscribe_consents_key" ON "subscribe_consents" ("contact_id", "channel", "app_id", "template_id")',
  'CREATE TABLE IF NOT EXISTS "subscribe_consent_events" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "dedupe_key" varchar(191) NOT NULL, ' +
    '"contact_id" integer NOT NULL, "channel" varchar(16) NOT NULL, "app_id" varchar(64) NOT NULL, "template_id" varchar(128) NOT NULL, ' +
    '"status" varchar(16) NOT NULL, "source" varchar(16) NOT NULL, "at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_subscribe_consent_events_key" ON "subscribe_consent_events" ("dedupe_key")',
  'CREATE INDEX IF NOT EXISTS "IDX_subscribe_consent_events_contact" ON "subscribe_consent_events" ("contact_id")',
];
