import type { RunCoordinator } from 'node-cron';
import { DataSource, LessThan } from 'typeorm';
import { JobRun } from '../../../entities/job-run.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { isUniqueViolation } from '../../db/errors';

export interface DatabaseRunCoordinatorParams {
  dataSource: DataSource;
  clock: Clock;
  /** This instance's id; stored on the rows it claims so an operator can see who ran what. */
  holder: string;
  logger: Logger;
}

export interface RunSlotParams {
  jobName: string;
  /** The scheduled fire time (not the time the timer happened to wake up). */
  slot: Date;
}

export interface FinishRunParams extends RunSlotParams {
  /** Present when the run failed; its text is kept on the row. */
  error?: unknown;
}

/** Both `job_runs.error` and `tasks.last_error` are varchar(1024); MySQL refuses longer text. */
const MAX_ERROR_LENGTH = 1024;

/**
 * node-cron 4's run coordinator (`distributed: true`), backed by the `job_runs` table.
 *
 * node-cron asks `shouldRun("<name>:<slot ISO>", ttlMs)` on every instance when a schedule fires;
 * we answer by inserting a row for (job name, slot). The unique key on that pair lets exactly one
 * instance's insert succeed; the others see the duplicate and skip (node-cron #159, #393).
 * `onComplete(key)` runs after the job on the winning instance and records how it ended.
 *
 * `ttlMs` (node-cron's `distributedLease`) is not used: it exists for lock-style coordinators
 * (Redis SET NX PX) that have to expire. A row per slot never blocks a later slot, and a run lost
 * to a crash is not worth re-running late, because the other instances stopped asking for that
 * slot the moment it fired.
 *
 * Nor does a `running` row carry a lease (server/db/lease-queue.ts). A lease would serve to hand
 * a dead run to another instance, which we do not want (see above), or to keep the next fire from
 * starting while a slow run of the previous one still goes on elsewhere. That overlap is safe:
 * every job's work claims its rows under their own leases (tasks, reaction work), so two runs
 * at once share the work instead of doing it twice. A `running` row whose holder died simply
 * stays `running` until pruned; its holder names the instance, its start says when.
 *
 * Errors are not swallowed: a throw from `shouldRun` or `onComplete` reaches node-cron, which
 * logs it through our logger (scheduler.ts adapts it) and, for `shouldRun`, skips the fire.
 */
export class DatabaseRunCoordinator implements RunCoordinator {
  private readonly dataSource: DataSource;
  private readonly clock: Clock;
  private readonly holder: string;
  private readonly logger: Logger;
  /**
   * node-cron's `onComplete(key)` is not told whether the job threw, so the scheduler's wrapper
   * reports failures here first; keyed by the same coordination key, cleared by `onComplete`.
   */
  private readonly failures = new Map<string, unknown>();

  constructor(params: DatabaseRunCoordinatorParams) {
    this.dataSource = params.dataSource;
    this.clock = params.clock;
    this.holder = params.holder;
    this.logger = params.logger;
  }

  /** node-cron's hook; a throw here makes node-cron skip the fire (fail-closed), which we want. */
  async shouldRun(key: string, _ttlMs: number): Promise<boolean> {
    return this.claimRun(parseCoordinationKey(key));
  }

  /** node-cron's hook, called after the job on the instance that claimed the slot. */
  async onComplete(key: string): Promise<void> {
    const error = this.failures.get(key);
    this.failures.delete(key);
    await this.finishRun({ ...parseCoordinationKey(key), error });
  }

  /** Remembers that the run for `key` threw, so `onComplete` records it as failed. */
  reportFailure(key: string, error: unknown): void {
    this.failures.set(key, error ?? new Error('job failed'));
  }

  /** The same, by job name and fire time (the scheduler's view), keyed as node-cron keys it. */
  reportFailedRun(params: FinishRunParams): void {
    this.reportFailure(buildCoordinationKey(params.jobName, params.slot), params.error);
  }

  /** Inserts the (job, slot) row; true when this instance won the slot and should run the job. */
  async claimRun(params: RunSlotParams): Promise<boolean> {
    const row: Omit<JobRun, 'id'> = {
      jobName: params.jobName,
      slot: formatSlot(params.slot),
      holder: this.holder,
      status: 'running',
      startedAt: this.clock.now(),
      finishedAt: null,
      error: null,
    };
    try {
      await this.dataSource.getRepository(JobRun).insert(row);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) {
        this.logger.debug('job slot taken by another instance', { job: row.jobName, slot: row.slot });
        return false;
      }
      throw error;
    }
  }

  /** Marks this instance's run of (job, slot) done, or failed with the error's text. */
  async finishRun(params: FinishRunParams): Promise<void> {
    const failed = params.error !== undefined;
    const result = await this.dataSource.getRepository(JobRun).update(
      // Guarded by holder: a stray call must never rewrite another instance's row.
      { jobName: params.jobName, slot: formatSlot(params.slot), holder: this.holder },
      {
        status: failed ? 'failed' : 'done',
        finishedAt: this.clock.now(),
        error: failed ? describeError(params.error) : null,
      },
    );
    // Pruned meanwhile, or never ours: the outcome would otherwise vanish without a trace.
    if ((result.affected ?? 0) === 0) {
      this.logger.warn('job run outcome not recorded: no run row of this instance', {
        job: params.jobName,
        slot: formatSlot(params.slot),
        failed,
        error: failed ? describeError(params.error) : undefined,
      });
    }
  }

  /** Deletes run records that started before `olderThan`; returns how many went. */
  async pruneRuns(olderThan: Date): Promise<number> {
    const result = await this.dataSource.getRepository(JobRun).delete({ startedAt: LessThan(olderThan) });
    return result.affected ?? 0;
  }
}

/** The key node-cron builds for a fire: `${name}:${slot.toISOString()}` (Runner.runCoordinated). */
export function buildCoordinationKey(jobName: string, slot: Date): string {
  return `${jobName}:${slot.toISOString()}`;
}

/** Splits node-cron's key; the name may itself hold colons, the ISO suffix has a fixed shape. */
export function parseCoordinationKey(key: string): RunSlotParams {
  const match = /^(.+):(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z)$/.exec(key);
  const slot = match ? new Date(match[2]) : undefined;
  if (!match || !slot || Number.isNaN(slot.getTime())) throw new Error(`Unrecognised run coordination key: ${key}`);
  return { jobName: match[1], slot };
}

/**
 * The slot as stored: ISO-8601 to the second. Instances agree on a fire to the second, not to the
 * millisecond, so the milliseconds must not be part of the unique key.
 */
export function formatSlot(slot: Date): string {
  return `${slot.toISOString().slice(0, 19)}Z`;
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return Array.from(text).slice(0, MAX_ERROR_LENGTH).join('');
}
