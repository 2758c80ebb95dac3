import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A change to a stat_counts counter, inserted in the transaction that made the change. Writers
 * only ever insert here, so two transactions counting the same thing never wait on one counter
 * row; the fold job sums and deletes these rows into stat_counts.
 */
@Entity('stat_deltas')
export class StatDelta {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 32 })
  metric: string;

  @Column({ type: 'datetime', precision: 3 })
  bucketAt: Date;

  @Column({ type: 'varchar', length: 64 })
  dim: string;

  @Column({ type: 'int' })
  n: number;
}
