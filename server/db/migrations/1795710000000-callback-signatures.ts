import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * callback_signatures: the Official Account plain-mode replay guard (entities/callback-signature.entity.ts).
 * A new table, empty at first; IF NOT EXISTS lets the migration run again after stopping halfway.
 */
export class CallbackSignatures1795710000000 implements MigrationInterface {
  name = 'CallbackSignatures1795710000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (isMysqlRunner(queryRunner)) {
      await queryRunner.query(
        'CREATE TABLE IF NOT EXISTS `callback_signatures` (`signature_key` varchar(64) NOT NULL, `body_sha256` varchar(64) NOT NULL, `expires_at` datetime(3) NOT NULL, INDEX `IDX_callback_signatures_expires_at` (`expires_at`), PRIMARY KEY (`signature_key`)) ENGINE=InnoDB',
      );
    } else {
      await queryRunner.query(
        'CREATE TABLE IF NOT EXISTS "callback_signatures" ("signature_key" varchar(64) PRIMARY KEY NOT NULL, "body_sha256" varchar(64) NOT NULL, "expires_at" datetime(3) NOT NULL)',
      );
      await queryRunner.query('CREATE INDEX IF NOT EXISTS "IDX_callback_signatures_expires_at" ON "callback_signatures" ("expires_at")');
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Dropping the table drops its index on both databases.
    await queryRunner.query('DROP TABLE callback_signatures');
  }
}
