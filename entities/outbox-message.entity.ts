import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * How a message goes out. Each maps to one platform API, and the rate limit, the quota pause and
 * the rules checked before a send are per (account, channel).
 */
export const OUTBOX_CHANNELS = [
  'oa_template', // Official Account template message (message/template/send, client_msg_id)
  'oa_subscribe', // Official Account subscribe message (message/subscribe/bizsend)
  'mp_subscribe', // mini-program subscribe message (message/subscribe/send)
  'oa_custom', // customer-service message, only inside the 48 h window (message/custom/send)
  'wecom_group_msg', // WeCom message through the contact's rep (externalcontact/add_msg_template)
  'sms', // Tencent Cloud SMS
] as const;
export type OutboxChannel = (typeof OUTBOX_CHANNELS)[number];

/**
 * pending → sending → sent | failed | unknown. `sending` is committed before the request leaves;
 * a row found in `sending` past its claim, or whose request timed out, becomes `unknown` and is
 * never sent again automatically (docs/ARCHITECTURE.md, "The outbox"). `skipped`: refused by a
 * rule before any request (not following, no consent, frequency cap); `cancelled`: its broadcast
 * or run was cancelled before it was claimed. `confirming`: the platform took it but a person must
 * still act (a WeCom rep confirms add_msg_template); a check moves it to `sent` or `failed`.
 */
export const OUTBOX_STATES = ['pending', 'sending', 'confirming', 'sent', 'failed', 'unknown', 'skipped', 'cancelled'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/** Marketing pushes obey quiet hours and the frequency cap; transactional ones (a ticket, a reminder) do not. */
export const OUTBOX_PURPOSES = ['marketing', 'transactional'] as const;
export type OutboxPurpose = (typeof OUTBOX_PURPOSES)[number];

/**
 * One message to one contact, keyed by why it exists before anything is sent: the dedupe key
 * (`journey:<run>:<node>`, `broadcast:<id>:<contact>`, `event:<id>:reminder:<registration>`) is
 * unique and kept for good, so a replayed step or a re-expanded broadcast cannot add a second row.
 * Written only by OutboxService.enqueue (modules/outbox), in the caller's transaction.
 */
@Entity('outbox_messages')
@Index('UQ_outbox_messages_dedupe_key', ['dedupeKey'], { unique: true })
// The claim: the oldest due pending rows of a channel.
@Index('IDX_outbox_messages_claim', ['state', 'channel', 'notBefore'])
// A journey's or broadcast's progress and its delivery log.
@Index('IDX_outbox_messages_source', ['sourceType', 'sourceId', 'state'])
@Index('IDX_outbox_messages_contact', ['contactId', 'createdAt'])
// TEMPLATESENDJOBFINISH and subscribe_msg_sent_event find their row by the platform's msgid.
@Index('IDX_outbox_messages_platform_msgid', ['platformMsgid'])
export class OutboxMessage {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 191 })
  dedupeKey: string;

  @Column({ type: 'int' })
  contactId: number;

  @Column({ type: 'varchar', length: 24 })
  channel: OutboxChannel;

  @Column({ type: 'varchar', length: 16, default: 'marketing' })
  purpose: OutboxPurpose;

  /** What asked for it: `journey` (sourceId = the journey id, sourceNode = the node), `broadcast`, `event`, `scoring`. */
  @Column({ type: 'varchar', length: 16 })
  sourceType: string;

  @Column({ type: 'varchar', length: 64 })
  sourceId: string;

  /** The journey run and node, for "opened the message from node X" and per-node stats. */
  @Column({ type: 'int', nullable: true })
  runId: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  nodeId: string | null;

  /** The message as the channel's API takes it, minus the recipient (resolved at send time). JSON. */
  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  state: OutboxState;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  /** Not sent before this (the journey's schedule, quiet hours, a quota pause, a retry's backoff). */
  @Column({ type: 'datetime', precision: 3 })
  notBefore: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  claimedBy: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  claimedUntil: Date | null;

  /** When the first request left: template/send's client_msg_id is honoured for 10 minutes from it. */
  @Column({ type: 'datetime', precision: 3, nullable: true })
  firstAttemptAt: Date | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  sentAt: Date | null;

  /** The platform's msgid, so TEMPLATESENDJOBFINISH and subscribe_msg_sent_event find the row. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  platformMsgid: string | null;

  @Column({ type: 'int', nullable: true })
  lastErrcode: number | null;

  /** Why it was skipped or failed (`not_following`, `no_consent`, `frequency_cap`, the errmsg ...). */
  @Column({ type: 'varchar', length: 255, nullable: true })
  lastError: string | null;

  /**
   * What the platform reported after `sent` (TEMPLATESENDJOBFINISH): `delivered`, `user_block`
   * (the follower refused this account's template messages), `system_failed`.
   */
  @Column({ type: 'varchar', length: 32, nullable: true })
  deliveryStatus: string | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
