import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';
import { hasIndex } from './schema-checks';

/**
 * For the admin page (issue 7), measured with bench/contacts.bench.ts on 1M contacts and 5M
 * interactions (docs/BENCHMARKS.md):
 * - contacts (merged_into_id, created_at, first_source), (merged_into_id, stage) and
 *   (merged_into_id, last_interaction_at): the dashboard counts live contacts (merged_into_id IS
 *   NULL) per day and source, per stage, and active since a time, each from one index range alone;
 * - interactions (occurred_at, channel): interactions per day and channel from one index range;
 * - tasks.subject (what a task is about, e.g. `oa_tag:12`) with (subject, status, id): a tag's sync
 *   state is the newest pending or failed task of its subject, one index probe per tag.
 * Only a nullable column and indexes are added; no row is touched. On MySQL each ALTER is skipped
 * when one of its effects is there already (schema-checks.ts).
 */
export class AdminPageIndexes1795600500000 implements MigrationInterface {
  name = 'AdminPageIndexes1795600500000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      if (!(await hasIndex(q, 'contacts', 'IDX_contacts_live_created'))) {
        await q.query(
          'ALTER TABLE `contacts` ADD INDEX `IDX_contacts_live_created` (`merged_into_id`, `created_at`, `first_source`), ' +
            'ADD INDEX `IDX_contacts_live_stage` (`merged_into_id`, `stage`), ADD INDEX `IDX_contacts_live_last_interaction` (`merged_into_id`, `last_interaction_at`)',
        );
      }
      if (!(await hasIndex(q, 'interactions', 'IDX_interactions_occurred_channel'))) {
        await q.query('ALTER TABLE `interactions` ADD INDEX `IDX_interactions_occurred_channel` (`occurred_at`, `channel`)');
      }
      if (!(await q.hasColumn('tasks', 'subject'))) {
        await q.query('ALTER TABLE `tasks` ADD `subject` varchar(64) NULL, ADD INDEX `IDX_tasks_subject_status` (`subject`, `status`, `id`)');
      }
    } else {
      await q.query('CREATE INDEX "IDX_contacts_live_created" ON "contacts" ("merged_into_id", "created_at", "first_source")');
      await q.query('CREATE INDEX "IDX_contacts_live_stage" ON "contacts" ("merged_into_id", "stage")');
      await q.query('CREATE INDEX "IDX_contacts_live_last_interaction" ON "contacts" ("merged_into_id", "last_interaction_at")');
      await q.query('CREATE INDEX "IDX_interactions_occurred_channel" ON "interactions" ("occurred_at", "channel")');
      await q.query('ALTER TABLE "tasks" ADD COLUMN "subject" varchar(64)');
      await q.query('CREATE INDEX "IDX_tasks_subject_status" ON "tasks" ("subject", "status", "id")');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query('ALTER TABLE `tasks` DROP INDEX `IDX_tasks_subject_status`, DROP COLUMN `subject`');
      await q.query('ALTER TABLE `interactions` DROP INDEX `IDX_interactions_occurred_channel`');
      await q.query('ALTER TABLE `contacts` DROP INDEX `IDX_contacts_live_created`, DROP INDEX `IDX_contacts_live_stage`, DROP INDEX `IDX_contacts_live_last_interaction`');
    } else {
      await q.query('DROP INDEX "IDX_tasks_subject_status"');
      await q.query('ALTER TABLE "tasks" DROP COLUMN "subject"');
      await q.query('DROP INDEX "IDX_interactions_occurred_channel"');
      await q.query('DROP INDEX "IDX_contacts_live_created"');
      await q.query('DROP INDEX "IDX_contacts_live_stage"');
      await q.query('DROP INDEX "IDX_contacts_live_last_interaction"');
    }
  }
}
