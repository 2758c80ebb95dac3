import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * `active`: due to move on at next_due_at (at once after entry); `waiting`: in a wait node until
 * next_due_at (or an open of the message it waits on, which makes it due now); `completed`: it
 * reached its goal or the end; `exited`: it reached an exit node, a holdout, or was taken out.
 */
export const JOURNEY_RUN_STATES = ['active', 'waiting', 'completed', 'exited'] as const;
export type JourneyRunState = (typeof JOURNEY_RUN_STATES)[number];

/**
 * One contact's way through one journey, on the version it entered on. Re-entry is decided by
 * unique keys, not by looking first: `guard_key` is `once` (policy never, kept for good), `open`
 * (policy after_exit, cleared to NULL when the run ends) or NULL (policy always); `cause_key`
 * names what entered it (`i:<interaction>`, `enroll:<id>`, `journey:<run>:<node>` ...), so a
 * replayed cause never enters twice whatever the policy.
 */
@Entity('journey_runs')
@Index('UQ_journey_runs_guard', ['journeyId', 'contactId', 'guardKey'], { unique: true })
@Index('UQ_journey_runs_cause', ['journeyId', 'causeKey'], { unique: true })
// The engine's claim: the oldest due runs (ended runs have no due time).
@Index('IDX_journey_runs_due', ['nextDueAt'])
// A contact's runs: goals, the timeline, stats per journey.
@Index('IDX_journey_runs_contact', ['contactId', 'state'])
@Index('IDX_journey_runs_journey_node', ['journeyId', 'nodeId', 'state'])
export class JourneyRun {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  journeyId: number;

  @Column({ type: 'int' })
  version: number;

  @Column({ type: 'int' })
  contactId: number;

  /** The node it is at (for a waiting run, its wait node). */
  @Column({ type: 'varchar', length: 64 })
  nodeId: string;

  @Column({ type: 'varchar', length: 16 })
  state: JourneyRunState;

  /** How many steps it took: the next step's sequence number, and the guard of the next move. */
  @Column({ type: 'int', default: 0 })
  stepSeq: number;

  /** When it is next due to move; null once it ended. */
  @Column({ type: 'datetime', precision: 3, nullable: true })
  nextDueAt: Date | null;

  /** A wait for an open: the send node whose message it waits on (an open wakes it at once). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  waitForNode: string | null;

  @Column({ type: 'varchar', length: 8, nullable: true })
  guardKey: string | null;

  @Column({ type: 'varchar', length: 96 })
  causeKey: string;

  /** How it ended: `exit`, `end`, `converted`, `holdout`, `removed` ... */
  @Column({ type: 'varchar', length: 32, nullable: true })
  outcome: string | null;

  @Column({ type: 'datetime', precision: 3 })
  enteredAt: Date;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  endedAt: Date | null;

  /** When its goal was met. */
  @Column({ type: 'datetime', precision: 3, nullable: true })
  convertedAt: Date | null;
}
