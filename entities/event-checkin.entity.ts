import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { EventBenefit } from './event.entity';

/**
 * A ticket checked in, once: the unique key on the registration is what makes two gates scanning
 * one ticket at the same moment check it in once (the loser's INSERT meets the key). The
 * headcount counts these rows, so each person counts once whatever gates saw them.
 */
@Entity('event_checkins')
@Index('UQ_event_checkins_registration', ['registrationId'], { unique: true })
@Index('IDX_event_checkins_gate', ['eventId', 'gate'])
export class EventCheckin {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  eventId: number;

  @Column({ type: 'int' })
  registrationId: number;

  @Column({ type: 'varchar', length: 32 })
  gate: string;

  /** The benefit granted at this check-in (the event's at that moment), or null when it had none. */
  @Column({ type: 'json', nullable: true })
  benefit: EventBenefit | null;

  @Column({ type: 'int', nullable: true })
  operatorId: number | null;

  @Column({ type: 'datetime', precision: 3 })
  checkedInAt: Date;
}
