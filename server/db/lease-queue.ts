import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../adapters/clock';
import { executeCountingRows, isMysqlManager, placeholders, toSqlDate } from './sql';
import { isTransientConflict } from './errors';

/**
 * The one lease protocol of Flywheel: the work rows behind interactions, the task queue, and what
 * comes (the outbox, journey runs) claim their rows with it; platform tokens and locks take a
 * single row's lease with `takeRowLease`.
 *
 * A claim writes a fresh claim token (the holder plus random bytes) into `lease_holder` and a
 * deadline into `lease_until` on rows that are due and not under a live lease, oldest due first.
 * On MySQL 8 and MariaDB 10.6+ it is one short READ COMMITTED transaction: `SELECT ... FOR UPDATE
 * SKIP LOCKED` picks the rows (two instances claiming at once take different rows instead of
 * racing for the same oldest ones), then an UPDATE by primary key leases them. SQLite (one writer)
 * and TiDB (no SKIP LOCKED) claim with a guarded UPDATE of the candidates, which matches only rows
 * still free, so of two racing claimers one takes a row; the claimer then reads back, by id, which
 * candidates it got. A claimed row stays `pending`: only unindexed lease columns change, and
 * candidates are read in the (status, [kind,] due) index order, so a claim costs the same with a
 * backlog of a million rows as with ten.
 *
 * Lease deadlines are on the database's clock (`CURRENT_TIMESTAMP(3)`, SQLite's 'now'), never an
 * instance's: an instance whose clock runs ahead would take live leases from the others, and in
 * sandbox mode the business clock (OffsetClock) skips days ahead. Due times stay on the business
 * clock, so a skip makes work due but never takes a live lease from its holder.
 *
 * Every later write (complete, fail, renew, reschedule) is guarded by the token: a worker whose
 * lease expired and was taken over cannot overwrite the new holder's outcome.
 *
 * Attempts count failures, not claims. A lease that expires without an outcome (its worker died
 * or hung) is a failure too: the next claim counts it, and a row that keeps killing its worker
 * ends `failed` after `maxAttempts` instead of looping. Failed rows stay visible and are re-driven
 * by `redrive`.
 *
 * Tables using it have: `id` int, `status` ('pending' | 'done' | 'failed'), `attempts` int, the
 * due column (`next_attempt_at` or `run_at`), `lease_holder` varchar(64), `lease_until`,
 * `last_error` varchar(1024), `updated_at`; and an index on (status, due column), or on (status,
 * column of the claim's `where`, due column) when claims filter on that column.
 */

export type { LeaseStatus } from '../../entities/leased-row';

/** The rows one claim took, and the token every later write of them must carry. */
export interface Claim {
  token: string;
  ids: number[];
}

export type FailOutcome = 'retried' | 'failed' | 'not-held';

/** How claims pick their rows; see the class comment. */
export type ClaimMethod = 'skip-locked' | 'guarded-update';

export interface LeaseQueueParams {
  dataSource: DataSource;
  /** The business clock: due times and backoffs. Lease deadlines use the database's clock. */
  clock: Clock;
  /** This instance's id; claim tokens start with it, so a stuck lease names its owner. */
  holder: string;
  table: string;
  /** The column holding when a row is next due. */
  dueColumn?: string;
  leaseMs?: number;
  /** Failed attempts after which a retryable failure becomes final. */
  maxAttempts?: number;
  /** Delay before the next attempt, from the number of failed attempts so far (1, 2, ...). */
  backoffMs?: (attempts: number) => number;
  /**
   * Unset: asked of the server once per DataSource (`claimMethodFor`). `guarded-update` forces the
   * portable claim, for a MySQL-protocol server that refuses SKIP LOCKED without saying so in its
   * version (and for tests of that path on MariaDB).
   */
  claimMethod?: ClaimMethod;
}

export interface ClaimParams {
  limit: number;
  /** An extra condition on the rows (column names of the table), e.g. `kind IN (?, ?)`. */
  where?: { sql: string; params: unknown[] };
}

export interface FailParams {
  claim: Claim;
  id: number;
  error: string;
  /** False: fail for good now (a limit reached, a malformed row). Default true. */
  retryable?: boolean;
  /** The caller's transaction, when the failure must commit with other writes. */
  manager?: EntityManager;
}

/** A statement as a claim runs it, for EXPLAIN (tests, the bench). */
export interface Statement {
  sql: string;
  params: unknown[];
}

const MAX_ERROR_LENGTH = 1024;
const DEFAULT_LEASE_MS = 15_000;
const DEFAULT_MAX_ATTEMPTS = 10;
/** Tries of a token-guarded write that InnoDB picked as a deadlock's victim. */
const GUARDED_WRITE_TRIES = 5;
const EXPIRED_ON_LAST_ATTEMPT = 'the lease expired on the last attempt (the worker probably crashed)';

/** 5 s after the first failure, doubling, at most 10 minutes. */
export function defaultBackoffMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 600_000);
}

/**
 * The database's current time as SQL, in the shape lease_until is stored in: UTC on both (every
 * pooled MySQL connection runs `SET time_zone = '+00:00'`; SQLite's 'now' is UTC), datetime(3)
 * text `YYYY-MM-DD HH:MM:SS.SSS` on SQLite.
 */
export function databaseNowSql(manager: EntityManager): string {
  return isMysqlManager(manager) ? 'CURRENT_TIMESTAMP(3)' : "strftime('%Y-%m-%d %H:%M:%f', 'now')";
}

/** The database's time `ms` from now (negative: ago), as SQL with its one parameter. */
export function databaseTimeFromNow(manager: EntityManager, ms: number): Statement {
  if (!Number.isFinite(ms)) throw new RangeError('a lease duration must be a finite number of milliseconds');
  const whole = Math.round(ms);
  if (isMysqlManager(manager)) return { sql: 'CURRENT_TIMESTAMP(3) + INTERVAL ? MICROSECOND', params: [whole * 1000] };
  const seconds = `${whole < 0 ? '-' : '+'}${(Math.abs(whole) / 1000).toFixed(3)} seconds`;
  return { sql: "strftime('%Y-%m-%d %H:%M:%f', 'now', ?)", params: [seconds] };
}

/**
 * Whether a server (its `SELECT VERSION()`) has `SELECT ... FOR UPDATE SKIP LOCKED`: MySQL from
 * 8.0.1, MariaDB from 10.6; TiDB (`8.0.11-TiDB-v7.5.1`) does not, whatever its MySQL version says.
 */
export function versionHasSkipLocked(version: string): boolean {
  if (/tidb/i.test(version)) return false;
  const mariadb = /(\d+)\.(\d+)\.(\d+)-mariadb/i.exec(version);
  if (mariadb) return atLeast(mariadb, [10, 6, 0]);
  const mysql = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return mysql !== null && atLeast(mysql, [8, 0, 1]);
}

function atLeast(match: RegExpExecArray, minimum: [number, number, number]): boolean {
  for (let i = 0; i < 3; i += 1) {
    const part = Number(match[i + 1]);
    if (part !== minimum[i]) return part > minimum[i];
  }
  return true;
}

const claimMethods = new WeakMap<DataSource, Promise<ClaimMethod>>();

/** The claim method of this DataSource's server, asked once (SQLite: the guarded UPDATE). */
export function claimMethodFor(dataSource: DataSource): Promise<ClaimMethod> {
  let method = claimMethods.get(dataSource);
  if (!method) {
    method = isMysqlManager(dataSource.manager)
      ? dataSource.query('SELECT VERSION() AS version').then((rows: { version?: unknown }[]): ClaimMethod => {
          const version = rows[0]?.version;
          return typeof version === 'string' && versionHasSkipLocked(version) ? 'skip-locked' : 'guarded-update';
        })
      : Promise.resolve('guarded-update');
    // A failed query (the server was down) is asked again by the next claim, not remembered.
    method.catch(() => claimMethods.delete(dataSource));
    claimMethods.set(dataSource, method);
  }
  return method;
}

interface Candidate {
  id: number;
  /** The row still carries a holder: its last lease expired without an outcome. */
  expired: boolean;
  attempts: number;
}

export class LeaseQueue {
  readonly table: string;
  readonly leaseMs: number;
  readonly maxAttempts: number;
  private readonly due: string;
  private readonly backoffMs: (attempts: number) => number;

  constructor(private readonly p: LeaseQueueParams) {
    if (!/^[a-z_]+$/.test(p.table) || (p.dueColumn !== undefined && !/^[a-z_]+$/.test(p.dueColumn)))
      throw new Error(`bad lease table or column: ${p.table}`);
    this.table = p.table;
    this.due = p.dueColumn ?? 'next_attempt_at';
    this.leaseMs = p.leaseMs ?? DEFAULT_LEASE_MS;
    this.maxAttempts = p.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.backoffMs = p.backoffMs ?? defaultBackoffMs;
    if (!(this.leaseMs > 0)) throw new Error('leaseMs must be positive');
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) throw new Error('maxAttempts must be a positive integer');
  }

  /** How this queue's claims pick their rows (asked of the server once per DataSource). */
  async claimMethod(): Promise<ClaimMethod> {
    return this.p.claimMethod ?? claimMethodFor(this.p.dataSource);
  }

  /**
   * Leases up to `limit` due rows, oldest due first; null when none was free. Rows whose previous
   * lease expired get that attempt counted; those already at `maxAttempts` are failed instead.
   */
  async claim(params: ClaimParams): Promise<Claim | null> {
    // Most claims of a quiet queue find nothing (the jobs poll every few seconds, all at once):
    // one plain read then, not the claim's transaction and its isolation level (four statements).
    const due = this.dueCondition(params);
    const found: unknown[] = await this.p.dataSource.query(`SELECT 1 FROM ${this.table} WHERE ${due.sql} LIMIT 1`, due.params);
    if (found.length === 0) return null;
    const token = `${this.p.holder.slice(0, 48)}#${randomBytes(6).toString('hex')}`;
    const ids =
      (await this.claimMethod()) === 'skip-locked'
        ? await this.claimSkippingLocked(params, token)
        : await this.claimByGuardedUpdate(params, token);
    return ids.length > 0 ? { token, ids } : null;
  }

  /**
   * The SELECT that finds a claim's candidates, as the claim runs it (with `FOR UPDATE SKIP
   * LOCKED` on the skip-locked method); public for EXPLAIN in tests and the bench.
   */
  candidateStatement(params: ClaimParams, method: ClaimMethod): Statement {
    const limit = Math.max(1, Math.floor(params.limit));
    const lock = method === 'skip-locked' ? ' FOR UPDATE SKIP LOCKED' : '';
    const due = this.dueCondition(params);
    return {
      sql: `SELECT id, attempts, CASE WHEN lease_holder IS NULL THEN 0 ELSE 1 END AS expired FROM ${this.table} WHERE ${due.sql} ORDER BY ${this.due}, id LIMIT ${limit}${lock}`,
      params: due.params,
    };
  }

  /** How the guarded-update method learns which candidates it got: by primary key, never by token alone. */
  readBackStatement(token: string, ids: number[]): Statement {
    return { sql: `SELECT id FROM ${this.table} WHERE id IN (${placeholders(ids.length)}) AND lease_holder = ?`, params: [...ids, token] };
  }

  /** Extends the lease of the rows this claim still holds; returns how many it still holds. */
  async renew(claim: Claim): Promise<number> {
    if (claim.ids.length === 0) return 0;
    const manager = this.p.dataSource.manager;
    const until = databaseTimeFromNow(manager, this.leaseMs);
    return this.guardedWrite(
      manager,
      `UPDATE ${this.table} SET lease_until = ${until.sql} WHERE lease_holder = ? AND status = 'pending' AND id IN (${placeholders(claim.ids.length)})`,
      [...until.params, claim.token, ...claim.ids],
    );
  }

  /**
   * Marks rows of the claim done, in the caller's transaction when it passes one; returns how many
   * it still held. The caller rolls back when that is fewer than it asked for, if its writes must
   * not commit twice.
   */
  async complete(claim: Claim, ids: number[], manager: EntityManager = this.p.dataSource.manager): Promise<number> {
    if (ids.length === 0) return 0;
    const now = toSqlDate(this.p.clock.now());
    return this.guardedWrite(
      manager,
      `UPDATE ${this.table} SET status = 'done', lease_holder = NULL, lease_until = NULL, last_error = NULL, updated_at = ? WHERE lease_holder = ? AND id IN (${placeholders(ids.length)})`,
      [now, claim.token, ...ids],
    );
  }

  /**
   * A write guarded by the claim token. Outside a caller's transaction it is its own statement, and
   * InnoDB may pick it as a deadlock's victim against a claimer (the claim locks the primary key,
   * then the lease_holder index; a completion found through that index locks them the other way
   * round, seen with eight claimers). The statement was undone whole and the token still guards
   * it, so it is run again. Inside a transaction the caller's whole unit was rolled back, and its
   * own retry (TransactionRunner.runRetrying) runs it again.
   */
  private async guardedWrite(manager: EntityManager, sql: string, params: unknown[]): Promise<number> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await executeCountingRows(manager, sql, params);
      } catch (error) {
        if (manager.queryRunner?.isTransactionActive || attempt >= GUARDED_WRITE_TRIES || !isTransientConflict(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  /** Records a failed attempt: back to pending after the backoff, or `failed` for good. */
  async fail(params: FailParams): Promise<FailOutcome> {
    const manager = params.manager ?? this.p.dataSource.manager;
    const rows: { attempts: number | string }[] = await manager.query(
      `SELECT attempts FROM ${this.table} WHERE id = ? AND lease_holder = ?`,
      [params.id, params.claim.token],
    );
    if (rows.length === 0) return 'not-held';
    const attempts = Number(rows[0].attempts) + 1;
    const retry = (params.retryable ?? true) && attempts < this.maxAttempts;
    const now = this.p.clock.now();
    const changed = await this.guardedWrite(
      manager,
      `UPDATE ${this.table} SET status = ?, attempts = ?, ${this.due} = ?, lease_holder = NULL, lease_until = NULL, last_error = ?, updated_at = ? WHERE id = ? AND lease_holder = ?`,
      [
        retry ? 'pending' : 'failed',
        attempts,
        toSqlDate(retry ? new Date(now.getTime() + this.backoffMs(attempts)) : now),
        truncateError(params.error),
        toSqlDate(now),
        params.id,
        params.claim.token,
      ],
    );
    if (changed === 0) return 'not-held';
    return retry ? 'retried' : 'failed';
  }

  /**
   * Gives a row of the claim back, pending and due at `at` (business time), without counting a
   * failure: work that is not the row's fault (a rate limit, a shutdown, a wait for another row).
   * False when the claim no longer held it.
   */
  async reschedule(claim: Claim, id: number, at: Date, manager: EntityManager = this.p.dataSource.manager): Promise<boolean> {
    const changed = await this.guardedWrite(
      manager,
      `UPDATE ${this.table} SET ${this.due} = ?, lease_holder = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND lease_holder = ? AND status = 'pending'`,
      [toSqlDate(at), toSqlDate(this.p.clock.now()), id, claim.token],
    );
    return changed > 0;
  }

  /** Failed rows become pending again, due now, with their attempts reset; returns how many. */
  async redrive(ids: number[], manager: EntityManager = this.p.dataSource.manager): Promise<number> {
    if (ids.length === 0) return 0;
    const now = toSqlDate(this.p.clock.now());
    return executeCountingRows(
      manager,
      `UPDATE ${this.table} SET status = 'pending', attempts = 0, ${this.due} = ?, lease_holder = NULL, lease_until = NULL, updated_at = ? WHERE status = 'failed' AND id IN (${placeholders(ids.length)})`,
      [now, now, ...ids],
    );
  }

  /**
   * Deletes done rows due before `olderThan`, of those matching `where` if given: one range of the
   * (status, due) index, or of (status, where column, due) with an equality on that column.
   */
  async pruneDone(olderThan: Date, where?: { sql: string; params: unknown[] }): Promise<number> {
    return executeCountingRows(
      this.p.dataSource.manager,
      `DELETE FROM ${this.table} WHERE status = 'done'${where ? ` AND (${where.sql})` : ''} AND ${this.due} < ?`,
      [...(where?.params ?? []), toSqlDate(olderThan)],
    );
  }

  /** Due (business clock), pending, and under no live lease (database clock). */
  private dueCondition(params: ClaimParams): Statement {
    const extra = params.where ? ` AND (${params.where.sql})` : '';
    return {
      sql: `status = 'pending' AND ${this.due} <= ? AND (lease_until IS NULL OR lease_until < ${databaseNowSql(this.p.dataSource.manager)})${extra}`,
      params: [toSqlDate(this.p.clock.now()), ...(params.where?.params ?? [])],
    };
  }

  /**
   * One short transaction: lock the candidates no other claim holds (SKIP LOCKED), lease them,
   * commit. READ COMMITTED, so the locking read takes no gap locks: under REPEATABLE READ it would
   * lock the gap after the last due row, and every INSERT of a new due row (a callback's work row)
   * would wait for the claim to commit.
   */
  private async claimSkippingLocked(params: ClaimParams, token: string): Promise<number[]> {
    return this.p.dataSource.transaction('READ COMMITTED', async (m) => {
      const select = this.candidateStatement(params, 'skip-locked');
      const candidates = toCandidates(await m.query(select.sql, select.params));
      if (candidates.length === 0) return [];
      const exhausted = candidates.filter((c) => this.isExhausted(c)).map((c) => c.id);
      const ids = candidates.filter((c) => !this.isExhausted(c)).map((c) => c.id);
      if (exhausted.length > 0) await this.failExhausted(m, exhausted, false);
      if (ids.length > 0) {
        // The rows are locked by this transaction and matched the due condition when locked.
        const until = databaseTimeFromNow(m, this.leaseMs);
        await m.query(
          `UPDATE ${this.table} SET attempts = attempts + CASE WHEN lease_holder IS NULL THEN 0 ELSE 1 END, lease_holder = ?, lease_until = ${until.sql}, updated_at = ?
            WHERE id IN (${placeholders(ids.length)})`,
          [token, ...until.params, toSqlDate(this.p.clock.now()), ...ids],
        );
      }
      return ids;
    });
  }

  /**
   * Without SKIP LOCKED: read candidates, then lease those still free with one guarded UPDATE; a
   * concurrent claimer that got there first leaves this one the rest (or nothing). The rows this
   * claim got are read back by primary key when it did not get them all.
   */
  private async claimByGuardedUpdate(params: ClaimParams, token: string): Promise<number[]> {
    const manager = this.p.dataSource.manager;
    const select = this.candidateStatement(params, 'guarded-update');
    const candidates = toCandidates(await manager.query(select.sql, select.params));
    if (candidates.length === 0) return [];
    const ids = candidates.map((c) => c.id);
    if (candidates.some((c) => this.isExhausted(c))) await this.failExhausted(manager, ids, true);

    const due = this.dueCondition(params);
    const until = databaseTimeFromNow(manager, this.leaseMs);
    // A row still carrying a holder lost its last lease without an outcome: that was a failure.
    let claimed: number;
    try {
      claimed = await executeCountingRows(
        manager,
        `UPDATE ${this.table} SET attempts = attempts + CASE WHEN lease_holder IS NULL THEN 0 ELSE 1 END, lease_holder = ?, lease_until = ${until.sql}, updated_at = ?
          WHERE id IN (${placeholders(ids.length)}) AND ${due.sql}`,
        [token, ...until.params, toSqlDate(this.p.clock.now()), ...ids, ...due.params],
      );
    } catch (error) {
      // InnoDB chose this UPDATE as a deadlock's victim against another claimer or a completion
      // (seen with eight claimers on one table): the statement was undone whole, so nothing was
      // leased. That is a lost race, like a guarded UPDATE that finds its rows taken.
      if (isTransientConflict(error)) return [];
      throw error;
    }
    if (claimed === 0) return [];
    if (claimed === ids.length) return ids;
    const readBack = this.readBackStatement(token, ids);
    const rows = await manager.query<{ id: number | string }[]>(readBack.sql, readBack.params);
    const got = new Set(rows.map((r) => Number(r.id)));
    return ids.filter((id) => got.has(id));
  }

  private isExhausted(c: Candidate): boolean {
    return c.expired && c.attempts + 1 >= this.maxAttempts;
  }

  /**
   * Candidates whose expired lease was their last allowed attempt: failed now, not run again.
   * `recheck`: the rows are not locked by the caller, so the condition is checked again.
   */
  private async failExhausted(manager: EntityManager, ids: number[], recheck: boolean): Promise<void> {
    const guard = recheck
      ? ` AND status = 'pending' AND lease_holder IS NOT NULL AND lease_until < ${databaseNowSql(manager)} AND attempts + 1 >= ?`
      : '';
    await manager.query(
      `UPDATE ${this.table} SET status = 'failed', attempts = attempts + 1, lease_holder = NULL, lease_until = NULL, last_error = ?, updated_at = ?
        WHERE id IN (${placeholders(ids.length)})${guard}`,
      [EXPIRED_ON_LAST_ATTEMPT, toSqlDate(this.p.clock.now()), ...ids, ...(recheck ? [this.maxAttempts] : [])],
    );
  }
}

function toCandidates(rows: { id: number | string; attempts: number | string; expired: number | string }[]): Candidate[] {
  return rows.map((r) => ({ id: Number(r.id), attempts: Number(r.attempts), expired: Number(r.expired) === 1 }));
}

export interface RowLeaseParams {
  manager: EntityManager;
  table: string;
  /** The row: `key = ?`, `id = 1` ... */
  where: { sql: string; params: unknown[] };
  holder: string;
  /** How long the lease lasts, on the database's clock like every lease. */
  leaseMs: number;
}

/**
 * Takes the lease of one row (a token refresh, a lock) when nobody holds a live one: the same
 * guarded UPDATE as a claim, with the deadline on the database's clock. True when this caller
 * holds it now. Renewing is taking it again while holding it (`holder` matches), so a heartbeat
 * uses this too.
 */
export async function takeRowLease(p: RowLeaseParams): Promise<boolean> {
  if (!(p.leaseMs > 0)) throw new Error('leaseMs must be positive');
  const until = databaseTimeFromNow(p.manager, p.leaseMs);
  const changed = await executeCountingRows(
    p.manager,
    `UPDATE ${p.table} SET lease_holder = ?, lease_until = ${until.sql} WHERE (${p.where.sql}) AND (lease_holder = ? OR lease_until IS NULL OR lease_until < ${databaseNowSql(p.manager)})`,
    [p.holder, ...until.params, ...p.where.params, p.holder],
  );
  return changed > 0;
}

/** Ends a row lease this holder has; a lease taken over by another holder is left alone. */
export async function releaseRowLease(p: Omit<RowLeaseParams, 'leaseMs'>): Promise<void> {
  await p.manager.query(`UPDATE ${p.table} SET lease_holder = NULL, lease_until = NULL WHERE (${p.where.sql}) AND lease_holder = ?`, [
    ...p.where.params,
    p.holder,
  ]);
}

function truncateError(text: string): string {
  return Array.from(text).slice(0, MAX_ERROR_LENGTH).join('');
}
