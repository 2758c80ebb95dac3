import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * Lead scoring and lifecycle (issue 14 §1, §6): score rules and their daily caps, stage rules
 * (seeded with the defaults below), each contact's stage history, where each contact stands
 * against the MQL threshold, and the sales assignments. New tables only, nothing backfilled: the
 * stage history starts with this release. IF NOT EXISTS: see schema-checks.ts.
 */
export class ScoringLifecycle1795860000000 implements MigrationInterface {
  name = 'ScoringLifecycle1795860000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of isMysqlRunner(q) ? MYSQL : SQLITE) await q.query(sql);
    await seedDefaultStageRules(q);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) await q.query(`DROP TABLE IF EXISTS ${table}`);
  }
}

const TABLES = ['score_rules', 'score_rule_daily_hits', 'stage_rules', 'contact_stage_changes', 'contact_mql_states', 'sales_assignments'];

const MYSQL = [
  'CREATE TABLE IF NOT EXISTS `score_rules` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(64) NOT NULL, `enabled` tinyint NOT NULL DEFAULT 1, ' +
    "`kind` varchar(16) NOT NULL, `interaction_type` varchar(48) NULL, `match_kind` varchar(24) NOT NULL DEFAULT 'any', " +
    '`match_value` varchar(255) NULL, `attribute` varchar(32) NULL, `attribute_value` varchar(128) NULL, `points` int NOT NULL, ' +
    '`daily_cap` int NULL, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_score_rules_name` (`name`), ' +
    'PRIMARY KEY (`id`)) ENGINE=InnoDB',
  "CREATE TABLE IF NOT EXISTS `score_rule_daily_hits` (`rule_id` int NOT NULL, `contact_id` int NOT NULL, `day` varchar(10) NOT NULL, `hits` int NOT NULL DEFAULT '0', " +
    'PRIMARY KEY (`rule_id`, `contact_id`, `day`)) ENGINE=InnoDB',
  "CREATE TABLE IF NOT EXISTS `stage_rules` (`id` int NOT NULL AUTO_INCREMENT, `interaction_type` varchar(48) NOT NULL, `min_count` int NOT NULL DEFAULT '1', " +
    '`stage` varchar(16) NOT NULL, `enabled` tinyint NOT NULL DEFAULT 1, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, ' +
    'PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `contact_stage_changes` (`id` int NOT NULL AUTO_INCREMENT, `contact_id` int NOT NULL, `from_stage` varchar(16) NOT NULL, ' +
    '`to_stage` varchar(16) NOT NULL, `actor_kind` varchar(16) NOT NULL, `actor_id` int NULL, `actor_name` varchar(64) NULL, `interaction_id` int NULL, ' +
    '`at` datetime(3) NOT NULL, INDEX `IDX_contact_stage_changes_contact_at` (`contact_id`, `at`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  "CREATE TABLE IF NOT EXISTS `contact_mql_states` (`contact_id` int NOT NULL, `above` tinyint NOT NULL DEFAULT 0, `crossings` int NOT NULL DEFAULT '0', " +
    '`updated_at` datetime(3) NOT NULL, PRIMARY KEY (`contact_id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `sales_assignments` (`id` int NOT NULL AUTO_INCREMENT, `contact_id` int NOT NULL, `user_id` varchar(64) NOT NULL, ' +
    "`operator_id` int NULL, `reason` varchar(64) NOT NULL, `dedupe_key` varchar(128) NOT NULL, `notify_status` varchar(16) NOT NULL DEFAULT 'pending', " +
    '`created_at` datetime(3) NOT NULL, ' +
    'UNIQUE INDEX `UQ_sales_assignments_dedupe` (`dedupe_key`), INDEX `IDX_sales_assignments_contact` (`contact_id`, `created_at`), ' +
    'PRIMARY KEY (`id`)) ENGINE=InnoDB',
];

const SQLITE = [
  'CREATE TABLE IF NOT EXISTS "score_rules" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(64) NOT NULL, "enabled" boolean NOT NULL DEFAULT (1), ' +
    '"kind" varchar(16) NOT NULL, "interaction_type" varchar(48), "match_kind" varchar(24) NOT NULL DEFAULT (\'any\'), "match_value" varchar(255), ' +
    '"attribute" varchar(32), "attribute_value" varchar(128), "points" integer NOT NULL, "daily_cap" integer, "created_at" datetime(3) NOT NULL, ' +
    '"updated_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_score_rules_name" ON "score_rules" ("name")',
  'CREATE TABLE IF NOT EXISTS "score_rule_daily_hits" ("rule_id" integer NOT NULL, "contact_id" integer NOT NULL, "day" varchar(10) NOT NULL, ' +
    '"hits" integer NOT NULL DEFAULT (0), PRIMARY KEY ("rule_id", "contact_id", "day"))',
  'CREATE TABLE IF NOT EXISTS "stage_rules" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "interaction_type" varchar(48) NOT NULL, ' +
    '"min_count" integer NOT NULL DEFAULT (1), "stage" varchar(16) NOT NULL, "enabled" boolean NOT NULL DEFAULT (1), "created_at" datetime(3) NOT NULL, ' +
    '"updated_at" datetime(3) NOT NULL)',
  'CREATE TABLE IF NOT EXISTS "contact_stage_changes" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "contact_id" integer NOT NULL, ' +
    '"from_stage" varchar(16) NOT NULL, "to_stage" varchar(16) NOT NULL, "actor_kind" varchar(16) NOT NULL, "actor_id" integer, "actor_name" varchar(64), ' +
    '"interaction_id" integer, "at" datetime(3) NOT NULL)',
  'CREATE INDEX IF NOT EXISTS "IDX_contact_stage_changes_contact_at" ON "contact_stage_changes" ("contact_id", "at")',
  'CREATE TABLE IF NOT EXISTS "contact_mql_states" ("contact_id" integer PRIMARY KEY NOT NULL, "above" boolean NOT NULL DEFAULT (0), ' +
    '"crossings" integer NOT NULL DEFAULT (0), "updated_at" datetime(3) NOT NULL)',
  'CREATE TABLE IF NOT EXISTS "sales_assignments" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "contact_id" integer NOT NULL, ' +
    '"user_id" varchar(64) NOT NULL, "operator_id" integer, "reason" varchar(64) NOT NULL, "dedupe_key" varchar(128) NOT NULL, ' +
    '"notify_status" varchar(16) NOT NULL DEFAULT (\'pending\'), "created_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_sales_assignments_dedupe" ON "sales_assignments" ("dedupe_key")',
  'CREATE INDEX IF NOT EXISTS "IDX_sales_assignments_contact" ON "sales_assignments" ("contact_id", "created_at")',
];

/**
 * The default stage rules: anything a follower does on purpose (a message, a menu click, a scan,
 * a mini-program page) activates them, as the activity reaction did before stage rules; five
 * messages make them retained; a payment brings revenue; a referral (a friend who came through
 * their code, recorded as `referral`) makes them a referrer. Seeded only into an empty table.
 */
export const DEFAULT_STAGE_RULES: readonly { type: string; minCount: number; stage: string }[] = [
  ...['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link', 'click', 'view', 'scan'].map((type) => ({
    type,
    minCount: 1,
    stage: 'activated',
  })),
  ...['menu_scan', 'menu_pics', 'menu_location', 'view_miniprogram'].map((type) => ({ type, minCount: 1, stage: 'activated' })),
  { type: 'text', minCount: 5, stage: 'retained' },
  { type: 'payment', minCount: 1, stage: 'revenue' },
  { type: 'referral', minCount: 1, stage: 'referral' },
];

export async function seedDefaultStageRules(q: QueryRunner): Promise<void> {
  const [{ n }] = (await q.query('SELECT COUNT(*) AS n FROM stage_rules')) as { n: number | string }[];
  if (Number(n) > 0) return;
  const now = new Date().toISOString().slice(0, 23).replace('T', ' ');
  await q.query(
    `INSERT INTO stage_rules (interaction_type, min_count, stage, enabled, created_at, updated_at) VALUES ${DEFAULT_STAGE_RULES.map(() => '(?, ?, ?, 1, ?, ?)').join(',')}`,
    DEFAULT_STAGE_RULES.flatMap((r) => [r.type, r.minCount, r.stage, now, now]),
  );
}
