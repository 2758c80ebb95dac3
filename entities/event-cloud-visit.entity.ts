import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A visitor of an event's cloud exhibition, once per visitor (the page's random id), like the
 * invitation page's event_visits: known visitors are on the timeline as well (`event_cloud_visit`),
 * unknown ones are counted here only. Kept apart from event_visits so the report's registration
 * rate (registrations / invitation visits) is not diluted by visits after the event.
 */
@Entity('event_cloud_visits')
export class EventCloudVisit {
  @PrimaryColumn({ type: 'int' })
  eventId: number;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  visitorId: string;

  @Column({ type: 'int', nullable: true })
  channelId: number | null;

  /** The contact, when the page knew the visitor (web OAuth inside WeChat) on a visit. */
  @Column({ type: 'int', nullable: true })
  contactId: number | null;

  @Column({ type: 'datetime', precision: 3 })
  firstAt: Date;
}
