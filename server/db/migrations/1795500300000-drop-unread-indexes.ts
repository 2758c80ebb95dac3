import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';
import { hasIndex } from './schema-checks';

/**
 * Two indexes that every callback paid for and no query read: interactions(type) (the timeline
 * reads by contact and time; a report by type will want (type, occurred_at), not this), and
 * callback_inbox(received_at) (pruning now walks the (status, next_attempt_at) index: a done
 * row's next_attempt_at is never earlier than its received_at).
 */
const INDEXES = [
  { name: 'IDX_ef9fade8e5a6dac06ef5031986', table: 'interactions', column: 'type' },
  { name: 'IDX_c09f9a9f392db726f71f462857', table: 'callback_inbox', column: 'received_at' },
];

export class DropUnreadIndexes1795500300000 implements MigrationInterface {
  name = 'DropUnreadIndexes1795500300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const mysql = isMysqlRunner(queryRunner);
    // MySQL names the table in DROP INDEX; SQLite does not accept it. Each checks first (schema-checks.ts).
    for (const index of INDEXES) {
      if (await hasIndex(queryRunner, index.table, index.name)) await queryRunner.query(`DROP INDEX ${index.name}${mysql ? ` ON ${index.table}` : ''}`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of INDEXES) {
      if (!(await hasIndex(queryRunner, index.table, index.name))) await queryRunner.query(`CREATE INDEX ${index.name} ON ${index.table} (${index.column})`);
    }
  }
}
