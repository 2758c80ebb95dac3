import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const CHANNELS = ['oa', 'wecom', 'mp', 'pay', 'admin', 'system'] as const;
export type Channel = (typeof CHANNELS)[number];

export type InteractionDetail = Record<string, string | number | boolean | null | string[]>;

/** One thing a contact did or was sent. The timeline is this table, newest first. */
@Entity('interactions')
@Index(['contactId', 'occurredAt'])
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

  @Column({ type: 'datetime', precision: 3 })
  occurredAt: Date;

  @Column({ type: 'simple-json' })
  detail: InteractionDetail;

  /** The inbound message's dedupe key: three deliveries of one message make one row. */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 191, nullable: true })
  dedupeKey: string | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
