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
  /** A number is how many things it did (the sandbox clock plays a moment again while work gets done). */
  run: () => Promise<void | number>;
  /**
   * When this job next has something due (journey runs' next_due_at, outbox not_before, task
   * run_at), so the sandbox clock can step to each such moment instead of jumping over them.
   */
  nextDueAt?: (after: Date) => Promise<Date | null>;
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

/** What a clock skip did: where the clock is, which jobs ran (and failed), and counts per job. */
export interface ClockSkipResult {
  now: Date;
  ran: string[];
  failed: string[];
  /** The moments it stopped at on the way (each a due time of some job). */
  steps: number;
  /** Per job, how many things its runs reported doing (jobs that report a number). */
  done: Record<string, number>;
}

/** Rounds of every job at one moment, and moments in one skip: bounds against a job that always finds work. */
const MAX_ROUNDS_PER_MOMENT = 50;
const MAX_MOMENTS = 10_000;

/**
 * The sandbox's clock control (`POST /sandbox/control/clock`): plays the skipped time forward.
 * It steps to each next due moment within the skip (the earliest `nextDueAt` of any job), runs
 * every job there, again while they report work done (a run that woke another, a reaction to a
 * click), then goes on to the next moment, and ends at the skip's end with one more round. So
 * advancing 14 days plays a 14-day journey whole, each wait ending at its own time. A failing job
 * is logged and the others still run.
 */
export function createClockControl(p: {
  clock: AdvancingClock;
  jobs: JobDefinition[];
  logger: Logger;
  /** Stores the new time before the jobs run, so a restart (even mid-jobs) keeps the skip. */
  afterAdvance?: () => Promise<void>;
}): (advanceSeconds: number) => Promise<ClockSkipResult> {
  return async (advanceSeconds) => {
    const target = p.clock.now().getTime() + advanceSeconds * 1000;
    const ran = new Set<string>();
    const failed = new Set<string>();
    const done: Record<string, number> = {};
    const runMoment = async () => {
      for (let round = 0; round < MAX_ROUNDS_PER_MOMENT; round += 1) {
        let work = 0;
        for (const job of p.jobs) {
          try {
            const result = await job.run();
            ran.add(job.name);
            if (typeof result === 'number') {
              done[job.name] = (done[job.name] ?? 0) + result;
              work += result;
            }
          } catch (error) {
            p.logger.error('job failed after a clock jump', { job: job.name, error });
            failed.add(job.name);
          }
        }
        if (work === 0) return;
      }
    };
    let steps = 0;
    for (; steps < MAX_MOMENTS; steps += 1) {
      const now = p.clock.now().getTime();
      const next = await nextDueAfter(p.jobs, now);
      if (next === null || next > target) break;
      p.clock.advance(next - now);
      await p.afterAdvance?.();
      await runMoment();
    }
    const now = p.clock.now().getTime();
    if (target > now) p.clock.advance(target - now);
    await p.afterAdvance?.();
    await runMoment();
    return { now: p.clock.now(), ran: p.jobs.map((j) => j.name).filter((n) => ran.has(n)), failed: [...failed], steps, done };
  };
}

/** The earliest moment after `now` some job has work due (what is due by `now` runs in the moment itself). */
async function nextDueAfter(jobs: JobDefinition[], now: number): Promise<number | null> {
  let next: number | null = null;
  for (const job of jobs) {
    const due = job.nextDueAt ? await job.nextDueAt(new Date(now)) : null;
    if (due !== null && due.getTime() > now && (next === null || due.getTime() < next)) next = due.getTime();
  }
  return next;
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
