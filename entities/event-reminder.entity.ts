import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The day-before reminder's progress through one event's registrations: the last registration id
 * a reminder was queued for. The reminder job locks this row, queues the next batch and moves it
 * in one transaction.
 */
@Entity('event_reminders')
export class EventReminder {
  @PrimaryColumn({ type: 'int' })
  eventId: number;

  @Column({ type: 'int', default: 0 })
  lastRegistrationId: number;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
