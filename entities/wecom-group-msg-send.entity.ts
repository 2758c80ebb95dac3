import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A WeCom message through a contact's rep (outbox channel `wecom_group_msg`) that the platform
 * took as a 企业群发 task: who it went through and to whom, so the confirmation check can ask
 * get_groupmsg_send_result (msgid + the rep's userid) until the rep has sent it or the check gives
 * up. Written with the outbox row's `confirming` outcome; `next_check_at` is null once the row left
 * `confirming`.
 */
@Entity('wecom_group_msg_sends')
@Index('IDX_wecom_group_msg_sends_next_check', ['nextCheckAt'])
export class WecomGroupMsgSend {
  /** The outbox row (outbox_messages.id). */
  @PrimaryColumn({ type: 'int' })
  outboxId: number;

  /** add_msg_template's msgid; one task may carry several rows. */
  @Column({ type: 'varchar', length: 64 })
  msgid: string;

  /** The rep (the member the task waits for). */
  @Column({ type: 'varchar', length: 64 })
  senderUserId: string;

  @Column({ type: 'varchar', length: 128 })
  externalUserId: string;

  @Column({ type: 'datetime', precision: 3 })
  acceptedAt: Date;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  nextCheckAt: Date | null;

  @Column({ type: 'int', default: 0 })
  checks: number;
}
