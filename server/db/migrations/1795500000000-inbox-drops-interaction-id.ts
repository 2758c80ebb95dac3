import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * callback_inbox.interaction_id goes: an inbox row finds its interaction by the dedupe key both
 * carry, so storing a group of callbacks no longer reads the new interactions' ids back (one
 * round trip less on the callback's hot path). The column has no index or foreign key, and the
 * statement is the same on MySQL and on SQLite (3.35+).
 */
export class InboxDropsInteractionId1795500000000 implements MigrationInterface {
  name = 'InboxDropsInteractionId1795500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE callback_inbox DROP COLUMN interaction_id');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE callback_inbox ADD COLUMN interaction_id int NULL');
  }
}
