import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { LeasedRow } from './leased-row';

export type TaskPayload = Record<string, string | number | boolean | null | string[] | number[]>;

/**
 * A durable, retrying work queue (tag syncs to WeChat/WeCom, ...). `dedupeKey` makes enqueueing
 * idempotent; leases (server/db/lease-queue.ts) let several instances share the queue without
 * doing a task twice.
 */
@Entity('tasks')
// Claims (due tasks of one kind in due order) and the prune of done tasks, kind by kind. No
// (status, run_at) beside it: MariaDB took that one for a claim whose kind was half the backlog,
// walking every other kind's due rows first (migration 1795730000000).
@Index('IDX_tasks_claim', ['status', 'kind', 'runAt'])
// A subject's newest pending or failed task (a tag's sync state), one index probe.
@Index('IDX_tasks_subject_status', ['subject', 'status', 'id'])
export class Task extends LeasedRow {
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

  @Column({ type: 'datetime', precision: 3 })
  runAt: Date;

  /** What the task is about, for status screens: `oa_tag:<tagId>`, `wecom_tag:<tagId>`; null for most. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  subject: string | null;
}
