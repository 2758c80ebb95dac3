import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { LeasedRow } from './leased-row';

/**
 * The reactions one new interaction is owed: the reactions registered in compose.ts (profile
 * fetch, identity merge, tag rules, scoring, syncs ...) run from this durable row after the
 * commit, so a crash after the reply only delays them. It finds its interaction by the dedupe key
 * both carry. "Reaction" is the one noun: the table, the folder (modules/reactions), the worker
 * and the failed-work kind (`reactions`) all use it.
 */
@Entity('reaction_work')
@Index('IDX_reaction_work_due', ['status', 'nextAttemptAt'])
export class ReactionWork extends LeasedRow {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('UQ_reaction_work_dedupe_key', { unique: true })
  @Column({ type: 'varchar', length: 191 })
  dedupeKey: string;

  @Column({ type: 'datetime', precision: 3 })
  nextAttemptAt: Date;
}
