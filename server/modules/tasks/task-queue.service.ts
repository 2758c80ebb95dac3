import { Brackets, DataSource, EntityManager, In, LessThan } from 'typeorm';
import { Task, type TaskPayload } from '../../../entities/task.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { isUniqueViolation } from '../../db/migrate';

/** What a handler says about one task of its batch. */
export type TaskResult = { id: number; ok: true } | { id: number; ok: false; error: string; retryable: boolean };

/** Handles one batch of tasks of one kind; returns one result per task. */
export type TaskHandler = (tasks: Task[]) => Promise<TaskResult[]>;

export interface TaskQueueParams {
  dataSource: DataSource;
  clock: Clock;
  /** This instance's id; a claimed task carries it so only its claimer can finish it. */
  holder: string;
  logger: Logger;
  /** How long a claim lasts; after that the task is taken to be from a crashed worker. */
  leaseMs?: number;
  /** Attempts (claims) before a retryable failure becomes final. */
  maxAttempts?: number;
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

export interface DrainParams extends RunOnceParams {
  /** Upper bound on rounds, so a handler that keeps producing due work cannot spin forever. */
  maxRounds?: number;
}

export interface RunOnceOutcome {
  done: number;
  retried: number;
  failed: number;
}

/** How `fail` left the task; `not-held` means the lease was lost to another worker first. */
export type FailOutcome = 'retried' | 'failed' | 'not-held';

const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_MAX_ATTEMPTS = 8;
const DEFAULT_BATCH_SIZE = 50;
const DEFAULT_MAX_ROUNDS = 100;
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_CAP_MS = 60 * 60_000;
// Column widths of `tasks`: MySQL rejects longer values while SQLite stores them, so check here
// to keep the two databases behaving alike.
const MAX_KIND_LENGTH = 48;
const MAX_DEDUPE_KEY_LENGTH = 191;
const MAX_ERROR_LENGTH = 1024;

/**
 * A durable, retrying work queue in the `tasks` table, shared by every server instance.
 *
 * A task is claimed by a conditional UPDATE guarded by the state the claimer read (status, due
 * time or expired lease, attempt count), so when two instances race for a row only one UPDATE
 * matches. A claim is a lease: if its holder dies, the task becomes claimable again once the
 * lease runs out. Finishing a task is guarded by the holder, so a worker whose lease was taken
 * over cannot overwrite the new holder's outcome.
 *
 * Delivery is at least once (a worker can crash after the API call, before `complete`), so
 * handlers must tolerate repeats; WeChat's tagging calls are idempotent.
 */
export class TaskQueue {
  private readonly dataSource: DataSource;
  private readonly clock: Clock;
  private readonly holder: string;
  private readonly logger: Logger;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;

  constructor(params: TaskQueueParams) {
    this.dataSource = params.dataSource;
    this.clock = params.clock;
    this.holder = params.holder;
    this.logger = params.logger;
    this.leaseMs = params.leaseMs ?? DEFAULT_LEASE_MS;
    this.maxAttempts = params.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!(this.leaseMs > 0)) throw new Error('TaskQueue leaseMs must be positive');
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) throw new Error('TaskQueue maxAttempts must be a positive integer');
  }

  /** Inserts the task unless one with the same dedupe key exists; false when it already did. */
  async enqueue(params: EnqueueParams): Promise<boolean> {
    if (!params.kind || params.kind.length > MAX_KIND_LENGTH) throw new Error(`Task kind must be 1-${MAX_KIND_LENGTH} characters: "${params.kind}"`);
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
   * Claims up to `limit` due tasks of the given kinds for this holder: pending ones whose time
   * has come, and running ones whose lease ran out (their worker crashed). Each claim counts as
   * an attempt. A crashed task already on its last attempt is failed instead of run again, so a
   * task that kills its worker cannot loop forever.
   */
  async claim(params: ClaimParams): Promise<Task[]> {
    if (params.kinds.length === 0 || params.limit < 1) return [];
    const now = this.clock.now();
    const repository = this.dataSource.getRepository(Task);
    const candidates = await repository
      .createQueryBuilder('task')
      .select(['task.id', 'task.status', 'task.attempts'])
      .where('task.kind IN (:...kinds)', { kinds: params.kinds })
      .andWhere(claimableCondition('task.'), { pending: 'pending', running: 'running', now })
      .orderBy('task.runAt', 'ASC')
      .addOrderBy('task.id', 'ASC')
      .limit(params.limit)
      .getMany();

    const claimed: number[] = [];
    for (const candidate of candidates) {
      if (candidate.status === 'running' && candidate.attempts >= this.maxAttempts) {
        await this.failAbandoned(candidate, now);
        continue;
      }
      const result = await repository
        .createQueryBuilder()
        .update(Task)
        .set({
          status: 'running',
          leaseHolder: this.holder,
          leaseUntil: new Date(now.getTime() + this.leaseMs),
          attempts: () => 'attempts + 1',
          updatedAt: now,
        })
        .where('id = :id AND attempts = :attempts', { id: candidate.id, attempts: candidate.attempts })
        .andWhere(claimableCondition(''), { pending: 'pending', running: 'running', now })
        .execute();
      if (result.affected === 1) claimed.push(candidate.id);
    }
    if (claimed.length === 0) return [];

    const order = new Map(claimed.map((id, index) => [id, index]));
    const tasks = await repository.findBy({ id: In(claimed) });
    return tasks.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  }

  /** Marks a task this holder claimed as done; false if its lease was lost to another worker. */
  async complete(id: number): Promise<boolean> {
    return (await this.completeMany([id])) === 1;
  }

  /**
   * Records a failed attempt. Retryable (the default): back to pending after an exponential
   * backoff, until the attempts are used up; then, or when not retryable, `failed` for good.
   */
  async fail(id: number, error: string, params: { retryable?: boolean } = {}): Promise<FailOutcome> {
    const repository = this.dataSource.getRepository(Task);
    const task = await repository.findOne({
      select: { id: true, attempts: true },
      where: { id, status: 'running', leaseHolder: this.holder },
    });
    if (!task) return 'not-held';

    const now = this.clock.now();
    const retry = (params.retryable ?? true) && task.attempts < this.maxAttempts;
    const result = await repository
      .createQueryBuilder()
      .update(Task)
      .set({
        ...(retry ? { status: 'pending' as const, runAt: new Date(now.getTime() + computeBackoffMs(task.attempts)) } : { status: 'failed' as const }),
        leaseHolder: null,
        leaseUntil: null,
        lastError: truncate(error),
        updatedAt: now,
      })
      .where('id = :id AND attempts = :attempts AND status = :running AND lease_holder = :holder', {
        id,
        attempts: task.attempts,
        running: 'running',
        holder: this.holder,
      })
      .execute();
    if (result.affected !== 1) return 'not-held';
    return retry ? 'retried' : 'failed';
  }

  /**
   * One round: per handled kind, claims up to `batchSize` due tasks, hands them to the handler
   * as one batch (so it can use WeChat's batch APIs), and applies each result. A handler that
   * throws, or says nothing about a task, leaves it to be retried.
   */
  async runOnce(params: RunOnceParams): Promise<RunOnceOutcome> {
    const batchSize = params.batchSize ?? DEFAULT_BATCH_SIZE;
    const outcome: RunOnceOutcome = { done: 0, retried: 0, failed: 0 };
    for (const [kind, handler] of Object.entries(params.handlers)) {
      const tasks = await this.claim({ kinds: [kind], limit: batchSize });
      if (tasks.length === 0) continue;
      const results = await this.callHandler(kind, handler, tasks);
      const done: number[] = [];
      for (const task of tasks) {
        const result = results.get(task.id) ?? { id: task.id, ok: false, error: 'handler returned no result for this task', retryable: true };
        if (result.ok) {
          done.push(task.id);
          continue;
        }
        const failed = await this.fail(task.id, result.error, { retryable: result.retryable });
        if (failed === 'not-held') this.logger.warn('task lease lost before its failure was recorded', { kind, taskId: task.id });
        else outcome[failed === 'retried' ? 'retried' : 'failed'] += 1;
      }
      const completed = await this.completeMany(done);
      if (completed < done.length) this.logger.warn('task leases lost before completion was recorded', { kind, lost: done.length - completed });
      outcome.done += completed;
    }
    return outcome;
  }

  /** Runs rounds until one finds nothing due (start-up, tests); bounded by `maxRounds`. */
  async drain(params: DrainParams): Promise<RunOnceOutcome> {
    const total: RunOnceOutcome = { done: 0, retried: 0, failed: 0 };
    for (let round = 0; round < (params.maxRounds ?? DEFAULT_MAX_ROUNDS); round += 1) {
      const outcome = await this.runOnce(params);
      total.done += outcome.done;
      total.retried += outcome.retried;
      total.failed += outcome.failed;
      if (outcome.done + outcome.retried + outcome.failed === 0) break;
    }
    return total;
  }

  /** Deletes done tasks last touched before `olderThan`; failed ones stay for inspection. */
  async pruneDone(olderThan: Date): Promise<number> {
    const result = await this.dataSource.getRepository(Task).delete({ status: 'done', updatedAt: LessThan(olderThan) });
    return result.affected ?? 0;
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

  private async completeMany(ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.dataSource
      .getRepository(Task)
      .createQueryBuilder()
      .update(Task)
      .set({ status: 'done', leaseHolder: null, leaseUntil: null, updatedAt: this.clock.now() })
      .where('id IN (:...ids) AND status = :running AND lease_holder = :holder', { ids, running: 'running', holder: this.holder })
      .execute();
    return result.affected ?? 0;
  }

  private async failAbandoned(candidate: Pick<Task, 'id' | 'attempts'>, now: Date): Promise<void> {
    const result = await this.dataSource
      .getRepository(Task)
      .createQueryBuilder()
      .update(Task)
      .set({
        status: 'failed',
        leaseHolder: null,
        leaseUntil: null,
        lastError: 'lease expired on the last attempt (the worker probably crashed)',
        updatedAt: now,
      })
      .where('id = :id AND attempts = :attempts AND status = :running AND lease_until < :now', {
        id: candidate.id,
        attempts: candidate.attempts,
        running: 'running',
        now,
      })
      .execute();
    if (result.affected === 1) this.logger.warn('task abandoned on its last attempt; failed', { taskId: candidate.id });
  }
}

/** 30 s after the first failed attempt, doubling each time, at most an hour. */
export function computeBackoffMs(attempts: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_CAP_MS);
}

/** Due and pending, or running on a lease that ran out. `prefix` is the alias ('' in UPDATEs). */
function claimableCondition(prefix: string): Brackets {
  return new Brackets((qb) => {
    qb.where(`(${prefix}status = :pending AND ${prefix}run_at <= :now)`).orWhere(`(${prefix}status = :running AND ${prefix}lease_until < :now)`);
  });
}

function truncate(text: string): string {
  return Array.from(text).slice(0, MAX_ERROR_LENGTH).join('');
}
