import cron, { type Logger as CronLogger, type RunCoordinator, type ScheduledTask, type TaskContext } from 'node-cron';
import type { AdvancingClock } from '../adapters/clock';
import type { Logger } from '../adapters/logger';
import type { DatabaseRunCoordinator } from '../modules/job-runs/run-coordinator.service';

/** One scheduled job. The body is a module function; this folder only registers it. */
export interface JobDefinition {
  /** Unique across the deployment: with the slot time it forms the key instances agree on. */
  name: string;
  /** A node-cron expression (5 or 6 fields; 6 means the first is seconds). */
  schedule: string;
  run: () => Promise<void>;
}

export interface StartJobsParams {
  jobs: JobDefinition[];
  coordinator: DatabaseRunCoordinator;
  logger: Logger;
  /** IANA zone the cron expressions are read in; the process zone when absent. */
  timezone?: string;
  /** How long `stop()` waits for runs already under way before giving up on them. */
  stopTimeoutMs?: number;
}

export interface RunningJobs {
  /** Stops every schedule, then waits (bounded) for runs under way to finish and be recorded. */
  stop(): Promise<void>;
}

/** `job_runs.job_name` is varchar(64); a longer name would fail on MySQL only, at the first fire. */
const MAX_JOB_NAME_LENGTH = 64;
const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/**
 * Registers each job with node-cron as a distributed task: node-cron asks the coordinator before
 * every fire, so with several server instances each fire runs on exactly one of them. Without
 * `name` node-cron keys on a random per-process id and every instance would run the job.
 * A job that throws is logged and recorded as failed; it never reaches node-cron's own logger or
 * stops the schedule.
 */
export function startJobs(params: StartJobsParams): RunningJobs {
  const { coordinator, logger } = params;
  validateJobs(params.jobs);

  const inFlight = new InFlightRuns();
  let stopping = false;
  // One thin coordinator per process wraps the shared one so `stop()` can wait for the run *and*
  // the write that records its end (node-cron calls onComplete after the job returns).
  const trackedCoordinator: RunCoordinator = {
    shouldRun: async (key, ttlMs) => {
      if (stopping) return false;
      inFlight.enter();
      let won = false;
      try {
        won = await coordinator.shouldRun(key, ttlMs);
        return won;
      } finally {
        if (!won) inFlight.leave();
      }
    },
    onComplete: async (key) => {
      try {
        await coordinator.onComplete(key);
      } finally {
        inFlight.leave();
      }
    },
  };

  const cronLogger = adaptLogger(logger);
  const tasks: ScheduledTask[] = params.jobs.map((job) =>
    cron.schedule(job.schedule, async (context: TaskContext) => runJob(job, context), {
      name: job.name,
      distributed: true,
      runCoordinator: trackedCoordinator,
      // A slow run must not overlap the next fire of the same job on this instance; other
      // instances are kept off by the coordinator.
      noOverlap: true,
      timezone: params.timezone,
      logger: cronLogger,
    }),
  );
  logger.info('jobs scheduled', { jobs: params.jobs.map((job) => job.name) });

  async function runJob(job: JobDefinition, context: TaskContext): Promise<void> {
    const startedAt = Date.now();
    try {
      await job.run();
      logger.debug('job done', { job: job.name, ms: Date.now() - startedAt });
    } catch (error) {
      logger.error('job failed', { job: job.name, error });
      coordinator.reportFailedRun({ jobName: job.name, slot: context.date, error });
    }
  }

  return {
    async stop() {
      stopping = true;
      for (const task of tasks) await task.destroy();
      const finished = await inFlight.waitUntilIdle(params.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
      if (!finished) logger.warn('jobs still running at shutdown', { running: inFlight.count });
    },
  };
}

/**
 * The sandbox's clock control (`POST /sandbox/control/clock`): moves the clock forward, then runs
 * every job once, in order, so what fell due in the skipped time happens now. Every job finds its
 * own due work by the clock (retries, leases, sweeps), so one run each is what the skipped fires
 * would have done. A failing job is logged and the others still run.
 */
export function createClockControl(p: {
  clock: AdvancingClock;
  jobs: JobDefinition[];
  logger: Logger;
  /** Stores the new time before the jobs run, so a restart (even mid-jobs) keeps the skip. */
  afterAdvance?: () => Promise<void>;
}): (advanceSeconds: number) => Promise<{ now: Date; ran: string[]; failed: string[] }> {
  return async (advanceSeconds) => {
    p.clock.advance(advanceSeconds * 1000);
    await p.afterAdvance?.();
    const ran: string[] = [];
    const failed: string[] = [];
    for (const job of p.jobs) {
      try {
        await job.run();
        ran.push(job.name);
      } catch (error) {
        p.logger.error('job failed after a clock jump', { job: job.name, error });
        failed.push(job.name);
      }
    }
    return { now: p.clock.now(), ran, failed };
  };
}

function validateJobs(jobs: JobDefinition[]): void {
  const seen = new Set<string>();
  for (const job of jobs) {
    if (!job.name || job.name.length > MAX_JOB_NAME_LENGTH)
      throw new Error(`Job name must be 1-${MAX_JOB_NAME_LENGTH} characters: "${job.name}"`);
    if (seen.has(job.name)) throw new Error(`Two jobs are named "${job.name}"; each fire would run only one of them`);
    seen.add(job.name);
    if (!cron.validate(job.schedule)) throw new Error(`Job "${job.name}" has an invalid cron expression: "${job.schedule}"`);
  }
}

/** node-cron logs through its own interface (strings or errors); send that to our JSON logger. */
function adaptLogger(logger: Logger): CronLogger {
  const fields = (message: string | Error, err?: Error) => ({ error: err ?? (message instanceof Error ? message : undefined) });
  const text = (message: string | Error) => (message instanceof Error ? message.message : message);
  return {
    info: (message) => logger.info(`node-cron: ${message}`),
    warn: (message) => logger.warn(`node-cron: ${message}`),
    error: (message, err) => logger.error(`node-cron: ${text(message)}`, fields(message, err)),
    debug: (message, err) => logger.debug(`node-cron: ${text(message)}`, fields(message, err)),
  };
}

/** Counts runs between a won claim and their recorded end, so shutdown can wait for them. */
class InFlightRuns {
  count = 0;
  private waiters: (() => void)[] = [];

  enter(): void {
    this.count += 1;
  }

  leave(): void {
    this.count -= 1;
    if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  async waitUntilIdle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.waiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
