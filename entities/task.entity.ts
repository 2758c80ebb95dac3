import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A claimed task stays `pending` under its lease (lease_holder, lease_until); `failed` is final until re-driven. */
export type TaskStatus = 'pending' | 'done' | 'failed';
export type TaskPayload = Record<string, string | number | boolean | null | string[] | number[]>;

/**
 * A durable, retrying work queue (tag syncs to WeChat/WeCom, ...). `dedupeKey` makes enqueueing
 * idempotent; leases (server/db/lease-queue.ts) let several instances share the queue without
 * doing a task twice.
 */
@Entity('tasks')
@Index(['status', 'runAt'])
// A subject's newest pending or failed task (a tag's sync state), one index probe.
@Index('IDX_tasks_subject_status', ['subject', 'status', 'id'])
export class Task {
  @PrimaryGeneratedColumn()
  id: number;

  @Index()
  @Column({ type: 'varchar', length: 48 })
  kind: string;

  @Index({ unique: true })
  @Column({ type: 'varchar', length: 191 })
  dedupeKey: string;

  @Column({ type: 'simple-json' })
  payload: TaskPayload;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: TaskStatus;

  /** Failed attempts (an expired lease counts as one), not claims. */
  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ type: 'datetime', precision: 3 })
  runAt: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  leaseHolder: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  leaseUntil: Date | null;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  lastError: string | null;

  /** What the task is about, for status screens: `oa_tag:<tagId>`, `wecom_tag:<tagId>`; null for most. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  subject: string | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
