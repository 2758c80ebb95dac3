import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A contact in a saved segment since `enteredAt`; leaving deletes the row (the timeline keeps both events). */
@Entity('segment_members')
// The segments of a batch's contacts, for the membership reaction.
@Index('IDX_segment_members_contact', ['contactId'])
export class SegmentMember {
  @PrimaryColumn({ type: 'int' })
  segmentId: number;

  @PrimaryColumn({ type: 'int' })
  contactId: number;

  @Column({ type: 'datetime', precision: 3 })
  enteredAt: Date;
}
