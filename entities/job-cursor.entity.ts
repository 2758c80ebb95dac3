import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Where a long sweep (a backfill through every follower) left off, so each run goes on from there. */
@Entity('job_cursors')
export class JobCursor {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 255 })
  value: string;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
