import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';

/**
 * wecom_group_msg_sends: the 企业群发 task behind each WeCom outbox row waiting for its rep
 * (entities/wecom-group-msg-send.entity.ts). New table, no backfill; each statement is IF NOT
 * EXISTS, so a run that stopped halfway finishes when run again.
 */
export class WecomGroupMsgSends1795920000000 implements MigrationInterface {
  name = 'WecomGroupMsgSends1795920000000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query(
        'CREATE TABLE IF NOT EXISTS `wecom_group_msg_sends` (`outbox_id` int NOT NULL, `msgid` varchar(64) NOT NULL, ' +
          '`sender_user_id` varchar(64) NOT NULL, `external_user_id` varchar(128) NOT NULL, `accepted_at` datetime(3) NOT NULL, ' +
          '`next_check_at` datetime(3) NULL, `checks` int NOT NULL DEFAULT 0, ' +
          'INDEX `IDX_wecom_group_msg_sends_next_check` (`next_check_at`), PRIMARY KEY (`outbox_id`)) ENGINE=InnoDB',
      );
    } else {
      await q.query(
        'CREATE TABLE IF NOT EXISTS "wecom_group_msg_sends" ("outbox_id" integer PRIMARY KEY NOT NULL, "msgid" varchar(64) NOT NULL, ' +
          '"sender_user_id" varchar(64) NOT NULL, "external_user_id" varchar(128) NOT NULL, "accepted_at" datetime(3) NOT NULL, ' +
          '"next_check_at" datetime(3), "checks" integer NOT NULL DEFAULT (0))',
      );
      await q.query('CREATE INDEX IF NOT EXISTS "IDX_wecom_group_msg_sends_next_check" ON "wecom_group_msg_sends" ("next_check_at")');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(isMysqlRunner(q) ? 'DROP TABLE IF EXISTS `wecom_group_msg_sends`' : 'DROP TABLE IF EXISTS "wecom_group_msg_sends"');
  }
}
