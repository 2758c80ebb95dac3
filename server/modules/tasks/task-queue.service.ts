import { DataSource, EntityManager, In } from 'typeorm';
import { Task, type TaskPayload } from '../../../entities/task.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import {
  type Claim,
  type ClaimMethod,
  type ClaimParams as LeaseClaimParams,
  type FailOutcome,
  LeaseQueue,
  type Statement,
} from '../../db/lease-queue';
import { isUniqueViolation } from '../../db/errors';
import { fromSqlDate, toSqlDate } from '../../db/sql';

/** What a handler says about one task of its batch. */
export type TaskResult = { id: number; ok: true } | { id: number; ok: false; error: string; retryable: boolean };

/** Handles one batch of tasks of one kind; returns one result per task. */
export type TaskHandler = (tasks: Task[]) => Promise<TaskResult[]>;

export interface TaskQueueParams {
  dataSource: DataSource;
  clock: Clock;
  /** This instance's id; claim tokens start with it, so a stuck lease names its owner. */
  holder: string;
  logger: Logger;
  /**
   * How long a claim lasts without renewal; after that the task is taken to be from a crashed
   * worker. A live worker renews it every leaseMs / 3 while its handler runs.
   */
  leaseMs?: number;
  /** Failed attempts (an expired lease counts as one) before a retryable failure becomes final. */
  maxAttempts?: number;
  /** Unset: the server's (LeaseQueue). `guarded-update` forces the portable claim (the bench measures both). */
  claimMethod?: ClaimMethod;
}

export interface EnqueueParams {
  kind: string;
  /** Natural key of the work: enqueueing the same key again is a no-op, so callers may repeat. */
  dedupeKey: string;
  payload: TaskPayload;
  /** Not before this time; now when absent. */
  runAt?: Date;
  /** The caller's transaction, so the task commits (or rolls back) with the change behind it. */
  manager?: EntityManager;
  /** What the task is about (`oa_tag:12`), so a screen can show that subject's sync state. */
  subject?: string;
}

export interface ClaimParams {
  kinds: string[];
  limit: number;
}

export interface RunOnceParams {
  handlers: Record<string, TaskHandler>;
  /** Most tasks handed to one handler call (and claimed per kind per round). */
  batchSize?: number;
}

export interface RunOnceOutcome {
  done: number;
  retried: number;
  failed: number;
}

/** How `fail` left the task; `not-held` means the lease was lost to another worker first. */
export type { FailOutcome };

/** Tasks one claim took, with the claim whose token every later write of them carries. */
export interface ClaimedTasks {
  claim: Claim;
  tasks: Task[];
}

const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_MAX_ATTEMPTS = 8;
const DEFAULT_BATCH_SIZE = 50;
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_CAP_MS = 60 * 60_000;
// Column widths of `tasks`: MySQL rejects longer values while SQLite stores them, so check here
// to keep the two databases behaving alike.
const MAX_KIND_LENGTH = 48;
const MAX_DEDUPE_KEY_LENGTH = 191;

/**
 * A durable, retrying work queue in the `tasks` table, shared by every server instance.
 *
 * Claims go through the project's one lease protocol (LeaseQueue, server/db/lease-queue.ts),
 * which writes a claim token and a deadline (on the database's clock); a claimed task stays
 * `pending` under its lease, and if its holder dies the task becomes claimable again once the
 * lease runs out. A claim of one kind reads the (status, kind, run_at) index in order. Completing or failing a task is guarded by the claim token, so a worker whose lease was
 * taken over cannot overwrite the new holder's outcome. Attempts count failures (an expired
 * lease is one), not claims; retryable failures back off 30 s, doubling, at most an hour.
 *
 * Delivery is at least once (a worker can crash after the API call, before `complete`), so
 * handlers must tolerate repeats; WeChat's tagging calls are idempotent.
 */
export class TaskQueue {
  /** The lease queue on `tasks`; the failed-work admin re-drives through it. */
  readonly leases: LeaseQueue;
  private readonly dataSource: DataSource;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private stopped = false;

  constructor(params: TaskQueueParams) {
    this.dataSource = params.dataSource;
    this.clock = params.clock;
    this.logger = params.logger;
    this.leases = new LeaseQueue({
      dataSource: params.dataSource,
      clock: params.clock,
      holder: params.holder,
      table: 'tasks',
      dueColumn: 'run_at',
      leaseMs: params.leaseMs ?? DEFAULT_LEASE_MS,
      maxAttempts: params.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      backoffMs: computeBackoffMs,
      claimMethod: params.claimMethod,
    });
  }

  /** Inserts the task unless one with the same dedupe key exists; false when it already did. */
  async enqueue(params: EnqueueParams): Promise<boolean> {
    if (!params.kind || params.kind.length > MAX_KIND_LENGTH)
      throw new Error(`Task kind must be 1-${MAX_KIND_LENGTH} characters: "${params.kind}"`);
    if (!params.dedupeKey || params.dedupeKey.length > MAX_DEDUPE_KEY_LENGTH) {
      throw new Error(`Task dedupe key must be 1-${MAX_DEDUPE_KEY_LENGTH} characters: "${params.dedupeKey}"`);
    }
    const now = this.clock.now();
    const row: Omit<Task, 'id'> = {
      kind: params.kind,
      dedupeKey: params.dedupeKey,
      payload: params.payload,
      status: 'pending',
      attempts: 0,
      runAt: params.runAt ?? now,
      leaseHolder: null,
      leaseUntil: null,
      lastError: null,
      subject: params.subject?.slice(0, 64) ?? null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      // A plain INSERT and a caught duplicate rather than INSERT IGNORE: MySQL's IGNORE also
      // swallows truncation and other errors, and SQLite's OR IGNORE skips NOT NULL failures.
      // A failed statement leaves the caller's transaction usable on both databases.
      await (params.manager ?? this.dataSource.manager).insert(Task, row);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /**
   * Leases up to `limit` due tasks of the given kinds, oldest due first; null when none was free.
   * A task whose previous lease expired gets that attempt counted, and one that was already on
   * its last attempt is failed instead of run again, so a task that kills its worker cannot loop.
   */
  async claim(params: ClaimParams): Promise<ClaimedTasks | null> {
    if (this.stopped || params.kinds.length === 0 || params.limit < 1) return null;
    const claim = await this.leases.claim(toLeaseClaim(params));
    if (!claim) return null;
    const order = new Map(claim.ids.map((id, index) => [id, index]));
    const tasks = await this.dataSource.getRepository(Task).findBy({ id: In(claim.ids) });
    return { claim, tasks: tasks.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0)) };
  }

  /** At shutdown: no new claims; batches already claimed run to their outcome (the jobs wait for them). */
  stop(): void {
    this.stopped = true;
  }

  /** The SELECT a claim of these kinds runs, as it runs it: for EXPLAIN in tests and the bench. */
  async claimStatement(params: ClaimParams): Promise<Statement> {
    return this.leases.candidateStatement(toLeaseClaim(params), await this.leases.claimMethod());
  }

  /** Marks tasks of the claim done; returns how many it still held (the rest were taken over). */
  async complete(claim: Claim, ids: number[]): Promise<number> {
    return this.leases.complete(claim, ids);
  }

  /**
   * Records a failed attempt. Retryable (the default): back to pending after the backoff, until
   * the attempts are used up; then, or when not retryable, `failed` for good.
   */
  async fail(claim: Claim, id: number, error: string, params: { retryable?: boolean } = {}): Promise<FailOutcome> {
    return this.leases.fail({ claim, id, error, retryable: params.retryable });
  }

  /**
   * One round: per handled kind, claims up to `batchSize` due tasks, hands them to the handler
   * as one batch (so it can use WeChat's batch APIs), and applies each result. A handler that
   * throws, or says nothing about a task, leaves it to be retried. While the handler runs (it
   * calls the platforms and may be slow), the lease is renewed every leaseMs / 3.
   */
  async runOnce(params: RunOnceParams): Promise<RunOnceOutcome> {
    const batchSize = params.batchSize ?? DEFAULT_BATCH_SIZE;
    const outcome: RunOnceOutcome = { done: 0, retried: 0, failed: 0 };
    for (const [kind, handler] of Object.entries(params.handlers)) {
      const claimed = await this.claim({ kinds: [kind], limit: batchSize });
      if (!claimed) continue;
      const { claim, tasks } = claimed;
      const results = await this.withRenewal(kind, claim, () => this.callHandler(kind, handler, tasks));
      const done: number[] = [];
      for (const task of tasks) {
        const result = results.get(task.id) ?? {
          id: task.id,
          ok: false,
          error: 'handler returned no result for this task',
          retryable: true,
        };
        if (result.ok) {
          done.push(task.id);
          continue;
        }
        const failed = await this.fail(claim, task.id, result.error, { retryable: result.retryable });
        if (failed === 'not-held') this.logger.warn('task lease lost before its failure was recorded', { kind, taskId: task.id });
        else outcome[failed === 'retried' ? 'retried' : 'failed'] += 1;
      }
      const completed = await this.complete(claim, done);
      if (completed < done.length)
        this.logger.warn('task leases lost before completion was recorded', { kind, lost: done.length - completed });
      outcome.done += completed;
    }
    return outcome;
  }

  /** The earliest run_at after `after` of a pending task (the sandbox clock steps to it). */
  async nextDueAt(after: Date): Promise<Date | null> {
    const [row]: { due: unknown }[] = await this.dataSource.query(
      "SELECT MIN(run_at) AS due FROM tasks WHERE status = 'pending' AND run_at > ?",
      [toSqlDate(after)],
    );
    if (!row?.due) return null;
    return fromSqlDate(row.due);
  }

  /**
   * Deletes done tasks that were due before `olderThan`; failed ones stay for inspection. Kind by
   * kind, so each DELETE is one range of (status, kind, run_at) and locks nothing past it: the
   * done tasks workers are adding meanwhile (recent run_at) are not in it.
   */
  async pruneDone(olderThan: Date): Promise<number> {
    const kinds = await this.dataSource.query<{ kind: string }[]>("SELECT DISTINCT kind FROM tasks WHERE status = 'done'");
    let pruned = 0;
    for (const { kind } of kinds) pruned += await this.leases.pruneDone(olderThan, { sql: 'kind = ?', params: [kind] });
    return pruned;
  }

  /** Runs `work` while a timer renews the claim's lease every leaseMs / 3. */
  private async withRenewal<T>(kind: string, claim: Claim, work: () => Promise<T>): Promise<T> {
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(
      () => {
        renewing = renewing.then(() => this.renew(kind, claim));
      },
      Math.max(1, Math.floor(this.leases.leaseMs / 3)),
    );
    try {
      return await work();
    } finally {
      clearInterval(timer);
      // A renewal still in flight must not land after the outcome is written.
      await renewing;
    }
  }

  /** One renewal; a failure is logged (the next tick tries again), never thrown into a timer. */
  private async renew(kind: string, claim: Claim): Promise<void> {
    try {
      const held = await this.leases.renew(claim);
      if (held < claim.ids.length) this.logger.warn('task leases lost while the handler ran', { kind, lost: claim.ids.length - held });
    } catch (error) {
      this.logger.error('could not renew task leases', { kind, error });
    }
  }

  private async callHandler(kind: string, handler: TaskHandler, tasks: Task[]): Promise<Map<number, TaskResult>> {
    const results = new Map<number, TaskResult>();
    let returned: TaskResult[];
    try {
      returned = await handler(tasks);
    } catch (error) {
      this.logger.error('task handler threw; retrying its batch', { kind, tasks: tasks.length, error });
      const text = error instanceof Error ? error.message || error.name : String(error);
      for (const task of tasks) results.set(task.id, { id: task.id, ok: false, error: text, retryable: true });
      return results;
    }
    const ids = new Set(tasks.map((task) => task.id));
    for (const result of returned) {
      if (!ids.has(result.id)) this.logger.warn('task handler returned a result for a task not in its batch', { kind, taskId: result.id });
      else if (!results.has(result.id)) results.set(result.id, result);
    }
    return results;
  }
}

/** Tasks of the given kinds: one kind reads the (status, kind, run_at) index in due order. */
function toLeaseClaim(params: ClaimParams): LeaseClaimParams {
  return { limit: params.limit, where: { sql: `kind IN (${params.kinds.map(() => '?').join(',')})`, params: params.kinds } };
}

/** 30 s after the first failed attempt, doubling each time, at most an hour. */
export function computeBackoffMs(attempts: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_CAP_MS);
}
