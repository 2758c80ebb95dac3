import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';
import { hasIndex } from './schema-checks';

/**
 * channels.event_id gets its foreign key to events (ON DELETE SET NULL: a deleted event leaves its
 * channels attributing, without an event), which 1795960000000 could not add before the events
 * table existed. A channel naming an event that is gone loses the id first, or the key would
 * refuse the table. MySQL adds the constraint (checked first, so a run that stopped halfway
 * finishes); SQLite cannot add one to a table, so the table is rebuilt (TypeORM's copy, drop,
 * rename, in the migration's one transaction).
 */
export class ChannelsEventForeignKey1796300000000 implements MigrationInterface {
  name = 'ChannelsEventForeignKey1796300000000';

  async up(q: QueryRunner): Promise<void> {
    const orphans = isMysqlRunner(q)
      ? 'UPDATE `channels` SET `event_id` = NULL WHERE `event_id` IS NOT NULL AND `event_id` NOT IN (SELECT `id` FROM `events`)'
      : 'UPDATE "channels" SET "event_id" = NULL WHERE "event_id" IS NOT NULL AND "event_id" NOT IN (SELECT "id" FROM "events")';
    if (isMysqlRunner(q)) {
      if (await hasForeignKey(q)) return;
      await q.query(orphans);
      await q.query(
        'ALTER TABLE `channels` ADD CONSTRAINT `FK_channels_event` FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON DELETE SET NULL ON UPDATE NO ACTION',
      );
    } else {
      await q.query(orphans);
      await q.query("DROP INDEX \"UQ_channels_name\"");
      await q.query("CREATE TABLE \"temporary_channels\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"name\" varchar(64) NOT NULL, \"kind\" varchar(24) NOT NULL, \"status\" varchar(16) NOT NULL DEFAULT ('pending'), \"scene\" varchar(64), \"cost_fen\" integer, \"event_id\" integer, \"tag_ids\" json NOT NULL, \"welcome\" text, \"options\" json NOT NULL, \"url\" varchar(1024), \"ticket\" varchar(255), \"config_id\" varchar(64), \"expires_at\" datetime(3), \"created_by\" integer, \"created_at\" datetime(3) NOT NULL, \"updated_at\" datetime(3) NOT NULL, \"archived_at\" datetime(3), CONSTRAINT \"FK_channels_event\" FOREIGN KEY (\"event_id\") REFERENCES \"events\" (\"id\") ON DELETE SET NULL ON UPDATE NO ACTION)");
      await q.query("INSERT INTO \"temporary_channels\"(\"id\", \"name\", \"kind\", \"status\", \"scene\", \"cost_fen\", \"event_id\", \"tag_ids\", \"welcome\", \"options\", \"url\", \"ticket\", \"config_id\", \"expires_at\", \"created_by\", \"created_at\", \"updated_at\", \"archived_at\") SELECT \"id\", \"name\", \"kind\", \"status\", \"scene\", \"cost_fen\", \"event_id\", \"tag_ids\", \"welcome\", \"options\", \"url\", \"ticket\", \"config_id\", \"expires_at\", \"created_by\", \"created_at\", \"updated_at\", \"archived_at\" FROM \"channels\"");
      await q.query("DROP TABLE \"channels\"");
      await q.query("ALTER TABLE \"temporary_channels\" RENAME TO \"channels\"");
      await q.query("CREATE UNIQUE INDEX \"UQ_channels_name\" ON \"channels\" (\"name\") ");
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      if (await hasForeignKey(q)) await q.query('ALTER TABLE `channels` DROP FOREIGN KEY `FK_channels_event`');
      // The constraint's index, which MySQL made for it.
      if (await hasIndex(q, 'channels', 'FK_channels_event')) await q.query('DROP INDEX `FK_channels_event` ON `channels`');
    } else {
      await q.query("DROP INDEX \"UQ_channels_name\"");
      await q.query("ALTER TABLE \"channels\" RENAME TO \"temporary_channels\"");
      await q.query("CREATE TABLE \"channels\" (\"id\" integer PRIMARY KEY AUTOINCREMENT NOT NULL, \"name\" varchar(64) NOT NULL, \"kind\" varchar(24) NOT NULL, \"status\" varchar(16) NOT NULL DEFAULT ('pending'), \"scene\" varchar(64), \"cost_fen\" integer, \"event_id\" integer, \"tag_ids\" json NOT NULL, \"welcome\" text, \"options\" json NOT NULL, \"url\" varchar(1024), \"ticket\" varchar(255), \"config_id\" varchar(64), \"expires_at\" datetime(3), \"created_by\" integer, \"created_at\" datetime(3) NOT NULL, \"updated_at\" datetime(3) NOT NULL, \"archived_at\" datetime(3))");
      await q.query("INSERT INTO \"channels\"(\"id\", \"name\", \"kind\", \"status\", \"scene\", \"cost_fen\", \"event_id\", \"tag_ids\", \"welcome\", \"options\", \"url\", \"ticket\", \"config_id\", \"expires_at\", \"created_by\", \"created_at\", \"updated_at\", \"archived_at\") SELECT \"id\", \"name\", \"kind\", \"status\", \"scene\", \"cost_fen\", \"event_id\", \"tag_ids\", \"welcome\", \"options\", \"url\", \"ticket\", \"config_id\", \"expires_at\", \"created_by\", \"created_at\", \"updated_at\", \"archived_at\" FROM \"temporary_channels\"");
      await q.query("DROP TABLE \"temporary_channels\"");
      await q.query("CREATE UNIQUE INDEX \"UQ_channels_name\" ON \"channels\" (\"name\") ");
    }
  }
}

async function hasForeignKey(q: QueryRunner): Promise<boolean> {
  const rows: unknown = await q.query(
    "SELECT 1 FROM information_schema.table_constraints WHERE table_schema = DATABASE() AND table_name = 'channels' " +
      "AND constraint_name = 'FK_channels_event' AND constraint_type = 'FOREIGN KEY' LIMIT 1",
  );
  return Array.isArray(rows) && rows.length > 0;
}
