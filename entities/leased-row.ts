import { Column } from 'typeorm';

/** A work row is `pending` (possibly under a live lease), `done`, or `failed` for good (re-drivable). */
export type LeaseStatus = 'pending' | 'done' | 'failed';

/**
 * The columns every table handed out by the one lease protocol (server/db/lease-queue.ts) has:
 * the interaction work rows and the task queue. Each adds its id, its due column and its index
 * on (status, due column).
 */
export abstract class LeasedRow {
  /** A row being worked on stays `pending` under a live lease (lease_holder, lease_until). */
  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: LeaseStatus;

  /** Failed attempts (an expired lease counts as one), not claims. */
  @Column({ type: 'int', default: 0 })
  attempts: number;

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
