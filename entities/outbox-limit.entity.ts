import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The send budget of one (account, channel), shared by every instance: a token bucket (`tokens`
 * as of `refilled_at`, on the database's clock) that a compare-and-set UPDATE takes from, and the
 * pause a daily quota (45009) puts on it until `paused_until` (business time).
 */
@Entity('outbox_limits')
export class OutboxLimit {
  /** `<account>:<channel>`, e.g. `wx123:oa_template`. */
  @PrimaryColumn({ type: 'varchar', length: 96 })
  bucket: string;

  @Column({ type: 'double' })
  tokens: number;

  @Column({ type: 'datetime', precision: 3 })
  refilledAt: Date;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  pausedUntil: Date | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  pauseReason: string | null;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
