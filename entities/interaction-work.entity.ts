import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { LeasedRow } from './leased-row';

/**
 * The durable work row of a new interaction: the reactions registered in compose.ts (profile
 * fetch, identity merge, tag rules, scoring, syncs ...) run from it after the commit, so a crash
 * after the reply only delays them. It finds its interaction by the dedupe key both carry.
 */
@Entity('interaction_work')
@Index('IDX_interaction_work_due', ['status', 'nextAttemptAt'])
export class InteractionWork extends LeasedRow {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('UQ_interaction_work_dedupe_key', { unique: true })
  @Column({ type: 'varchar', length: 191 })
  dedupeKey: string;

  @Column({ type: 'datetime', precision: 3 })
  nextAttemptAt: Date;
}
