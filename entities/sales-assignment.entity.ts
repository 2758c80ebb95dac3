import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A contact handed to a sales rep: past the MQL threshold (once per crossing, the dedupe key
 * `mql:<contact>:<crossing>`), or by a journey or an operator.
 */
@Entity('sales_assignments')
@Index('IDX_sales_assignments_contact', ['contactId', 'createdAt'])
export class SalesAssignment {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  contactId: number;

  /** The rep's WeCom userid: the app message goes to it. */
  @Column({ type: 'varchar', length: 64 })
  userId: string;

  /** The sales operator behind it, when the rep was chosen by round-robin. */
  @Column({ type: 'int', nullable: true })
  operatorId: number | null;

  /** `mql`, `journey:<id>`, `operator:<id>` ... */
  @Column({ type: 'varchar', length: 64 })
  reason: string;

  @Index('UQ_sales_assignments_dedupe', { unique: true })
  @Column({ type: 'varchar', length: 128 })
  dedupeKey: string;

  /**
   * The rep's app message, sent at most once: `pending`, then `sending` by one conditional UPDATE
   * before the call, then `sent` or `failed` (refused by WeCom). A worker that died while
   * `sending` leaves it there: the message may have left, so it is never sent again.
   */
  @Column({ type: 'varchar', length: 16, default: 'pending' })
  notifyStatus: 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
