import { JobRun } from '../../../entities/job-run.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import {
  buildCoordinationKey,
  DatabaseRunCoordinator,
  formatSlot,
  parseCoordinationKey,
} from '../../../server/modules/job-runs/run-coordinator.service';
import { describeEachDatabase, useSecondInstance } from '../../support/database';

const logger = createLogger('silent');
const SLOT = new Date('2026-11-23T08:00:00.000Z');

describe('coordination keys', () => {
  it('reads back the key node-cron builds, even when the job name holds colons', () => {
    const key = buildCoordinationKey('tags:sync-oa', SLOT);
    expect(key).toBe('tags:sync-oa:2026-11-23T08:00:00.000Z');
    expect(parseCoordinationKey(key)).toEqual({ jobName: 'tags:sync-oa', slot: SLOT });
  });

  it('refuses a key without a slot', () => {
    expect(() => parseCoordinationKey('just-a-name')).toThrow(/Unrecognised/);
  });

  it('stores the slot to the second, so instances a few ms apart agree', () => {
    expect(formatSlot(new Date('2026-11-23T08:00:00.123Z'))).toBe('2026-11-23T08:00:00Z');
  });
});

describeEachDatabase('DatabaseRunCoordinator', (db) => {
  let clock: ManualClock;
  // The second server instance: its own connections, same database.
  const other = useSecondInstance(db);
  beforeEach(() => {
    clock = new ManualClock();
  });

  function coordinators(): [DatabaseRunCoordinator, DatabaseRunCoordinator] {
    return [
      new DatabaseRunCoordinator({ dataSource: db().dataSource, clock, holder: 'instance-a', logger }),
      new DatabaseRunCoordinator({ dataSource: other(), clock, holder: 'instance-b', logger }),
    ];
  }

  it('lets exactly one of two instances racing for the same fire run it', async () => {
    const [a, b] = coordinators();
    for (let minute = 0; minute < 10; minute += 1) {
      const key = buildCoordinationKey('journeys-advance', new Date(SLOT.getTime() + minute * 60_000));
      const answers = await Promise.all([a.shouldRun(key, 30_000), b.shouldRun(key, 30_000)]);
      expect(answers.filter(Boolean)).toHaveLength(1);
    }
    const rows = await db().dataSource.getRepository(JobRun).find();
    expect(rows).toHaveLength(10);
    expect(new Set(rows.map((row) => row.slot)).size).toBe(10);
    expect(rows.every((row) => row.status === 'running')).toBe(true);
  });

  it('treats the same second with different milliseconds as the same fire', async () => {
    const [a, b] = coordinators();
    expect(await a.claimRun({ jobName: 'pushes-send', slot: new Date('2026-11-23T08:00:00.000Z') })).toBe(true);
    expect(await b.claimRun({ jobName: 'pushes-send', slot: new Date('2026-11-23T08:00:00.400Z') })).toBe(false);
  });

  it('runs a later slot again, and a different job in the same slot', async () => {
    const [a, b] = coordinators();
    expect(await a.claimRun({ jobName: 'pushes-send', slot: SLOT })).toBe(true);
    expect(await b.claimRun({ jobName: 'pushes-send', slot: SLOT })).toBe(false);
    expect(await b.claimRun({ jobName: 'pushes-send', slot: new Date(SLOT.getTime() + 60_000) })).toBe(true);
    expect(await b.claimRun({ jobName: 'tokens-refresh', slot: SLOT })).toBe(true);
  });

  it('records a finished run as done and a failed one with its error', async () => {
    const [a] = coordinators();
    const okKey = buildCoordinationKey('silent-detect', SLOT);
    const badKey = buildCoordinationKey('event-reminders', SLOT);
    expect(await a.shouldRun(okKey, 30_000)).toBe(true);
    expect(await a.shouldRun(badKey, 30_000)).toBe(true);
    clock.advance(1_500);
    a.reportFailure(badKey, new Error('WeChat said 45009: api freq out of limit'));
    await a.onComplete(okKey);
    await a.onComplete(badKey);

    const repository = db().dataSource.getRepository(JobRun);
    const ok = await repository.findOneByOrFail({ jobName: 'silent-detect' });
    expect(ok).toMatchObject({ slot: '2026-11-23T08:00:00Z', holder: 'instance-a', status: 'done', error: null });
    expect(ok.startedAt).toEqual(SLOT);
    expect(ok.finishedAt).toEqual(new Date(SLOT.getTime() + 1_500));
    const bad = await repository.findOneByOrFail({ jobName: 'event-reminders' });
    expect(bad).toMatchObject({ status: 'failed', error: 'WeChat said 45009: api freq out of limit' });
  });

  it('never rewrites a run another instance holds', async () => {
    const [a, b] = coordinators();
    expect(await a.claimRun({ jobName: 'pushes-send', slot: SLOT })).toBe(true);
    await b.finishRun({ jobName: 'pushes-send', slot: SLOT, error: new Error('not mine') });
    const row = await db().dataSource.getRepository(JobRun).findOneByOrFail({ jobName: 'pushes-send' });
    expect(row).toMatchObject({ holder: 'instance-a', status: 'running', error: null });
  });

  it('keeps long error text within the column', async () => {
    const [a] = coordinators();
    await a.claimRun({ jobName: 'pushes-send', slot: SLOT });
    await a.finishRun({ jobName: 'pushes-send', slot: SLOT, error: new Error('x'.repeat(5000)) });
    const row = await db().dataSource.getRepository(JobRun).findOneByOrFail({ jobName: 'pushes-send' });
    expect(row.error).toHaveLength(1024);
  });

  it('prunes runs that started before the cut-off', async () => {
    const [a] = coordinators();
    await a.claimRun({ jobName: 'pushes-send', slot: SLOT });
    clock.advance(24 * 3600_000);
    await a.claimRun({ jobName: 'pushes-send', slot: clock.now() });
    expect(await a.pruneRuns(new Date(SLOT.getTime() + 3600_000))).toBe(1);
    const rows = await db().dataSource.getRepository(JobRun).find();
    expect(rows.map((row) => row.slot)).toEqual([formatSlot(clock.now())]);
  });
});
