import { DataSource } from 'typeorm';
import { JobRun } from '../../../entities/job-run.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { DatabaseRunCoordinator } from '../../../server/modules/job-runs/run-coordinator.service';
import { startJobs, type JobDefinition } from '../../../server/jobs/scheduler';
import { describeEachDatabase, useSecondInstance } from '../../support/database';

const logger = createLogger('silent');

describe('startJobs validation', () => {
  // Never initialised: validation must refuse these before anything touches the database.
  const coordinator = new DatabaseRunCoordinator({
    dataSource: new DataSource({ type: 'better-sqlite3', database: ':memory:' }),
    clock: new ManualClock(),
    holder: 'unused',
    logger,
  });
  const run = async (): Promise<void> => {};

  it('refuses two jobs with one name, since each fire would run only one of them', () => {
    const jobs: JobDefinition[] = [
      { name: 'pushes-send', schedule: '* * * * *', run },
      { name: 'pushes-send', schedule: '*/5 * * * *', run },
    ];
    expect(() => startJobs({ jobs, coordinator, logger })).toThrow(/named "pushes-send"/);
  });

  it('refuses a bad cron expression and a name too long for job_runs', () => {
    expect(() => startJobs({ jobs: [{ name: 'x', schedule: 'every minute', run }], coordinator, logger })).toThrow(/invalid cron/);
    expect(() => startJobs({ jobs: [{ name: 'n'.repeat(65), schedule: '* * * * *', run }], coordinator, logger })).toThrow(/1-64/);
  });
});

describeEachDatabase('startJobs with node-cron', (db) => {
  // The second server instance: its own connections, same database.
  const other = useSecondInstance(db);

  it('runs each fire of a named job once across two instances, and records failures', async () => {
    // node-cron reads the real clock for its timer; the coordinator's clock only stamps rows.
    const clock = new ManualClock();
    let ticks = 0;
    let booms = 0;
    const jobs: JobDefinition[] = [
      {
        name: 'tick',
        schedule: '* * * * * *',
        run: () => {
          ticks += 1;
          return Promise.resolve();
        },
      },
      {
        name: 'boom',
        schedule: '* * * * * *',
        run: () => {
          booms += 1;
          return Promise.reject(new Error('sandbox API down'));
        },
      },
    ];
    const instances = [
      startJobs({ jobs, logger, coordinator: new DatabaseRunCoordinator({ dataSource: db().dataSource, clock, holder: 'a', logger }) }),
      startJobs({ jobs, logger, coordinator: new DatabaseRunCoordinator({ dataSource: other(), clock, holder: 'b', logger }) }),
    ];
    try {
      // node-cron's timer reads the real clock, so the fires come a second apart: wait for two of
      // each (not for a fixed time, which a loaded machine may not give them).
      const deadline = Date.now() + 15_000;
      while (ticks < 2 || booms < 2) {
        if (Date.now() > deadline) throw new Error(`only ${ticks} ticks and ${booms} booms fired in 15 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await Promise.all(instances.map((instance) => instance.stop()));
    }

    const rows = await db()
      .dataSource.getRepository(JobRun)
      .find({ order: { slot: 'ASC' } });
    const tickRows = rows.filter((row) => row.jobName === 'tick');
    const boomRows = rows.filter((row) => row.jobName === 'boom');
    // Both instances fired every second; a double run would show as more runs than slots.
    expect(ticks).toBeGreaterThanOrEqual(2);
    expect(tickRows).toHaveLength(ticks);
    expect(tickRows.every((row) => row.status === 'done' && row.finishedAt !== null)).toBe(true);
    expect(boomRows).toHaveLength(booms);
    expect(boomRows.every((row) => row.status === 'failed' && row.error === 'sandbox API down')).toBe(true);
    expect(rows.every((row) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(row.slot))).toBe(true);
  });
});
