import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A work row is `pending` (possibly under a live lease), `done`, or `failed` for good (re-drivable). */
export type LeaseStatus = 'pending' | 'done' | 'failed';

/**
 * The durable work row of a new interaction: the reactions registered in compose.ts (profile
 * fetch, identity merge, tag rules, scoring, syncs ...) run from it after the commit, so a crash
 * after the reply only delays them. It finds its interaction by the dedupe key both carry.
 */
@Entity('interaction_work')
@Index('IDX_interaction_work_due', ['status', 'nextAttemptAt'])
export class InteractionWork {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('UQ_interaction_work_dedupe_key', { unique: true })
  @Column({ type: 'varchar', length: 191 })
  dedupeKey: string;

  /** A row being worked on stays `pending` under a live lease (lease_holder, lease_until). */
  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: LeaseStatus;

  /** Failed attempts (an expired lease counts as one), not claims. */
  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ type: 'datetime', precision: 3 })
  nextAttemptAt: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  leaseHolder: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  leaseUntil: Date | null;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  lastError: string | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
