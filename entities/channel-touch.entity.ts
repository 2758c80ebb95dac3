import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One scan, add or visit through a channel: written by the channel reaction, keyed by the
 * interaction so a replayed reaction writes it once. The channel's stats are counted from these.
 */
@Entity('channel_touches')
@Index('IDX_channel_touches_channel', ['channelId', 'occurredAt'])
export class ChannelTouch {
  @PrimaryColumn({ type: 'int' })
  interactionId: number;

  @Column({ type: 'int' })
  channelId: number;

  @Column({ type: 'int', nullable: true })
  contactId: number | null;

  @Column({ type: 'varchar', length: 48 })
  type: string;

  /** The contact's first touch was this one (contacts.first_source is this channel's scene). */
  @Column({ type: 'boolean', default: false })
  newContact: boolean;

  @Column({ type: 'datetime', precision: 3 })
  occurredAt: Date;
}
