import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import { databaseNowSql } from '../../db/lease-queue';
import { executeCountingRows, fromSqlDate, isMysqlManager, toSqlDate } from '../../db/sql';

export interface SendBudgetDeps {
  dataSource: DataSource;
  clock: Clock;
  /** Sends per second for a bucket (`<account>:<channel>`); one second's worth may go at once. */
  rateOf: (bucket: string) => number;
}

/**
 * The send budget of each (account, channel), held in `outbox_limits` so every instance draws on
 * one: N instances send at the configured rate, not N times it (listmonk #2974). A token bucket
 * refilled by elapsed time on the database's clock, taken by one conditional UPDATE (so two
 * instances cannot both take the last tokens), and the pause a daily quota puts on the bucket,
 * timed on the business clock (the quota resets at midnight, which the sandbox clock can skip to).
 */
export class SendBudget {
  constructor(private readonly deps: SendBudgetDeps) {}

  /** Until when the bucket is paused (45009), or null when it may send now. */
  async pausedUntil(bucket: string): Promise<Date | null> {
    const rows: { paused_until: unknown }[] = await this.deps.dataSource.query('SELECT paused_until FROM outbox_limits WHERE bucket = ?', [
      bucket,
    ]);
    const value = rows[0]?.paused_until;
    if (value === null || value === undefined) return null;
    const until = fromSqlDate(value);
    return until > this.deps.clock.now() ? until : null;
  }

  /** Pauses the bucket until `until` (business time), in the caller's transaction. */
  async pause(manager: EntityManager, bucket: string, until: Date, reason: string): Promise<void> {
    await this.ensureRow(manager, bucket);
    await manager.query('UPDATE outbox_limits SET paused_until = ?, pause_reason = ?, updated_at = ? WHERE bucket = ?', [
      toSqlDate(until),
      reason,
      toSqlDate(this.deps.clock.now()),
      bucket,
    ]);
  }

  /**
   * Takes up to `wanted` tokens: all of them if the bucket holds that many, else what it holds
   * (whole tokens); 0 when it is empty. One conditional UPDATE per try: the refill and the take
   * are computed by the database from the stored row, so racing instances never overdraw.
   */
  async take(bucket: string, wanted: number): Promise<number> {
    const rate = this.deps.rateOf(bucket);
    const manager = this.deps.dataSource.manager;
    await this.ensureRow(manager, bucket);
    const refilled = this.refilledSql(manager);
    const take = (n: number) =>
      executeCountingRows(
        manager,
        `UPDATE outbox_limits SET tokens = ${refilled} - ?, refilled_at = ${databaseNowSql(manager)} WHERE bucket = ? AND ${refilled} >= ?`,
        [rate, rate, n, bucket, rate, rate, n],
      );
    if ((await take(wanted)) > 0) return wanted;
    const rows: { available: number | string }[] = await manager.query(
      `SELECT ${refilled} AS available FROM outbox_limits WHERE bucket = ?`,
      [rate, rate, bucket],
    );
    const available = Math.floor(Number(rows[0]?.available ?? 0));
    if (available >= 1 && (await take(Math.min(available, wanted))) > 0) return Math.min(available, wanted);
    return 0;
  }

  /** Gives back tokens taken for sends that did not happen (a claim found fewer due rows). */
  async giveBack(bucket: string, n: number): Promise<void> {
    if (n <= 0) return;
    const manager = this.deps.dataSource.manager;
    const least = isMysqlManager(manager) ? 'LEAST' : 'MIN';
    await manager.query(`UPDATE outbox_limits SET tokens = ${least}(?, tokens + ?) WHERE bucket = ?`, [
      this.deps.rateOf(bucket),
      n,
      bucket,
    ]);
  }

  /** How long until one token is there, for a sender that found the bucket empty. */
  msPerToken(bucket: string): number {
    return Math.ceil(1000 / this.deps.rateOf(bucket));
  }

  /** The bucket's tokens now: stored + elapsed × rate, at most one second's worth (2 parameters: rate, rate). */
  private refilledSql(manager: EntityManager): string {
    const elapsed = isMysqlManager(manager)
      ? 'GREATEST(0, TIMESTAMPDIFF(MICROSECOND, refilled_at, CURRENT_TIMESTAMP(3)) / 1000000)'
      : "MAX(0, (julianday('now') - julianday(refilled_at)) * 86400.0)";
    const least = isMysqlManager(manager) ? 'LEAST' : 'MIN';
    return `${least}(?, tokens + ${elapsed} * ?)`;
  }

  private async ensureRow(manager: EntityManager, bucket: string): Promise<void> {
    const now = toSqlDate(this.deps.clock.now());
    const conflict = isMysqlManager(manager) ? 'ON DUPLICATE KEY UPDATE bucket = bucket' : 'ON CONFLICT (bucket) DO NOTHING';
    await manager.query(
      `INSERT INTO outbox_limits (bucket, tokens, refilled_at, paused_until, pause_reason, updated_at) VALUES (?, ?, ${databaseNowSql(manager)}, NULL, NULL, ?) ${conflict}`,
      [bucket, this.deps.rateOf(bucket), now],
    );
  }
}

/** A bucket's rate from the configuration: `<account>/<channel>` first, then the channel's. */
export function rateOfBucket(rateLimits: Record<string, number>, bucket: string): number {
  const [account, channel] = bucket.split(':');
  return rateLimits[`${account}/${channel}`] ?? rateLimits[channel] ?? 1000;
}
