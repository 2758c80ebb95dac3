import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The task queue now claims through the lease primitive (server/db/lease-queue.ts): a claimed
 * task stays `pending` under its lease, and attempts count failures, not claims. Tasks an older
 * version left `running` become pending again, keeping their lease (any instance takes them once
 * it runs out); their attempts lose the claim the old version counted in advance, since the
 * primitive counts an expired lease as the failure it is when it next claims the row.
 */
export class TasksClaimedRowsStayPending1795600300000 implements MigrationInterface {
  name = 'TasksClaimedRowsStayPending1795600300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("UPDATE tasks SET status = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE status = 'running'");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("UPDATE tasks SET status = 'running', attempts = attempts + 1 WHERE status = 'pending' AND lease_until IS NOT NULL");
  }
}
