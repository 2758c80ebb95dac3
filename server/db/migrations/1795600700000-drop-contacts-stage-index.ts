import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';
import { hasIndex } from './schema-checks';

/**
 * contacts (stage) goes: every query that filters by stage asks for live contacts, which
 * (merged_into_id, stage) serves in id order. With both, MariaDB intersected them for the list's
 * stage filter and sorted 200,000 rows for one page of the bench (1 s instead of 0.5 ms). Each
 * step checks first (schema-checks.ts).
 */
export class DropContactsStageIndex1795600700000 implements MigrationInterface {
  name = 'DropContactsStageIndex1795600700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (!(await hasIndex(queryRunner, 'contacts', 'IDX_contacts_stage'))) return;
    if (isMysqlRunner(queryRunner)) {
      await queryRunner.query("DROP INDEX `IDX_contacts_stage` ON `contacts`");
    } else {
      await queryRunner.query("DROP INDEX \"IDX_contacts_stage\"");
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (await hasIndex(queryRunner, 'contacts', 'IDX_contacts_stage')) return;
    if (isMysqlRunner(queryRunner)) {
      await queryRunner.query("CREATE INDEX `IDX_contacts_stage` ON `contacts` (`stage`)");
    } else {
      await queryRunner.query("CREATE INDEX \"IDX_contacts_stage\" ON \"contacts\" (\"stage\") ");
    }
  }
}
