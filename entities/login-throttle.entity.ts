import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Login attempts counted per account and per client IP, shared by every server instance. An
 * attempt is counted here before its password is checked (see LoginThrottle.reserve).
 */
@Entity('login_throttles')
export class LoginThrottle {
  /**
   * `account:op:<operator id>`, `account:name:<folded username>` for a name no operator has, or
   * `ip:<address>` (see accountThrottleKey). Keys of the older `account:<username>` form are left
   * to the nightly prune.
   */
  @PrimaryColumn({ type: 'varchar', length: 128 })
  throttleKey: string;

  /** Account: consecutive failures. IP: failures in the window that began at windowStartedAt. */
  @Column({ type: 'int', default: 0 })
  failures: number;

  @Column({ type: 'datetime', precision: 3 })
  windowStartedAt: Date;

  /** No attempt is evaluated before this instant. */
  @Column({ type: 'datetime', precision: 3, nullable: true })
  blockedUntil: Date | null;

  /** Bumped by every write: the compare-and-set guard that makes a reservation atomic. */
  @Column({ type: 'int', default: 0 })
  version: number;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
