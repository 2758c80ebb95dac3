import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A registrant's follow-up after an event (销售跟进, issue 15 §5): which sales rep has it (and the
 * sales assignment that told them) and whether it is done. One per contact per event; a registrant
 * nobody assigned or closed has none (the list shows them open and unassigned).
 */
@Entity('event_followups')
@Index('UQ_event_followups_contact', ['eventId', 'contactId'], { unique: true })
@Index('IDX_event_followups_operator', ['operatorId', 'eventId'])
export class EventFollowup {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  eventId: number;

  @Column({ type: 'int' })
  contactId: number;

  /** The sales operator it is assigned to. */
  @Column({ type: 'int', nullable: true })
  operatorId: number | null;

  @Column({ type: 'int', nullable: true })
  assignmentId: number | null;

  @Column({ type: 'varchar', length: 8, default: 'open' })
  state: 'open' | 'done';

  @Column({ type: 'int', nullable: true })
  doneBy: number | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  doneAt: Date | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
