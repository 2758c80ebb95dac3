import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * node-cron's run coordinator: one row per (job, scheduled slot). The unique key lets exactly one
 * instance claim each fire; the others see the duplicate and skip.
 */
@Entity('job_runs')
@Index(['jobName', 'slot'], { unique: true })
export class JobRun {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 64 })
  jobName: string;

  /** The scheduled fire time, ISO-8601 to the second. */
  @Column({ type: 'varchar', length: 32 })
  slot: string;

  @Column({ type: 'varchar', length: 64 })
  holder: string;

  @Column({ type: 'varchar', length: 16 })
  status: 'running' | 'done' | 'failed';

  @Column({ type: 'datetime', precision: 3 })
  startedAt: Date;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  error: string | null;
}
