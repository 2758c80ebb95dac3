import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A scanner's request by its nonce, with the answer it got: the same nonce again (a phone that
 * queued its scans offline and sends them twice, a retry after a lost answer) gets this answer
 * back and changes nothing.
 */
@Entity('event_scans')
export class EventScan {
  @PrimaryColumn({ type: 'int' })
  eventId: number;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  nonce: string;

  @Column({ type: 'int' })
  httpStatus: number;

  /** The JSON body answered. */
  @Column({ type: 'text' })
  answer: string;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
