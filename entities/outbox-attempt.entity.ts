import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** What one attempt of an outbox message came to. */
export const OUTBOX_ATTEMPT_OUTCOMES = ['sent', 'failed', 'skipped', 'unknown', 'retry', 'deferred'] as const;
export type OutboxAttemptOutcome = (typeof OUTBOX_ATTEMPT_OUTCOMES)[number];

/**
 * The delivery log: one line per attempt of an outbox message (per recipient), with the
 * platform's errcode, so every contact of a broadcast is accounted for, including a send whose
 * outcome is not known (`unknown`: the worker died or the answer was lost after the request left).
 * Written by the outbox sender in the transaction of the attempt's outcome.
 */
@Entity('outbox_attempts')
@Index('UQ_outbox_attempts_outbox_attempt', ['outboxId', 'attempt'], { unique: true })
export class OutboxAttempt {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  outboxId: number;

  @Column({ type: 'int' })
  attempt: number;

  @Column({ type: 'datetime', precision: 3 })
  at: Date;

  @Column({ type: 'int', nullable: true })
  errcode: number | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  errmsg: string | null;

  @Column({ type: 'varchar', length: 16 })
  outcome: OutboxAttemptOutcome;
}
