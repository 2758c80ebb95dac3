import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * The journeys: journeys, their immutable versions, runs, the step log, opens of journey messages
 * and each contact's preferred channel (entities/journey*.entity.ts). New tables, no backfill;
 * every statement is IF NOT EXISTS, so a run that stopped halfway finishes when run again.
 */
export class Journeys1795880000000 implements MigrationInterface {
  name = 'Journeys1795880000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      for (const sql of MYSQL) await q.query(sql);
    } else {
      for (const sql of SQLITE) await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['contact_channel_preferences', 'journey_opens', 'journey_steps', 'journey_runs', 'journey_versions', 'journeys'])
      await q.query(`DROP TABLE IF EXISTS ${table}`);
  }
}

const MYSQL = [
  'CREATE TABLE IF NOT EXISTS `journeys` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(64) NOT NULL, ' +
    "`status` varchar(16) NOT NULL DEFAULT 'draft', `published_version` int NULL, `latest_version` int NOT NULL DEFAULT 1, " +
    '`template` varchar(32) NULL, `last_scheduled_slot` varchar(32) NULL, `created_at` datetime(3) NOT NULL, ' +
    '`updated_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_journeys_name` (`name`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `journey_versions` (`id` int NOT NULL AUTO_INCREMENT, `journey_id` int NOT NULL, `version` int NOT NULL, ' +
    '`definition` text NOT NULL, `published_at` datetime(3) NULL, `created_at` datetime(3) NOT NULL, ' +
    'UNIQUE INDEX `UQ_journey_versions_journey_version` (`journey_id`, `version`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `journey_runs` (`id` int NOT NULL AUTO_INCREMENT, `journey_id` int NOT NULL, `version` int NOT NULL, ' +
    '`contact_id` int NOT NULL, `node_id` varchar(64) NOT NULL, `state` varchar(16) NOT NULL, `step_seq` int NOT NULL DEFAULT 0, ' +
    '`next_due_at` datetime(3) NULL, `wait_for_node` varchar(64) NULL, `guard_key` varchar(8) NULL, `cause_key` varchar(96) NOT NULL, ' +
    '`outcome` varchar(32) NULL, `entered_at` datetime(3) NOT NULL, `ended_at` datetime(3) NULL, `converted_at` datetime(3) NULL, ' +
    'UNIQUE INDEX `UQ_journey_runs_guard` (`journey_id`, `contact_id`, `guard_key`), ' +
    'UNIQUE INDEX `UQ_journey_runs_cause` (`journey_id`, `cause_key`), INDEX `IDX_journey_runs_due` (`next_due_at`), ' +
    'INDEX `IDX_journey_runs_contact` (`contact_id`, `state`), INDEX `IDX_journey_runs_journey_node` (`journey_id`, `node_id`, `state`), ' +
    'PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `journey_steps` (`id` int NOT NULL AUTO_INCREMENT, `journey_id` int NOT NULL, `run_id` int NOT NULL, ' +
    '`seq` int NOT NULL, `node_id` varchar(64) NOT NULL, `entered_at` datetime(3) NOT NULL, `left_at` datetime(3) NULL, ' +
    '`outcome` varchar(32) NULL, UNIQUE INDEX `UQ_journey_steps_run_seq` (`run_id`, `seq`), ' +
    'INDEX `IDX_journey_steps_journey_node` (`journey_id`, `node_id`, `left_at`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `journey_opens` (`id` int NOT NULL AUTO_INCREMENT, `journey_id` int NOT NULL, `run_id` int NOT NULL, ' +
    '`node_id` varchar(64) NOT NULL, `contact_id` int NOT NULL, `channel` varchar(24) NOT NULL, `opened_at` datetime(3) NOT NULL, ' +
    'UNIQUE INDEX `UQ_journey_opens_run_node` (`run_id`, `node_id`), INDEX `IDX_journey_opens_journey_node` (`journey_id`, `node_id`), ' +
    'PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `contact_channel_preferences` (`contact_id` int NOT NULL, `channel` varchar(24) NOT NULL, ' +
    '`updated_at` datetime(3) NOT NULL, PRIMARY KEY (`contact_id`)) ENGINE=InnoDB',
];

const SQLITE = [
  'CREATE TABLE IF NOT EXISTS "journeys" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(64) NOT NULL, ' +
    `"status" varchar(16) NOT NULL DEFAULT ('draft'), "published_version" integer, "latest_version" integer NOT NULL DEFAULT (1), ` +
    '"template" varchar(32), "last_scheduled_slot" varchar(32), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_journeys_name" ON "journeys" ("name")',
  'CREATE TABLE IF NOT EXISTS "journey_versions" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "journey_id" integer NOT NULL, ' +
    '"version" integer NOT NULL, "definition" text NOT NULL, "published_at" datetime(3), "created_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_journey_versions_journey_version" ON "journey_versions" ("journey_id", "version")',
  'CREATE TABLE IF NOT EXISTS "journey_runs" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "journey_id" integer NOT NULL, ' +
    '"version" integer NOT NULL, "contact_id" integer NOT NULL, "node_id" varchar(64) NOT NULL, "state" varchar(16) NOT NULL, ' +
    '"step_seq" integer NOT NULL DEFAULT (0), "next_due_at" datetime(3), "wait_for_node" varchar(64), "guard_key" varchar(8), ' +
    '"cause_key" varchar(96) NOT NULL, "outcome" varchar(32), "entered_at" datetime(3) NOT NULL, "ended_at" datetime(3), ' +
    '"converted_at" datetime(3))',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_journey_runs_guard" ON "journey_runs" ("journey_id", "contact_id", "guard_key")',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_journey_runs_cause" ON "journey_runs" ("journey_id", "cause_key")',
  'CREATE INDEX IF NOT EXISTS "IDX_journey_runs_due" ON "journey_runs" ("next_due_at")',
  'CREATE INDEX IF NOT EXISTS "IDX_journey_runs_contact" ON "journey_runs" ("contact_id", "state")',
  'CREATE INDEX IF NOT EXISTS "IDX_journey_runs_journey_node" ON "journey_runs" ("journey_id", "node_id", "state")',
  'CREATE TABLE IF NOT EXISTS "journey_steps" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "journey_id" integer NOT NULL, ' +
    '"run_id" integer NOT NULL, "seq" integer NOT NULL, "node_id" varchar(64) NOT NULL, "entered_at" datetime(3) NOT NULL, ' +
    '"left_at" datetime(3), "outcome" varchar(32))',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_journey_steps_run_seq" ON "journey_steps" ("run_id", "seq")',
  'CREATE INDEX IF NOT EXISTS "IDX_journey_steps_journey_node" ON "journey_steps" ("journey_id", "node_id", "left_at")',
  'CREATE TABLE IF NOT EXISTS "journey_opens" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "journey_id" integer NOT NULL, ' +
    '"run_id" integer NOT NULL, "node_id" varchar(64) NOT NULL, "contact_id" integer NOT NULL, "channel" varchar(24) NOT NULL, ' +
    '"opened_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_journey_opens_run_node" ON "journey_opens" ("run_id", "node_id")',
  'CREATE INDEX IF NOT EXISTS "IDX_journey_opens_journey_node" ON "journey_opens" ("journey_id", "node_id")',
  'CREATE TABLE IF NOT EXISTS "contact_channel_preferences" ("contact_id" integer PRIMARY KEY NOT NULL, "channel" varchar(24) NOT NULL, ' +
    '"updated_at" datetime(3) NOT NULL)',
];
