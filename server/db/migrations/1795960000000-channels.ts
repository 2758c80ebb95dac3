import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * Channel codes (issue 15 §1): channels, channel_touches (one row per attributed interaction, the
 * stats' source) and channel_welcomes (one row per WeCom WelcomeCode, the welcome send's key).
 * channels.event_id has no foreign key: the events table does not exist yet.
 * New tables, no backfill; IF NOT EXISTS, so a run that stopped halfway finishes when run again.
 */
export class Channels1795960000000 implements MigrationInterface {
  name = 'Channels1795960000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `channels` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(64) NOT NULL, `kind` varchar(24) NOT NULL, ' +
          "`status` varchar(16) NOT NULL DEFAULT 'pending', `scene` varchar(64) NULL, `cost_fen` int NULL, `event_id` int NULL, " +
          '`tag_ids` json NOT NULL, `welcome` text NULL, `options` json NOT NULL, `url` varchar(1024) NULL, `ticket` varchar(255) NULL, ' +
          '`config_id` varchar(64) NULL, `expires_at` datetime(3) NULL, `created_by` int NULL, `created_at` datetime(3) NOT NULL, ' +
          '`updated_at` datetime(3) NOT NULL, `archived_at` datetime(3) NULL, UNIQUE INDEX `UQ_channels_name` (`name`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS `channel_touches` (`interaction_id` int NOT NULL, `channel_id` int NOT NULL, `contact_id` int NULL, ' +
          '`type` varchar(48) NOT NULL, `new_contact` tinyint NOT NULL DEFAULT 0, `occurred_at` datetime(3) NOT NULL, ' +
          'INDEX `IDX_channel_touches_channel` (`channel_id`, `occurred_at`), PRIMARY KEY (`interaction_id`)) ENGINE=InnoDB',
      );
      await q.query(
        'CREATE TABLE IF NOT EXISTS `channel_welcomes` (`id` int NOT NULL AUTO_INCREMENT, `welcome_code` varchar(191) NOT NULL, ' +
          '`channel_id` int NOT NULL, `interaction_id` int NOT NULL, `state` varchar(16) NOT NULL, `errcode` int NULL, ' +
          '`created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_channel_welcomes_code` (`welcome_code`), ' +
          'PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "channels" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(64) NOT NULL, ' +
          `"kind" varchar(24) NOT NULL, "status" varchar(16) NOT NULL DEFAULT ('pending'), "scene" varchar(64), "cost_fen" integer, ` +
          '"event_id" integer, "tag_ids" json NOT NULL, "welcome" text, "options" json NOT NULL, "url" varchar(1024), "ticket" varchar(255), ' +
          '"config_id" varchar(64), "expires_at" datetime(3), "created_by" integer, "created_at" datetime(3) NOT NULL, ' +
          '"updated_at" datetime(3) NOT NULL, "archived_at" datetime(3))',
      );
      await q.query('CREATE UNIQUE INDEX IF NOT EXISTS "UQ_channels_name" ON "channels" ("name")');
      await q.query(
        'CREATE TABLE IF NOT EXISTS "channel_touches" ("interaction_id" integer PRIMARY KEY NOT NULL, "channel_id" integer NOT NULL, ' +
          '"contact_id" integer, "type" varchar(48) NOT NULL, "new_contact" boolean NOT NULL DEFAULT (0), "occurred_at" datetime(3) NOT NULL)',
      );
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_channel_touches_channel" ON "channel_touches" ("channel_id", "occurred_at")');
      await q.query(
        'CREATE TABLE IF NOT EXISTS "channel_welcomes" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "welcome_code" varchar(191) NOT NULL, ' +
          '"channel_id" integer NOT NULL, "interaction_id" integer NOT NULL, "state" varchar(16) NOT NULL, "errcode" integer, ' +
          '"created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
      );
      await q.query('CREATE UNIQUE INDEX IF NOT EXISTS "UQ_channel_welcomes_code" ON "channel_welcomes" ("welcome_code")');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['channel_welcomes', 'channel_touches', 'channels'])
      await q.query(isMysqlRunner(q) ? `DROP TABLE IF EXISTS \`${table}\`` : `DROP TABLE IF EXISTS "${table}"`);
  }
}
