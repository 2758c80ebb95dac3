import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../adapters/clock';
import { executeCountingRows, placeholders, toSqlDate } from './sql';

/**
 * The one lease protocol of Flywheel: the work rows behind interactions, the task queue, and what
 * comes (the outbox, journey runs) claim their rows with it; platform tokens and locks take a
 * single row's lease with `takeRowLease`.
 *
 * A claim is a guarded, batched UPDATE that writes a fresh claim token (the holder plus random
 * bytes) into `lease_holder` and a deadline into `lease_until`, matching only rows that are still
 * due and not under a live lease; so when instances race for a row, one UPDATE takes it. The
 * claimer then reads back the rows carrying its token. A claimed row stays `pending`: only
 * unindexed lease columns change, and candidates are read in the (status, due) index order, so a
 * claim costs the same with a backlog of a million rows as with ten.
 *
 * Every later write (complete, fail, renew, release) is guarded by the token: a worker whose lease
 * expired and was taken over cannot overwrite the new holder's outcome.
 *
 * Attempts count failures, not claims. A lease that expires without an outcome (its worker died
 * or hung) is a failure too: the next claim counts it, and a row that keeps killing its worker
 * ends `failed` after `maxAttempts` instead of looping. Failed rows stay visible and are re-driven
 * by `redrive`.
 *
 * Tables using it have: `id` int, `status` ('pending' | 'done' | 'failed'), `attempts` int, the
 * due column (`next_attempt_at` or `run_at`), `lease_holder` varchar(64), `lease_until`,
 * `last_error` varchar(1024), `updated_at`; and an index on (status, due column).
 */

export type { LeaseStatus } from '../../entities/leased-row';

/** The rows one claim took, and the token every later write of them must carry. */
export interface Claim {
  token: string;
  ids: number[];
}

export type FailOutcome = 'retried' | 'failed' | 'not-held';

export interface LeaseQueueParams {
  dataSource: DataSource;
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

const MAX_ERROR_LENGTH = 1024;
const DEFAULT_LEASE_MS = 15_000;
const DEFAULT_MAX_ATTEMPTS = 10;

/** 5 s after the first failure, doubling, at most 10 minutes. */
export function defaultBackoffMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 600_000);
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

  /**
   * Leases up to `limit` due rows, oldest due first; null when none was free. Rows whose previous
   * lease expired get that attempt counted; those already at `maxAttempts` are failed instead.
   */
  async claim(params: ClaimParams): Promise<Claim | null> {
    const manager = this.p.dataSource.manager;
    const now = toSqlDate(this.p.clock.now());
    const extra = params.where ? ` AND (${params.where.sql})` : '';
    const extraParams = params.where?.params ?? [];
    const due = `status = 'pending' AND ${this.due} <= ? AND (lease_until IS NULL OR lease_until < ?)`;
    const limit = Math.max(1, Math.floor(params.limit));
    const candidates: { id: number | string }[] = await manager.query(
      `SELECT id FROM ${this.table} WHERE ${due}${extra} ORDER BY ${this.due}, id LIMIT ${limit}`,
      [now, now, ...extraParams],
    );
    if (candidates.length === 0) return null;
    const ids = candidates.map((c) => Number(c.id));
    await this.failExhausted(ids, now);

    const token = `${this.p.holder.slice(0, 48)}#${randomBytes(6).toString('hex')}`;
    const until = toSqlDate(new Date(this.p.clock.now().getTime() + this.leaseMs));
    // A row still carrying a holder lost its last lease without an outcome: that was a failure.
    const claimed = await executeCountingRows(
      manager,
      `UPDATE ${this.table} SET attempts = attempts + CASE WHEN lease_holder IS NULL THEN 0 ELSE 1 END, lease_holder = ?, lease_until = ?, updated_at = ?
        WHERE id IN (${placeholders(ids.length)}) AND ${due}${extra}`,
      [token, until, now, ...ids, now, now, ...extraParams],
    );
    if (claimed === 0) return null;
    const rows: { id: number | string }[] = await manager.query(
      `SELECT id FROM ${this.table} WHERE lease_holder = ? ORDER BY ${this.due}, id`,
      [token],
    );
    return { token, ids: rows.map((r) => Number(r.id)) };
  }

  /** Extends the lease of the rows this claim still holds; returns how many it still holds. */
  async renew(claim: Claim): Promise<number> {
    if (claim.ids.length === 0) return 0;
    const until = toSqlDate(new Date(this.p.clock.now().getTime() + this.leaseMs));
    return executeCountingRows(
      this.p.dataSource.manager,
      `UPDATE ${this.table} SET lease_until = ? WHERE lease_holder = ? AND status = 'pending' AND id IN (${placeholders(claim.ids.length)})`,
      [until, claim.token, ...claim.ids],
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
    return executeCountingRows(
      manager,
      `UPDATE ${this.table} SET status = 'done', lease_holder = NULL, lease_until = NULL, last_error = NULL, updated_at = ? WHERE lease_holder = ? AND id IN (${placeholders(ids.length)})`,
      [now, claim.token, ...ids],
    );
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
    const changed = await executeCountingRows(
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

  /** Gives rows back unworked (shutdown), without counting an attempt. */
  async release(claim: Claim, ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.p.dataSource.manager.query(
      `UPDATE ${this.table} SET lease_holder = NULL, lease_until = NULL WHERE lease_holder = ? AND id IN (${placeholders(ids.length)})`,
      [claim.token, ...ids],
    );
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

  /** Deletes done rows due before `olderThan` (walks the (status, due) index). */
  async pruneDone(olderThan: Date): Promise<number> {
    return executeCountingRows(this.p.dataSource.manager, `DELETE FROM ${this.table} WHERE status = 'done' AND ${this.due} < ?`, [
      toSqlDate(olderThan),
    ]);
  }

  /** Candidates whose expired lease was their last allowed attempt: failed now, not run again. */
  private async failExhausted(ids: number[], now: string): Promise<void> {
    await this.p.dataSource.manager.query(
      `UPDATE ${this.table} SET status = 'failed', attempts = attempts + 1, lease_holder = NULL, lease_until = NULL, last_error = ?, updated_at = ?
        WHERE id IN (${placeholders(ids.length)}) AND status = 'pending' AND lease_holder IS NOT NULL AND lease_until < ? AND attempts + 1 >= ?`,
      ['the lease expired on the last attempt (the worker probably crashed)', now, ...ids, now, this.maxAttempts],
    );
  }
}

export interface RowLeaseParams {
  manager: EntityManager;
  table: string;
  /** The row: `key = ?`, `id = 1` ... */
  where: { sql: string; params: unknown[] };
  holder: string;
  until: Date;
  now: Date;
}

/**
 * Takes the lease of one row (a token refresh, a lock) when nobody holds a live one: the same
 * guarded UPDATE as a claim. True when this caller holds it now. Renewing is taking it again
 * while holding it (`holder` matches), so a heartbeat uses this too.
 */
export async function takeRowLease(p: RowLeaseParams): Promise<boolean> {
  const changed = await executeCountingRows(
    p.manager,
    `UPDATE ${p.table} SET lease_holder = ?, lease_until = ? WHERE (${p.where.sql}) AND (lease_holder = ? OR lease_until IS NULL OR lease_until < ?)`,
    [p.holder, toSqlDate(p.until), ...p.where.params, p.holder, toSqlDate(p.now)],
  );
  return changed > 0;
}

/** Ends a row lease this holder has; a lease taken over by another holder is left alone. */
export async function releaseRowLease(p: Omit<RowLeaseParams, 'until' | 'now'>): Promise<void> {
  await p.manager.query(`UPDATE ${p.table} SET lease_holder = NULL, lease_until = NULL WHERE (${p.where.sql}) AND lease_holder = ?`, [
    ...p.where.params,
    p.holder,
  ]);
}

function truncateError(text: string): string {
  return Array.from(text).slice(0, MAX_ERROR_LENGTH).join('');
}
