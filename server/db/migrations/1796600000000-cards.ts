import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * The business card (名片, issue 17 §1): the reps' cards (cards, one per operator), the share
 * tokens with their parents (card_shares: the referral chain), and each card's visitors
 * (card_visitors: views, seconds, how they came, whether they became the rep's contact). New
 * tables, IF NOT EXISTS, so a second run finishes what a first one left.
 */
const TABLES = ['card_visitors', 'card_shares', 'cards'];

const MYSQL = [
  'CREATE TABLE IF NOT EXISTS `cards` (`operator_id` int NOT NULL, `title` varchar(64) NULL, `company` varchar(128) NULL, ' +
    '`phone` varchar(32) NULL, `avatar_url` varchar(1024) NULL, `intro` varchar(1000) NULL, `material_ids` json NOT NULL, ' +
    '`channel_id` int NULL, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, ' +
    'INDEX `IDX_cards_company` (`company`), PRIMARY KEY (`operator_id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `card_shares` (`id` int NOT NULL AUTO_INCREMENT, `token` varchar(32) NOT NULL, `operator_id` int NOT NULL, ' +
    '`contact_id` int NULL, `parent_id` int NULL, `created_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_card_shares_token` (`token`), ' +
    'UNIQUE INDEX `UQ_card_shares_viewer` (`operator_id`, `contact_id`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `card_visitors` (`id` int NOT NULL AUTO_INCREMENT, `operator_id` int NOT NULL, `contact_id` int NOT NULL, ' +
    "`first_viewed_at` datetime(3) NOT NULL, `last_viewed_at` datetime(3) NOT NULL, `views` int NOT NULL DEFAULT '0', " +
    "`seconds` int NOT NULL DEFAULT '0', `first_share_id` int NULL, `relation` varchar(16) NOT NULL DEFAULT 'visitor', " +
    "`became_contact_at` datetime(3) NULL, `became_contact_by` varchar(16) NULL, `notify_status` varchar(16) NOT NULL DEFAULT 'pending', " +
    'UNIQUE INDEX `UQ_card_visitors_viewer` (`operator_id`, `contact_id`), ' +
    'INDEX `IDX_card_visitors_list` (`operator_id`, `last_viewed_at`, `id`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
];

const SQLITE = [
  'CREATE TABLE IF NOT EXISTS "cards" ("operator_id" integer PRIMARY KEY NOT NULL, "title" varchar(64), "company" varchar(128), ' +
    '"phone" varchar(32), "avatar_url" varchar(1024), "intro" varchar(1000), "material_ids" json NOT NULL, "channel_id" integer, ' +
    '"created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
  'CREATE INDEX IF NOT EXISTS "IDX_cards_company" ON "cards" ("company")',
  'CREATE TABLE IF NOT EXISTS "card_shares" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "token" varchar(32) NOT NULL, ' +
    '"operator_id" integer NOT NULL, "contact_id" integer, "parent_id" integer, "created_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_card_shares_token" ON "card_shares" ("token")',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_card_shares_viewer" ON "card_shares" ("operator_id", "contact_id")',
  'CREATE TABLE IF NOT EXISTS "card_visitors" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "operator_id" integer NOT NULL, ' +
    '"contact_id" integer NOT NULL, "first_viewed_at" datetime(3) NOT NULL, "last_viewed_at" datetime(3) NOT NULL, ' +
    '"views" integer NOT NULL DEFAULT (0), "seconds" integer NOT NULL DEFAULT (0), "first_share_id" integer, ' +
    "\"relation\" varchar(16) NOT NULL DEFAULT ('visitor'), \"became_contact_at\" datetime(3), \"became_contact_by\" varchar(16), " +
    "\"notify_status\" varchar(16) NOT NULL DEFAULT ('pending'))",
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_card_visitors_viewer" ON "card_visitors" ("operator_id", "contact_id")',
  'CREATE INDEX IF NOT EXISTS "IDX_card_visitors_list" ON "card_visitors" ("operator_id", "last_viewed_at", "id")',
];

export class Cards1796600000000 implements MigrationInterface {
  name = 'Cards1796600000000';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of isMysqlRunner(q) ? MYSQL : SQLITE) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    const quote = isMysqlRunner(q) ? (name: string) => `\`${name}\`` : (name: string) => `"${name}"`;
    for (const table of TABLES) await q.query(`DROP TABLE IF EXISTS ${quote(table)}`);
  }
}
