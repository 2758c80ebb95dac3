import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * WeChat Pay (issue 15 §7): pay_products and pay_orders (entities/pay-order.entity.ts), and the ¥1
 * trial product. New tables; each statement is IF NOT EXISTS, so a run that stopped halfway finishes when run again.
 */
const MYSQL = [
  'CREATE TABLE IF NOT EXISTS `pay_products` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(100) NOT NULL, `price_fen` int NOT NULL, ' +
    '`active` tinyint NOT NULL DEFAULT 1, `created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS `pay_orders` (`id` int NOT NULL AUTO_INCREMENT, `out_trade_no` varchar(32) NOT NULL, `contact_id` int NOT NULL, ' +
    '`openid` varchar(64) NOT NULL, `app_id` varchar(32) NOT NULL, `product_id` int NULL, `ref_type` varchar(32) NULL, `ref_id` varchar(64) NULL, ' +
    "`description` varchar(127) NOT NULL, `amount_fen` int NOT NULL, `state` varchar(16) NOT NULL DEFAULT 'created', `prepay_id` varchar(64) NULL, " +
    '`transaction_id` varchar(32) NULL, `out_refund_no` varchar(64) NULL, `refund_id` varchar(32) NULL, `refund_error` varchar(255) NULL, ' +
    '`paid_at` datetime(3) NULL, `refund_requested_at` datetime(3) NULL, `refunded_at` datetime(3) NULL, ' +
    '`created_at` datetime(3) NOT NULL, `updated_at` datetime(3) NOT NULL, ' +
    'UNIQUE INDEX `UQ_pay_orders_out_trade_no` (`out_trade_no`), INDEX `IDX_pay_orders_state` (`state`, `created_at`), ' +
    'INDEX `IDX_pay_orders_contact` (`contact_id`, `created_at`), INDEX `IDX_pay_orders_ref` (`ref_type`, `ref_id`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
];

const SQLITE = [
  'CREATE TABLE IF NOT EXISTS "pay_products" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(100) NOT NULL, "price_fen" integer NOT NULL, ' +
    '"active" boolean NOT NULL DEFAULT (1), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
  'CREATE TABLE IF NOT EXISTS "pay_orders" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "out_trade_no" varchar(32) NOT NULL, "contact_id" integer NOT NULL, ' +
    '"openid" varchar(64) NOT NULL, "app_id" varchar(32) NOT NULL, "product_id" integer, "ref_type" varchar(32), "ref_id" varchar(64), ' +
    `"description" varchar(127) NOT NULL, "amount_fen" integer NOT NULL, "state" varchar(16) NOT NULL DEFAULT ('created'), "prepay_id" varchar(64), ` +
    '"transaction_id" varchar(32), "out_refund_no" varchar(64), "refund_id" varchar(32), "refund_error" varchar(255), ' +
    '"paid_at" datetime(3), "refund_requested_at" datetime(3), "refunded_at" datetime(3), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)',
  'CREATE UNIQUE INDEX IF NOT EXISTS "UQ_pay_orders_out_trade_no" ON "pay_orders" ("out_trade_no")',
  'CREATE INDEX IF NOT EXISTS "IDX_pay_orders_state" ON "pay_orders" ("state", "created_at")',
  'CREATE INDEX IF NOT EXISTS "IDX_pay_orders_contact" ON "pay_orders" ("contact_id", "created_at")',
  'CREATE INDEX IF NOT EXISTS "IDX_pay_orders_ref" ON "pay_orders" ("ref_type", "ref_id")',
];

export class PayOrders1795970000000 implements MigrationInterface {
  name = 'PayOrders1795970000000';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of isMysqlRunner(q) ? MYSQL : SQLITE) await q.query(statement);
    // The trial offer (一元体验) a journey or a welcome message offers new followers; once only.
    const [{ n }] = (await q.query('SELECT COUNT(*) AS n FROM pay_products')) as { n: number | string }[];
    if (Number(n) === 0) {
      const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
      await q.query('INSERT INTO pay_products (name, price_fen, active, created_at, updated_at) VALUES (?, 100, 1, ?, ?)', ['一元体验', now, now]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const quote = isMysqlRunner(q) ? (name: string) => `\`${name}\`` : (name: string) => `"${name}"`;
    await q.query(`DROP TABLE IF EXISTS ${quote('pay_orders')}`);
    await q.query(`DROP TABLE IF EXISTS ${quote('pay_products')}`);
  }
}
