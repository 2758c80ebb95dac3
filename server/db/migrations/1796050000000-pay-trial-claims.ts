import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * The trial offer's "once per person": pay_products.once_per_contact, set on the seeded 一元体验,
 * and pay_product_claims, one row per (product, contact) held by a unique key, pointing at the
 * order that claim is paying with (server/modules/payments/payments.service.ts, buyProduct).
 * Re-runnable: the column is added only when missing, the table IF NOT EXISTS.
 */
export class PayTrialClaims1796050000000 implements MigrationInterface {
  name = 'PayTrialClaims1796050000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = isMysqlRunner(q);
    if (!(await q.hasColumn('pay_products', 'once_per_contact'))) {
      await q.query(
        mysql
          ? 'ALTER TABLE `pay_products` ADD `once_per_contact` tinyint NOT NULL DEFAULT 0'
          : 'ALTER TABLE "pay_products" ADD COLUMN "once_per_contact" boolean NOT NULL DEFAULT (0)',
      );
      await q.query("UPDATE pay_products SET once_per_contact = 1 WHERE name = '一元体验' AND price_fen = 100");
    }
    if (mysql) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `pay_product_claims` (`id` int NOT NULL AUTO_INCREMENT, `product_id` int NOT NULL, `contact_id` int NOT NULL, ' +
          '`order_id` int NULL, `created_at` datetime(3) NOT NULL, UNIQUE INDEX `UQ_pay_product_claims_contact` (`product_id`, `contact_id`), ' +
          'PRIMARY KEY (`id`)) ENGINE=InnoDB',
      );
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "pay_product_claims" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "product_id" integer NOT NULL, ' +
          '"contact_id" integer NOT NULL, "order_id" integer, "created_at" datetime(3) NOT NULL)',
      );
      await q.query('CREATE UNIQUE INDEX IF NOT EXISTS "UQ_pay_product_claims_contact" ON "pay_product_claims" ("product_id", "contact_id")');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const mysql = isMysqlRunner(q);
    await q.query(mysql ? 'DROP TABLE IF EXISTS `pay_product_claims`' : 'DROP TABLE IF EXISTS "pay_product_claims"');
    await q.query(mysql ? 'ALTER TABLE `pay_products` DROP COLUMN `once_per_contact`' : 'ALTER TABLE "pay_products" DROP COLUMN "once_per_contact"');
  }
}
