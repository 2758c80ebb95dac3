import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * The mini-program's backend (issue 17 §2-3): its sessions (mp_sessions: a bearer token stored as
 * its SHA-256, the user's openid and contact, the session_key encrypted), the staff bindings
 * (mp_staff_bindings: which mini-program user is which operator, for the check-in scanner) and the
 * one-time binding codes an admin issues (mp_binding_codes, the code's SHA-256 only). New tables,
 * IF NOT EXISTS, so a second run finishes what a first one left.
 */
const MYSQL = [
  'CREATE TABLE IF NOT EXISTS `mp_sessions` (`id` int NOT NULL AUTO_INCREMENT, `token_hash` varchar(64) NOT NULL, `contact_id` int NOT NULL, ' +
    '`app_id` varchar(64) NOT NULL, `openid` varchar(128) NOT NULL, `unionid` varchar(128) NULL, `session_key` varchar(255) NOT NULL, ' +
    '`created_at` datetime(3) NOT NULL, `expires_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_mp_sessions_token` (`token_hash`), ' +
    'INDEX `IDX_mp_sessions_expires` (`expires_at`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `mp_staff_bindings` (`id` int NOT NULL AUTO_INCREMENT, `operator_id` int NOT NULL, `app_id` varchar(64) NOT NULL, ' +
    '`openid` varchar(128) NOT NULL, `created_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_mp_staff_bindings_openid` (`app_id`, `openid`), ' +
    'INDEX `IDX_mp_staff_bindings_operator` (`operator_id`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `mp_binding_codes` (`id` int NOT NULL AUTO_INCREMENT, `operator_id` int NOT NULL, `code_hash` varchar(64) NOT NULL, ' +
    '`expires_at` datetime(3) NOT NULL, `used_at` datetime(3) NULL, `created_at` datetime(3) NOT NULL, ' +
    'UNIQUE INDEX `UQ_mp_binding_codes_code` (`code_hash`), INDEX `IDX_mp_binding_codes_operator` (`operator_id`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
];

const SQLITE = [
  'CREATE TABLE IF NOT EXISTS "mp_sessions" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "token_hash" varchar(64) NOT NULL, ' +
    '"contact_id" integer NOT NULL, "app_id" varchar(64) NOT NULL, "openid" varchar(128) NOT NULL, "unionid" varchar(128), ' +
    '"session_key" varchar(255) NOT NULL, "created_at" datetime(3) NOT NULL, "expires_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_mp_sessions_token" ON "mp_sessions" ("token_hash")',
  'CREATE INDEX IF NOT EXISTS "IDX_mp_sessions_expires" ON "mp_sessions" ("expires_at")',
  'CREATE TABLE IF NOT EXISTS "mp_staff_bindings" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "operator_id" integer NOT NULL, ' +
    '"app_id" varchar(64) NOT NULL, "openid" varchar(128) NOT NULL, "created_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_mp_staff_bindings_openid" ON "mp_staff_bindings" ("app_id", "openid")',
  'CREATE INDEX IF NOT EXISTS "IDX_mp_staff_bindings_operator" ON "mp_staff_bindings" ("operator_id")',
  'CREATE TABLE IF NOT EXISTS "mp_binding_codes" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "operator_id" integer NOT NULL, ' +
    '"code_hash" varchar(64) NOT NULL, "expires_at" datetime(3) NOT NULL, "used_at" datetime(3), "created_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_mp_binding_codes_code" ON "mp_binding_codes" ("code_hash")',
  'CREATE INDEX IF NOT EXISTS "IDX_mp_binding_codes_operator" ON "mp_binding_codes" ("operator_id")',
];

export class MpSessions1796000000300 implements MigrationInterface {
  name = 'MpSessions1796000000300';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of isMysqlRunner(q) ? MYSQL : SQLITE) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    const quote = isMysqlRunner(q) ? (name: string) => `\`${name}\`` : (name: string) => `"${name}"`;
    for (const table of ['mp_binding_codes', 'mp_staff_bindings', 'mp_sessions']) await q.query(`DROP TABLE IF EXISTS ${quote(table)}`);
  }
}
