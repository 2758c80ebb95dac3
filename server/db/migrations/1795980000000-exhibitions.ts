import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

const TABLES = ['event_visits', 'event_sms_codes', 'event_scans', 'event_checkins', 'event_registrations', 'events'];

/**
 * Exhibitions (issue 15 §2-4): events, their registrations (one per phone per event, by a unique
 * key), check-ins (one per registration, by a unique key), the scanners' nonces with their
 * answers, SMS codes (hashed) and invitation-page visitors. New tables, no backfill; IF NOT
 * EXISTS, so a run that stopped halfway finishes when run again.
 */
export class Exhibitions1795980000000 implements MigrationInterface {
  name = 'Exhibitions1795980000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `events` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(128) NOT NULL, `venue` json NOT NULL, ' +
          '`starts_at` datetime(3) NOT NULL, `ends_at` datetime(3) NOT NULL, `capacity` int NOT NULL, `registered` int NOT NULL DEFAULT 0, ' +
          '`registration_deadline` datetime(3) NOT NULL, `fields` json NOT NULL, `benefit` json NULL, `agenda` json NOT NULL, ' +
          '`facts` json NOT NULL, `sms_verification` tinyint NOT NULL DEFAULT 0, `waitlist` tinyint NOT NULL DEFAULT 0, ' +
          '`created_by` int NULL, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS `event_registrations` (`id` int NOT NULL AUTO_INCREMENT, `event_id` int NOT NULL, ' +
          '`contact_id` int NOT NULL, `phone` varchar(20) NOT NULL, `name` varchar(128) NOT NULL, `answers` json NOT NULL, ' +
          '`status` varchar(16) NOT NULL, `ticket_key` varchar(32) NOT NULL, `source` varchar(16) NOT NULL, `channel_id` int NULL, ' +
          '`visitor_id` varchar(64) NULL, ' +
          '`consent_at` datetime(3) NOT NULL, `consent_ip` varchar(64) NULL, `cancelled_at` datetime(3) NULL, `queued_at` datetime(3) NOT NULL, ' +
          '`created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, ' +
          'UNIQUE INDEX `UQ_event_registrations_phone` (`event_id`, `phone`), ' +
          'INDEX `IDX_event_registrations_status` (`event_id`, `status`, `queued_at`), INDEX `IDX_event_registrations_contact` (`contact_id`), ' +
          'PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS `event_checkins` (`id` int NOT NULL AUTO_INCREMENT, `event_id` int NOT NULL, ' +
          '`registration_id` int NOT NULL, `gate` varchar(32) NOT NULL, `benefit` json NULL, `operator_id` int NULL, ' +
          '`checked_in_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_event_checkins_registration` (`registration_id`), ' +
          'INDEX `IDX_event_checkins_gate` (`event_id`, `gate`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS `event_scans` (`event_id` int NOT NULL, `nonce` varchar(64) NOT NULL, `http_status` int NOT NULL, ' +
          '`answer` text NOT NULL, `created_at` datetime(3) NOT NULL, PRIMARY KEY (`event_id`, `nonce`)) ENGINE=InnoDB',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS `event_sms_codes` (`event_id` int NOT NULL, `phone` varchar(20) NOT NULL, ' +
          '`code_hash` varchar(64) NOT NULL, `attempts` int NOT NULL DEFAULT 0, `expires_at` datetime(3) NOT NULL, ' +
          '`sent_at` datetime(3) NOT NULL, PRIMARY KEY (`event_id`, `phone`)) ENGINE=InnoDB',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS `event_visits` (`event_id` int NOT NULL, `visitor_id` varchar(64) NOT NULL, `channel_id` int NULL, ' +
          '`first_at` datetime(3) NOT NULL, INDEX `IDX_event_visits_channel` (`event_id`, `channel_id`), ' +
          'PRIMARY KEY (`event_id`, `visitor_id`)) ENGINE=InnoDB',
      );
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "events" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(128) NOT NULL, ' +
          '"venue" json NOT NULL, "starts_at" datetime(3) NOT NULL, "ends_at" datetime(3) NOT NULL, "capacity" integer NOT NULL, ' +
          '"registered" integer NOT NULL DEFAULT (0), "registration_deadline" datetime(3) NOT NULL, "fields" json NOT NULL, ' +
          '"benefit" json, "agenda" json NOT NULL, "facts" json NOT NULL, "sms_verification" boolean NOT NULL DEFAULT (0), ' +
          '"waitlist" boolean NOT NULL DEFAULT (0), "created_by" integer, "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS "event_registrations" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "event_id" integer NOT NULL, ' +
          '"contact_id" integer NOT NULL, "phone" varchar(20) NOT NULL, "name" varchar(128) NOT NULL, "answers" json NOT NULL, ' +
          '"status" varchar(16) NOT NULL, "ticket_key" varchar(32) NOT NULL, "source" varchar(16) NOT NULL, "channel_id" integer, ' +
          '"visitor_id" varchar(64), ' +
          '"consent_at" datetime(3) NOT NULL, "consent_ip" varchar(64), "cancelled_at" datetime(3), "queued_at" datetime(3) NOT NULL, ' +
          '"created_at" datetime(3) NOT NULL, ' +
          '"updated_at" datetime(3) NOT NULL)',
      );
      await q.query('CREATE UNIQUE INDEX IF NOT EXISTS "UQ_event_registrations_phone" ON "event_registrations" ("event_id", "phone")');
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_event_registrations_status" ON "event_registrations" ("event_id", "status", "queued_at")');
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_event_registrations_contact" ON "event_registrations" ("contact_id")');
      await q.query(
        'CREATE TABLE IF NOT EXISTS "event_checkins" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "event_id" integer NOT NULL, ' +
          '"registration_id" integer NOT NULL, "gate" varchar(32) NOT NULL, "benefit" json, "operator_id" integer, ' +
          '"checked_in_at" datetime(3) NOT NULL)',
      );
      await q.query('CREATE UNIQUE INDEX IF NOT EXISTS "UQ_event_checkins_registration" ON "event_checkins" ("registration_id")');
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_event_checkins_gate" ON "event_checkins" ("event_id", "gate")');
      await q.query(
        'CREATE TABLE IF NOT EXISTS "event_scans" ("event_id" integer NOT NULL, "nonce" varchar(64) NOT NULL, "http_status" integer NOT NULL, ' +
          '"answer" text NOT NULL, "created_at" datetime(3) NOT NULL, PRIMARY KEY ("event_id", "nonce"))',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS "event_sms_codes" ("event_id" integer NOT NULL, "phone" varchar(20) NOT NULL, ' +
          '"code_hash" varchar(64) NOT NULL, "attempts" integer NOT NULL DEFAULT (0), "expires_at" datetime(3) NOT NULL, ' +
          '"sent_at" datetime(3) NOT NULL, PRIMARY KEY ("event_id", "phone"))',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS "event_visits" ("event_id" integer NOT NULL, "visitor_id" varchar(64) NOT NULL, "channel_id" integer, ' +
          '"first_at" datetime(3) NOT NULL, PRIMARY KEY ("event_id", "visitor_id"))',
      );
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_event_visits_channel" ON "event_visits" ("event_id", "channel_id")');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) await q.query(isMysqlRunner(q) ? `DROP TABLE IF EXISTS \`${table}\`` : `DROP TABLE IF EXISTS "${table}"`);
  }
}
