import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** `web`: Flywheel's own pages opened in a browser (the content centre's /c/ links). */
export const CHANNELS = ['oa', 'wecom', 'mp', 'sms', 'pay', 'admin', 'system', 'web'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * `in`: the contact did it (a message, a scan, a click); `out`: it was sent to them (a send, its
 * delivery, its failure). Outbound interactions are on the timeline and in the journeys' and
 * broadcasts' figures, but are no sign of life: they do not move last_interaction_at nor the
 * stage, and get a reaction work row only when a registered reaction asks for their type.
 */
export const INTERACTION_DIRECTIONS = ['in', 'out'] as const;
export type InteractionDirection = (typeof INTERACTION_DIRECTIONS)[number];

/** A flat record inside a detail: a person on the timeline (`{contactId, name}`), a link of a chain. */
export type InteractionDetailRecord = Record<string, string | number | boolean | null>;
export type InteractionDetail = Record<
  string,
  string | number | boolean | null | string[] | InteractionDetailRecord | InteractionDetailRecord[]
>;

/**
 * One thing a contact did or was sent. The timeline is this table, newest first; segments and
 * reports read it by type and time. Written only by `recordInteraction` (modules/interactions).
 */
@Entity('interactions')
@Index('IDX_interactions_contact_occurred', ['contactId', 'occurredAt'])
@Index('IDX_interactions_contact_type_occurred', ['contactId', 'type', 'occurredAt'])
// "Who did X since T", read from the index alone: segments and journeys' conditions (the journeys
// issue). Kept while no query reads it: dropping it now and building it again over millions of
// rows in the next release costs more than its write.
@Index('IDX_interactions_type_occurred_contact', ['type', 'occurredAt', 'contactId'])
@Index('IDX_interactions_ref', ['refType', 'refId'])
// Interactions per day and channel on the dashboard.
@Index('IDX_interactions_occurred_channel', ['occurredAt', 'channel'])
export class Interaction {
  @PrimaryGeneratedColumn()
  id: number;

  /** Null for account-level events with no person behind them (e.g. a WeCom tag edit). */
  @Column({ type: 'int', nullable: true })
  contactId: number | null;

  /** e.g. subscribe, scan, text, click, add_external_contact, tag_change. */
  @Column({ type: 'varchar', length: 48 })
  type: string;

  @Column({ type: 'varchar', length: 16 })
  channel: Channel;

  /** See INTERACTION_DIRECTIONS; every interaction before journeys came from a contact. */
  @Column({ type: 'varchar', length: 3, default: 'in' })
  direction: InteractionDirection;

  @Column({ type: 'datetime', precision: 3 })
  occurredAt: Date;

  /** JSON on MySQL (MariaDB: LONGTEXT checked by json_valid), so a 64 KiB text always fits. */
  @Column({ type: 'json' })
  detail: InteractionDetail;

  /**
   * Namespaced by source (`oa:`, `wecom:`, `mp:`, `pay:<transaction_id>`, `outbox:<run>:<node>`):
   * the same fact recorded twice (a platform retry, a replayed job) makes one row.
   */
  @Index('UQ_interactions_dedupe_key', { unique: true })
  @Column({ type: 'varchar', length: 191 })
  dedupeKey: string;

  /** What the interaction is about, beyond the contact: an event, an order, a message, a journey run. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  refType: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  refId: string | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
