import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The step log: one row per node a run entered, unique per (run, seq), so a replayed step adds
 * nothing. The per-node figures (entered, waiting, completed) are counted from it.
 */
@Entity('journey_steps')
@Index('UQ_journey_steps_run_seq', ['runId', 'seq'], { unique: true })
@Index('IDX_journey_steps_journey_node', ['journeyId', 'nodeId', 'leftAt'])
export class JourneyStep {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  journeyId: number;

  @Column({ type: 'int' })
  runId: number;

  @Column({ type: 'int' })
  seq: number;

  @Column({ type: 'varchar', length: 64 })
  nodeId: string;

  @Column({ type: 'datetime', precision: 3 })
  enteredAt: Date;

  /** Null while the run is still at the node (a wait). */
  @Column({ type: 'datetime', precision: 3, nullable: true })
  leftAt: Date | null;

  /** What happened there: `sent`, `then`/`else`, a branch, `opened`, `timeout`, `converted` ... */
  @Column({ type: 'varchar', length: 32, nullable: true })
  outcome: string | null;
}
