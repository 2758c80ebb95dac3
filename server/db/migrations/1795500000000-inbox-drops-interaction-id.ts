import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * callback_inbox.interaction_id goes: an inbox row finds its interaction by the dedupe key both
 * carry, so storing a group of callbacks no longer reads the new interactions' ids back (one
 * round trip less on the callback's hot path). The column has no index or foreign key, and the
 * statement is the same on MySQL and on SQLite (3.35+). Each step checks first (schema-checks.ts).
 */
export class InboxDropsInteractionId1795500000000 implements MigrationInterface {
  name = 'InboxDropsInteractionId1795500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (await queryRunner.hasColumn('callback_inbox', 'interaction_id')) await queryRunner.query('ALTER TABLE callback_inbox DROP COLUMN interaction_id');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // `integer`, as the initial schema declares it on SQLite (where `int` is another type name).
    if (!(await queryRunner.hasColumn('callback_inbox', 'interaction_id'))) await queryRunner.query('ALTER TABLE callback_inbox ADD COLUMN interaction_id integer NULL');
  }
}
