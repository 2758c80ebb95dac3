import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A counter the dashboard reads instead of counting rows: `metric` names what is counted, `dim`
 * the value it is counted by (a channel, a stage, a tag id) and `bucketAt` the 15-minute UTC
 * bucket a time series falls in (1970-01-01 for counts that have no time). Changes arrive as
 * stat_deltas rows written with the change itself; a job folds them in here (modules/stats).
 */
@Entity('stat_counts')
export class StatCount {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  metric: string;

  @PrimaryColumn({ type: 'datetime', precision: 3 })
  bucketAt: Date;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  dim: string;

  /** bigint: mysql2 returns it as a string. */
  @Column({ type: 'bigint' })
  n: string;
}
