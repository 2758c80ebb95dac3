import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * How many times a capped score rule scored a contact on one business day. The cap is a
 * conditional UPDATE of this row (`hits < cap`), so two instances scoring the same contact at
 * once cannot both take the last hit: the second waits for the first's row lock and then sees
 * its count.
 */
@Entity('score_rule_daily_hits')
export class ScoreRuleDailyHit {
  @PrimaryColumn({ type: 'int' })
  ruleId: number;

  @PrimaryColumn({ type: 'int' })
  contactId: number;

  /** The business day, `YYYY-MM-DD` in BUSINESS_TIMEZONE. */
  @PrimaryColumn({ type: 'varchar', length: 10 })
  day: string;

  @Column({ type: 'int', default: 0 })
  hits: number;
}
