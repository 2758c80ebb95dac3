import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * interactions.direction: `in` for what a contact did, `out` for what was sent to them (a send,
 * its delivery, its failure: the journeys' outbox). Every interaction stored so far came from a
 * contact, so the default `in` is right for them all and no row is rewritten.
 *
 * One statement, added only when the column is missing (schema-checks.ts), so a run that stopped
 * before it finishes when it runs again. Both are cheap on a large timeline: MariaDB adds a last
 * column with a default in place (instant ADD COLUMN, 10.3+), and SQLite's ADD COLUMN edits the
 * schema only.
 */
export class InteractionsDirection1795840000000 implements MigrationInterface {
  name = 'InteractionsDirection1795840000000';

  async up(q: QueryRunner): Promise<void> {
    if (await q.hasColumn('interactions', 'direction')) return;
    await q.query(
      isMysqlRunner(q)
        ? "ALTER TABLE `interactions` ADD `direction` varchar(3) NOT NULL DEFAULT 'in'"
        : `ALTER TABLE "interactions" ADD COLUMN "direction" varchar(3) NOT NULL DEFAULT ('in')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE interactions DROP COLUMN direction');
  }
}
