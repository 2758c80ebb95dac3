import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Every point a contact earns or loses, so a score can always be explained. */
@Entity('score_ledger')
// A contact's entries in time order, for the timeline's merge with interactions and tag changes.
@Index('IDX_score_ledger_contact_created', ['contactId', 'createdAt'])
export class ScoreLedger {
  @PrimaryGeneratedColumn()
  id: number;

  @Index()
  @Column({ type: 'int' })
  contactId: number;

  @Column({ type: 'int' })
  points: number;

  @Column({ type: 'varchar', length: 255 })
  reason: string;

  @Column({ type: 'int', nullable: true })
  ruleId: number | null;

  @Column({ type: 'int', nullable: true })
  interactionId: number | null;

  /** e.g. `rule:3:interaction:42`: replaying an interaction never scores twice. */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 128 })
  dedupeKey: string;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
