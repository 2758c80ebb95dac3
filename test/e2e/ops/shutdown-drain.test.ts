import http from 'node:http';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { Interaction } from '../../../entities/interaction.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { Tag } from '../../../entities/tag.entity';
import { Task } from '../../../entities/task.entity';
import { createLogger } from '../../../server/adapters/logger';
import { createDataSource } from '../../../server/db/data-source';
import { startJobs, type RunningJobs } from '../../../server/jobs/scheduler';
import { drainAndClose } from '../../../server/lifecycle';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';
import { officialAccountRequest } from '../../support/wechat-requests';

/** How long the sandbox holds the platform calls of the claimed batches: the drain starts meanwhile. */
interface PlatformDelays {
  reactionsMs: number;
  tagSyncMs: number;
}
const TAG_SYNC_LAST: PlatformDelays = { reactionsMs: 400, tagSyncMs: 1_800 };
const REACTIONS_LAST: PlatformDelays = { reactionsMs: 1_800, tagSyncMs: 400 };

const subscribe = (stack: TestStack, openid: string) =>
  officialAccountRequest(stack.config, {
    ToUserName: 'gh_sandbox',
    FromUserName: openid,
    CreateTime: Math.floor(Date.now() / 1000),
    MsgType: 'event',
    Event: 'subscribe',
  });

/** Polls `check` (a database read) until it holds; the work it waits for runs on real timers (node-cron, the sandbox's delay). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * SIGTERM's drain (server/lifecycle.ts), with a reactions batch and a tag-sync batch claimed and
 * waiting on the platform, and a callback half-sent when it starts: callbacks that come later get
 * 503, /readyz answers 503, what was let in is answered and stored, the claimed batches finish,
 * and no row is left under a lease when the database closes.
 */
describeEachDatabase('shutdown drain', (db) => {
  let own: DataSource;
  let stack: TestStack;
  beforeEach(async () => {
    // The stack's own connections: the drain closes them, the test reads through db().
    own = await createDataSource(db().config, { poolSize: 5 });
    await own.initialize();
    stack = await startTestStack({ dataSource: own }, {}, { platformTimeoutMs: 5_000 });
  });
  afterEach(async () => {
    await stack.close();
    if (own.isInitialized) await own.destroy();
  });

  const actor = { operatorId: null, ip: null };
  const leased = async (table: 'reaction_work' | 'tasks', where = '1 = 1'): Promise<number> => {
    const [row]: { n: number | string }[] = await db().dataSource.query(
      `SELECT COUNT(*) AS n FROM ${table} WHERE lease_holder IS NOT NULL AND ${where}`,
    );
    return Number(row.n);
  };

  /**
   * Three followers (stored, answered, their reactions claimed and waiting on user/info) and a
   * tag rename (its sync task claimed by the tag-sync job and waiting on tags/update).
   */
  async function claimBatches(delays: PlatformDelays): Promise<RunningJobs> {
    const { sandbox, services } = stack;
    const group = await services.tagCatalog.createTagGroup({ name: '展会', actor });
    if (!group.ok) throw new Error(group.reason);
    const tag = await services.tagCatalog.createTag({ groupId: group.value.id, name: '到场', actor });
    if (!tag.ok) throw new Error(tag.reason);
    await db().dataSource.manager.update(Tag, { id: tag.value.id }, { oaTagId: sandbox.state.createOaTag('到场').id });
    expect((await services.tagCatalog.updateTag({ id: tag.value.id, name: '已到场', actor })).ok).toBe(true);

    for (const api of ['user/info', 'user/info/batchget']) sandbox.state.delayNext(api, delays.reactionsMs);
    sandbox.state.delayNext('tags/update', delays.tagSyncMs);
    // The jobs as main.ts starts them, the tag syncs every second so that one fires during the test.
    const jobs = startJobs({
      jobs: services.jobs.map((job) => (job.name === 'tag-sync' ? { ...job, schedule: '* * * * * *' } : job)),
      coordinator: services.coordinator,
      logger: createLogger('silent'),
    });
    for (const openid of ['o_before_1', 'o_before_2', 'o_before_3']) {
      const r = subscribe(stack, openid);
      await request(stack.app.callback()).post(r.url).type('text/xml').send(r.body).expect(200);
    }
    await until('the reactions batch is claimed', async () => (await leased('reaction_work')) > 0);
    // The rename's own sync: the followers' tag syncs (the default rules tag them) are tasks too,
    // and may be claimed first, failing fast on the sandbox's unknown openids.
    await until("the tag rename's sync is claimed", async () => (await leased('tasks', "kind = 'oa_tag_catalog_sync'")) > 0);
    return jobs;
  }

  function startDrain(jobs: RunningJobs): { done: Promise<void>; finished: () => boolean } {
    let finished = false;
    const done = drainAndClose({
      logger: createLogger('silent'),
      gate: stack.services.drainGate,
      callbackStore: stack.services.callbackStore,
      reactions: stack.services.reactions,
      queue: stack.services.queue,
      jobs,
      server: stack.server,
      dataSource: own,
      // Short: a callback let in must hold the drain by itself, not through its open connection.
      serverCloseTimeoutMs: 200,
    }).then(() => {
      finished = true;
    });
    return { done, finished: () => finished };
  }

  /** While draining: callbacks are refused at once (nothing of them is stored), not ready, still live. */
  async function expectRefusing(): Promise<void> {
    const app = stack.app.callback();
    const refused = subscribe(stack, 'o_during_drain');
    const during = await request(app).post(refused.url).type('text/xml').send(refused.body);
    expect([during.status, during.text]).toEqual([503, 'shutting down']);
    await request(app).get('/readyz').expect(503, { status: 'draining' });
    await request(app).get('/healthz').expect(200);
  }

  /** After the drain: the database is closed, what was let in is stored, nothing is left under a lease. */
  async function expectDrained(storedOpenids: string[]): Promise<void> {
    const m = db().dataSource.manager;
    expect(own.isInitialized).toBe(false);
    const keys = (await m.find(Interaction)).map((i) => i.dedupeKey);
    for (const openid of storedOpenids) expect(keys.filter((k) => k.includes(openid))).toHaveLength(1);
    expect(keys.filter((k) => k.includes('o_during_drain'))).toEqual([]);
    expect(await m.query('SELECT id FROM reaction_work WHERE lease_holder IS NOT NULL')).toEqual([]);
    expect(await m.query('SELECT id FROM tasks WHERE lease_holder IS NOT NULL')).toEqual([]);
    // The claimed batches were completed, not abandoned.
    expect(await m.countBy(ReactionWork, { status: 'done' })).toBeGreaterThan(0);
    expect(await m.findBy(Task, { status: 'done' })).toHaveLength(1);
    expect(stack.sandbox.state.callsTo('tags/update')).toHaveLength(1);
  }

  it.each([
    ['the tag sync ends last', TAG_SYNC_LAST],
    ['the reactions end last', REACTIONS_LAST],
  ])('the claimed reactions and tag-sync batches finish and are completed before the database closes (%s)', async (_, delays) => {
    const jobs = await claimBatches(delays);
    const drain = startDrain(jobs);
    await expectRefusing();
    await drain.done;
    await expectDrained(['o_before_1', 'o_before_2', 'o_before_3']);
  });

  it('a callback let in before the drain holds it until it is answered and stored', async () => {
    const jobs = await claimBatches(TAG_SYNC_LAST);
    // Its body is still arriving when the drain starts: it is inside the gate.
    const late = subscribe(stack, 'o_half_sent');
    const halfSent = http.request(new URL(late.url, stack.baseUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(late.body) },
    });
    const lateAnswer = new Promise<number>((resolve, reject) => {
      halfSent.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      halfSent.on('error', reject);
    });
    halfSent.write(late.body.slice(0, 20));
    await until('the half-sent callback is inside the gate', () => Promise.resolve(stack.services.drainGate.inFlight === 1));

    const drain = startDrain(jobs);
    await expectRefusing();
    // Everything else is done, and the drain still waits for it.
    await until('the claimed batches are done', async () => (await leased('reaction_work')) + (await leased('tasks')) === 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(drain.finished()).toBe(false);
    halfSent.end(late.body.slice(20));
    expect(await lateAnswer).toBe(200);
    await drain.done;
    await expectDrained(['o_before_1', 'o_before_2', 'o_before_3', 'o_half_sent']);
  });
});
