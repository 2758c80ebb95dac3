import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A claimed inbox row now stays `pending` under its lease instead of moving to `processing`
 * (claiming touches no indexed column). Rows an older version left in `processing` become
 * pending again; their lease still holds until lease_until, then any instance takes them.
 */
export class InboxClaimedRowsStayPending1795500100000 implements MigrationInterface {
  name = 'InboxClaimedRowsStayPending1795500100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("UPDATE callback_inbox SET status = 'pending' WHERE status = 'processing'");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("UPDATE callback_inbox SET status = 'processing' WHERE status = 'pending' AND lease_until IS NOT NULL");
  }
}
