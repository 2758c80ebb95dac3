import request from 'supertest';
import { Task } from '../../../entities/task.entity';
import { OA_TAG_SYNC } from '../../../server/modules/tag-sync/tag-sync.service';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

describeEachDatabase('POST /sandbox/control/clock: skip ahead and see what fell due', (db) => {
  let stack: TestStack;

  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const moveClock = (body: unknown) =>
    request(stack.sandboxUrl)
      .post('/sandbox/control/clock')
      .send(body as object);
  const oaTagTasks = () => db().dataSource.manager.find(Task, { where: { kind: OA_TAG_SYNC } });
  const tagSyncJob = () => {
    const job = stack.services.jobs.find((j) => j.name === 'tag-sync');
    if (!job) throw new Error('no tag-sync job is scheduled');
    return job;
  };

  it('a tag sync the platform was busy for waits for its backoff, and runs when the clock moves past it', async () => {
    stack.sandbox.state.failNext('tags/members/batchtagging', -1);
    const { openid } = await stack.player().subscribe({ scene: 'expo2026' });
    await stack.services.reactions.idle();
    await tagSyncJob().run();
    // Two tags (expo2026, 已关注): the first batch met the busy platform and waits for its retry.
    const waiting = (await oaTagTasks()).filter((task) => task.status === 'pending');
    expect(waiting).toHaveLength(1);
    expect(waiting[0].runAt.getTime()).toBeGreaterThan(stack.clock.now().getTime());
    // Not due: running the job again sends nothing.
    const calls = stack.sandbox.state.callsTo('tags/members/batchtagging').length;
    await tagSyncJob().run();
    expect(stack.sandbox.state.callsTo('tags/members/batchtagging')).toHaveLength(calls);

    const before = stack.clock.now().getTime();
    const moved = await moveClock({ advanceSeconds: 3600 });
    expect(moved.status).toBe(200);
    const body = moved.body as { now: string; ran: string[]; failed: string[] };
    expect(new Date(body.now).getTime() - before).toBeGreaterThanOrEqual(3600_000);
    expect(body.ran).toEqual(stack.services.jobs.map((job) => job.name));
    expect(body.failed).toEqual([]);
    expect((await oaTagTasks()).every((task) => task.status === 'done')).toBe(true);
    expect(stack.sandbox.state.followers.get(openid)?.tagIds).toHaveLength(2);
  });

  it('refuses what is not a forward move of whole seconds, up to a year, and moves nothing', async () => {
    const before = stack.clock.now().getTime();
    for (const body of [
      {},
      { advanceSeconds: 0 },
      { advanceSeconds: -60 },
      { advanceSeconds: '60' },
      { advanceSeconds: 1.5 },
      { advanceSeconds: 367 * 86_400 },
    ]) {
      const res = await moveClock(body);
      expect(res.status).toBe(400);
    }
    expect(stack.clock.now().getTime() - before).toBeLessThan(1_000);
  });
});
