import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A visitor of an event's invitation page, once per visitor (the random id the page keeps), with
 * the channel it first came through: the report's visits by channel.
 */
@Entity('event_visits')
@Index('IDX_event_visits_channel', ['eventId', 'channelId'])
export class EventVisit {
  @PrimaryColumn({ type: 'int' })
  eventId: number;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  visitorId: string;

  @Column({ type: 'int', nullable: true })
  channelId: number | null;

  @Column({ type: 'datetime', precision: 3 })
  firstAt: Date;
}
