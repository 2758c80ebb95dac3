import { LessThan, type DataSource } from 'typeorm';
import { LoginThrottle } from '../../../entities/login-throttle.entity';
import type { Clock } from '../../adapters/clock';
import { fromSqlDate, isMysqlManager, toId, toSqlDate } from '../../db/sql';

/**
 * Per account: this many consecutive failures cost nothing; from then on each failure makes the
 * next attempt wait 1 s, 2 s, 4 s ... at most a minute. A stranger can slow the admin down by a
 * minute at worst, never lock them out; a guesser gets about 60 guesses an hour per account.
 */
export const ACCOUNT_FREE_FAILURES = 5;
export const ACCOUNT_BASE_DELAY_MS = 1_000;
export const ACCOUNT_MAX_DELAY_MS = 60_000;
/** Per client IP: this many failures in a window, then that IP waits for the window to end. */
export const IP_MAX_FAILURES = 20;
export const IP_WINDOW_MS = 15 * 60 * 1000;
/** Compare-and-set rounds before a request that keeps losing the race is simply told to wait. */
const MAX_RESERVE_ROUNDS = 10;
const CONTENDED_RETRY_MS = 1_000;

export type Reservation = { ok: true } | { ok: false; retryAfterMs: number };

type Counter = Pick<LoginThrottle, 'failures' | 'windowStartedAt' | 'blockedUntil'>;

/**
 * Whose failures an attempt counts against: the operator the username lookup found, or, when it
 * found none, the name as typed.
 */
export type ThrottledAccount = { operatorId: number } | { unknownUsername: string };

/**
 * An operator's count is keyed by their id, not by what was typed: on MariaDB/MySQL the lookup is
 * case- and accent-insensitive and ignores trailing spaces (`ADMIN`, `admín`, `admin ` all find
 * `admin`), so a key made from the typed name would give each spelling its own count, joined only
 * where throttle_key's collation happens to fold them the same way. An unknown name is folded
 * here (case, accents, compatibility forms, outer spaces), so that SQLite, whose lookup folds
 * nothing, does not hand out a fresh count per spelling either.
 */
export function accountThrottleKey(account: ThrottledAccount): string {
  if ('operatorId' in account) return `account:op:${account.operatorId}`;
  const folded = account.unknownUsername.normalize('NFKD').replace(/\p{M}/gu, '').trim().toLowerCase();
  // By code point, so the cut never leaves half a surrogate pair (NFKD may lengthen a name).
  return `account:name:${Array.from(folded).slice(0, 64).join('')}`;
}
export const ipThrottleKey = (ip: string): string => `ip:${ip.slice(0, 64)}`;

/**
 * The login throttle's counters in the database (login_throttles), so every server instance
 * shares them. An attempt is reserved, i.e. counted as a failure, BEFORE its password is
 * checked, with a compare-and-set on the row's version: parallel requests each have to win a
 * write, so once the limit is reached no further request gets to try its password. A success
 * then undoes its count (reset for the account, refund for the IP).
 */
export class LoginThrottleStore {
  constructor(private readonly deps: { dataSource: DataSource; clock: Clock }) {}

  reserveAccount(account: ThrottledAccount): Promise<Reservation> {
    return this.reserve(accountThrottleKey(account), (row, now) => {
      const failures = row.failures + 1;
      const over = failures - ACCOUNT_FREE_FAILURES;
      const blockedUntil =
        over >= 0 ? new Date(now.getTime() + Math.min(ACCOUNT_MAX_DELAY_MS, ACCOUNT_BASE_DELAY_MS * 2 ** Math.min(over, 16))) : null;
      return { failures, windowStartedAt: row.failures === 0 ? now : row.windowStartedAt, blockedUntil };
    });
  }

  reserveIp(ip: string): Promise<Reservation> {
    return this.reserveInWindow(ipThrottleKey(ip), { max: IP_MAX_FAILURES, windowMs: IP_WINDOW_MS });
  }

  /**
   * A fixed-window limit on any key: `max` attempts per `windowMs`, the last of them allowed and
   * the next refused until the window ends. The public exhibition API limits its callers per IP
   * and per phone with it (keys `events:…`, server/modules/exhibitions/registrations.service.ts), so
   * every instance shares the counts through login_throttles.
   */
  reserveInWindow(key: string, limit: { max: number; windowMs: number }): Promise<Reservation> {
    return this.reserve(key, (row, now) => {
      const expired = now.getTime() - row.windowStartedAt.getTime() >= limit.windowMs;
      const windowStartedAt = expired ? now : row.windowStartedAt;
      const failures = expired ? 1 : row.failures + 1;
      const blockedUntil = failures >= limit.max ? new Date(windowStartedAt.getTime() + limit.windowMs) : null;
      return { failures, windowStartedAt, blockedUntil };
    });
  }

  /**
   * The same fixed window as reserveInWindow, counted by one atomic upsert instead of a
   * compare-and-set: for keys every request of a busy API passes (the mini-program counts every
   * call per client IP, and a venue's Wi-Fi is one IP), where concurrent requests racing for one
   * row's version lose round after round (measured: 33 calls/s at 16 in flight, then 429s). The
   * row lock makes the increments take turns, and the statement answers the count it wrote
   * (MySQL through LAST_INSERT_ID(expr), which the OK packet carries; SQLite through RETURNING):
   * one round trip and one commit per call, the budget of an API answering hundreds a second.
   * Refused calls count too (the window's end does not move).
   */
  async countInWindow(key: string, limit: { max: number; windowMs: number }): Promise<Reservation> {
    const now = this.deps.clock.now();
    const expiredBefore = toSqlDate(new Date(now.getTime() - limit.windowMs));
    const at = toSqlDate(now);
    const manager = this.deps.dataSource.manager;
    // `failures` comes first and reads window_started_at before it changes: MySQL applies SET
    // left to right with the new values, SQLite with the old ones, so both agree.
    const failures = 'CASE WHEN window_started_at <= ? THEN 1 ELSE failures + 1 END';
    const rest =
      'window_started_at = CASE WHEN window_started_at <= ? THEN ? ELSE window_started_at END, version = version + 1, updated_at = ?';
    const insert = 'INSERT INTO login_throttles (throttle_key, failures, window_started_at, blocked_until, version, updated_at) ';
    const params = [key, at, at, expiredBefore, expiredBefore, at, at];
    let count: number;
    if (isMysqlManager(manager)) {
      const result: unknown = await manager.query(
        `${insert}VALUES (?, LAST_INSERT_ID(1), ?, NULL, 0, ?) ON DUPLICATE KEY UPDATE failures = LAST_INSERT_ID(${failures}), ${rest}`,
        params,
      );
      count = toId(typeof result === 'object' && result !== null && 'insertId' in result ? result.insertId : null);
    } else {
      const [row] = await manager.query<{ failures: number }[]>(
        `${insert}VALUES (?, 1, ?, NULL, 0, ?) ON CONFLICT (throttle_key) DO UPDATE SET failures = ${failures}, ${rest} RETURNING failures`,
        params,
      );
      count = Number(row?.failures);
    }
    if (count <= limit.max) return { ok: true };
    const [row] = await manager.query<{ window_started_at: unknown }[]>(
      'SELECT window_started_at FROM login_throttles WHERE throttle_key = ?',
      [key],
    );
    const windowStartedAt = row ? fromSqlDate(row.window_started_at).getTime() : now.getTime();
    return { ok: false, retryAfterMs: Math.max(1_000, windowStartedAt + limit.windowMs - now.getTime()) };
  }

  /** A successful login (or a new password): the operator's consecutive failures start again from zero. */
  async resetAccount(operatorId: number): Promise<void> {
    await this.deps.dataSource
      .createQueryBuilder()
      .update(LoginThrottle)
      .set({ failures: 0, blockedUntil: null, version: () => 'version + 1', updatedAt: this.deps.clock.now() })
      .where('throttle_key = :key', { key: accountThrottleKey({ operatorId }) })
      .execute();
  }

  /**
   * A successful login takes its reservation back from the IP, so an office behind one address
   * is limited by its wrong passwords, not by how many people sign in. The CASE comes first:
   * MySQL evaluates SET from left to right with the updated values, SQLite with the old ones.
   */
  async refundIp(ip: string): Promise<void> {
    await this.deps.dataSource.query(
      'UPDATE login_throttles SET blocked_until = CASE WHEN failures <= ? THEN NULL ELSE blocked_until END, failures = failures - 1, version = version + 1 WHERE throttle_key = ? AND failures > 0',
      [IP_MAX_FAILURES, ipThrottleKey(ip)],
    );
  }

  /** Housekeeping: counters untouched since `olderThan` (their blocks long over) are forgotten. */
  async prune(olderThan: Date): Promise<number> {
    const result = await this.deps.dataSource.manager.delete(LoginThrottle, { updatedAt: LessThan(olderThan) });
    return result.affected ?? 0;
  }

  private async reserve(key: string, next: (row: Counter, now: Date) => Counter): Promise<Reservation> {
    const repo = this.deps.dataSource.getRepository(LoginThrottle);
    for (let round = 0; round < MAX_RESERVE_ROUNDS; round += 1) {
      const now = this.deps.clock.now();
      const row = await repo.findOneBy({ throttleKey: key });
      if (!row) {
        // Two first attempts may race here; insert-or-ignore keeps one row, and both go round again.
        await repo
          .createQueryBuilder()
          .insert()
          .into(LoginThrottle)
          .values({ throttleKey: key, failures: 0, windowStartedAt: now, blockedUntil: null, version: 0, updatedAt: now })
          .orIgnore()
          .updateEntity(false)
          .execute();
        continue;
      }
      if (row.blockedUntil && row.blockedUntil.getTime() > now.getTime())
        return { ok: false, retryAfterMs: row.blockedUntil.getTime() - now.getTime() };
      const counted = next(row, now);
      const result = await repo
        .createQueryBuilder()
        .update()
        .set({ ...counted, version: row.version + 1, updatedAt: now })
        .where('throttle_key = :key AND version = :version', { key, version: row.version })
        .execute();
      if (result.affected === 1) return { ok: true };
      // Another attempt wrote first: read its count and decide again.
    }
    return { ok: false, retryAfterMs: CONTENDED_RETRY_MS };
  }
}
