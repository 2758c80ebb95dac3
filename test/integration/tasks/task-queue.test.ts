import { Task } from '../../../entities/task.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import type { Claim } from '../../../server/db/lease-queue';
import { type ClaimedTasks, computeBackoffMs, TaskQueue, type TaskResult } from '../../../server/modules/tasks/task-queue.service';
import { databaseTimeFromNow } from '../../../server/db/lease-queue';
import { toSqlDate } from '../../../server/db/sql';
import { describeEachDatabase, useSecondInstance } from '../../support/database';
import { expireLeases } from '../../support/leases';
import { queryPlan, rowsRead } from '../../support/query-plan';

const logger = createLogger('silent');
const MINUTE = 60_000;

describe('computeBackoffMs', () => {
  it('starts at 30 s, doubles, and stops at an hour', () => {
    expect([1, 2, 3, 7, 8, 20].map(computeBackoffMs)).toEqual([30_000, 60_000, 120_000, 1_920_000, 3_600_000, 3_600_000]);
  });
});

describeEachDatabase('TaskQueue', (db) => {
  let clock: ManualClock;
  // The second server instance: its own connections, same database.
  const other = useSecondInstance(db);
  beforeEach(() => {
    clock = new ManualClock();
  });

  function queueA(options: { maxAttempts?: number; leaseMs?: number } = {}): TaskQueue {
    return new TaskQueue({ dataSource: db().dataSource, clock, holder: 'instance-a', logger, ...options });
  }
  function queueB(options: { maxAttempts?: number; leaseMs?: number } = {}): TaskQueue {
    return new TaskQueue({ dataSource: other(), clock, holder: 'instance-b', logger, ...options });
  }
  async function findTask(id: number): Promise<Task> {
    return db().dataSource.getRepository(Task).findOneByOrFail({ id });
  }
  async function enqueueMany(queue: TaskQueue, kind: string, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) await queue.enqueue({ kind, dedupeKey: `${kind}:${i}`, payload: { n: i } });
  }

  describe('enqueue', () => {
    it('keeps one row per dedupe key', async () => {
      const queue = queueA();
      const payload = { contactId: 7, openids: ['o1', 'o2'], add: true };
      expect(await queue.enqueue({ kind: 'oa-tag-sync', dedupeKey: 'oa_tag:add:1', payload })).toBe(true);
      expect(await queue.enqueue({ kind: 'oa-tag-sync', dedupeKey: 'oa_tag:add:1', payload: { other: 1 } })).toBe(false);
      const rows = await db().dataSource.getRepository(Task).find();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ kind: 'oa-tag-sync', status: 'pending', attempts: 0, payload, leaseHolder: null });
      expect(rows[0].runAt).toEqual(clock.now());
    });

    it('rolls back with the caller transaction', async () => {
      const queue = queueA();
      await expect(
        db().dataSource.transaction(async (manager) => {
          expect(await queue.enqueue({ kind: 'k', dedupeKey: 'rolled-back', payload: {}, manager })).toBe(true);
          throw new Error('the change behind the task failed');
        }),
      ).rejects.toThrow('the change behind the task failed');
      expect(await db().dataSource.getRepository(Task).count()).toBe(0);
    });

    it('leaves the caller transaction usable after a duplicate', async () => {
      const queue = queueA();
      await queue.enqueue({ kind: 'k', dedupeKey: 'existing', payload: {} });
      await db().dataSource.transaction(async (manager) => {
        expect(await queue.enqueue({ kind: 'k', dedupeKey: 'existing', payload: {}, manager })).toBe(false);
        expect(await queue.enqueue({ kind: 'k', dedupeKey: 'new', payload: {}, manager })).toBe(true);
      });
      const keys = (
        await db()
          .dataSource.getRepository(Task)
          .find({ order: { id: 'ASC' } })
      ).map((task) => task.dedupeKey);
      expect(keys).toEqual(['existing', 'new']);
    });

    it('refuses keys longer than the column, alike on both databases', async () => {
      await expect(queueA().enqueue({ kind: 'k', dedupeKey: 'x'.repeat(192), payload: {} })).rejects.toThrow(/dedupe key/);
    });
  });

  async function claimOne(queue: TaskQueue): Promise<{ claim: Claim; task: Task }> {
    const claimed = await queue.claim({ kinds: ['k'], limit: 1 });
    if (!claimed) throw new Error('nothing claimed');
    return { claim: claimed.claim, task: claimed.tasks[0] };
  }
  const keysOf = (claimed: ClaimedTasks | null) => (claimed?.tasks ?? []).map((task) => task.dedupeKey);

  describe('claim', () => {
    it('gives two instances claiming at once disjoint tasks, each exactly once, counting no attempt', async () => {
      const a = queueA();
      const b = queueB();
      await enqueueMany(a, 'k', 20);
      const seen: number[] = [];
      for (let round = 0; round < 10 && seen.length < 20; round += 1) {
        const [fromA, fromB] = await Promise.all([a.claim({ kinds: ['k'], limit: 8 }), b.claim({ kinds: ['k'], limit: 8 })]);
        expect((fromA?.tasks ?? []).every((task) => task.leaseHolder?.startsWith('instance-a#'))).toBe(true);
        expect((fromB?.tasks ?? []).every((task) => task.leaseHolder?.startsWith('instance-b#'))).toBe(true);
        seen.push(...(fromA?.tasks ?? []).map((task) => task.id), ...(fromB?.tasks ?? []).map((task) => task.id));
      }
      expect(seen).toHaveLength(20);
      expect(new Set(seen).size).toBe(20);
      // Claimed tasks stay pending under their lease; a claim is not an attempt.
      const rows = await db().dataSource.getRepository(Task).find();
      expect(rows.every((task) => task.status === 'pending' && task.attempts === 0 && task.leaseUntil !== null)).toBe(true);
    });

    it('claims only due tasks of the asked kinds, oldest first', async () => {
      const queue = queueA();
      await queue.enqueue({ kind: 'k', dedupeKey: 'later', payload: {}, runAt: new Date(clock.now().getTime() + MINUTE) });
      await queue.enqueue({ kind: 'k', dedupeKey: 'now', payload: {} });
      await queue.enqueue({ kind: 'k', dedupeKey: 'earlier', payload: {}, runAt: new Date(clock.now().getTime() - MINUTE) });
      await queue.enqueue({ kind: 'other', dedupeKey: 'other', payload: {} });
      expect(keysOf(await queue.claim({ kinds: ['k'], limit: 10 }))).toEqual(['earlier', 'now']);
      clock.advance(MINUTE);
      expect(keysOf(await queue.claim({ kinds: ['k'], limit: 10 }))).toEqual(['later']);
      expect(keysOf(await queue.claim({ kinds: ['k', 'other'], limit: 10 }))).toEqual(['other']);
    });

    it('hands a crashed worker’s task to another instance once its lease runs out, counting the lost attempt', async () => {
      const a = queueA();
      const b = queueB();
      await a.enqueue({ kind: 'k', dedupeKey: 'crash', payload: {} });
      const first = await claimOne(a);
      // instance-a "crashes" here: it never completes or fails the task.
      expect(await b.claim({ kinds: ['k'], limit: 1 })).toBeNull();
      await expireLeases(db().dataSource, 'tasks');
      const second = await claimOne(b);
      expect(second.task).toMatchObject({ id: first.task.id, attempts: 1 });
      expect(second.task.leaseHolder).toMatch(/^instance-b#/);
      // The old holder coming back to life cannot overwrite the new holder's outcome.
      expect(await a.complete(first.claim, [first.task.id])).toBe(0);
      expect(await a.fail(first.claim, first.task.id, 'late')).toBe('not-held');
      expect(await b.complete(second.claim, [second.task.id])).toBe(1);
      expect(await findTask(first.task.id)).toMatchObject({ status: 'done', leaseHolder: null, leaseUntil: null });
    });

    it('retries a task whose workers keep crashing, and fails it after maxAttempts instead of looping', async () => {
      const queues = [queueA({ maxAttempts: 3 }), queueB({ maxAttempts: 3 })];
      await queues[0].enqueue({ kind: 'k', dedupeKey: 'poison', payload: {} });
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const { task } = await claimOne(queues[attempt % 2]);
        expect(task.attempts).toBe(attempt);
        await expireLeases(db().dataSource, 'tasks');
      }
      expect(await queues[1].claim({ kinds: ['k'], limit: 1 })).toBeNull();
      const [row] = await db().dataSource.getRepository(Task).find();
      expect(row).toMatchObject({ status: 'failed', attempts: 3, leaseHolder: null });
      expect(row.lastError).toMatch(/lease expired/);
    });
  });

  describe('fail', () => {
    it('retries with exponential backoff: not due before runAt, due after', async () => {
      const queue = queueA();
      await queue.enqueue({ kind: 'k', dedupeKey: 'flaky', payload: {} });
      const { claim, task } = await claimOne(queue);
      expect(await queue.fail(claim, task.id, 'errcode -1: system busy')).toBe('retried');
      expect(await findTask(task.id)).toMatchObject({
        status: 'pending',
        attempts: 1,
        lastError: 'errcode -1: system busy',
        runAt: new Date(clock.now().getTime() + 30_000),
        leaseHolder: null,
      });

      clock.advance(29_999);
      expect(await queue.claim({ kinds: ['k'], limit: 1 })).toBeNull();
      clock.advance(1);
      const again = await claimOne(queue);
      expect(again.task).toMatchObject({ id: task.id, attempts: 1 });
      expect(await queue.fail(again.claim, task.id, 'still busy', { retryable: true })).toBe('retried');
      expect(await findTask(task.id)).toMatchObject({ attempts: 2, runAt: new Date(clock.now().getTime() + 60_000) });
    });

    it('counts failures, not claims, and fails for good once maxAttempts failures are used up', async () => {
      const queue = queueA({ maxAttempts: 3 });
      await queue.enqueue({ kind: 'k', dedupeKey: 'doomed', payload: {} });
      // Claims given back unworked (a rate limit, a shutdown) cost no attempt.
      for (let i = 0; i < 5; i += 1) {
        const { claim, task } = await claimOne(queue);
        expect(await queue.leases.reschedule(claim, task.id, clock.now())).toBe(true);
      }
      expect(await findTask((await db().dataSource.getRepository(Task).findOneByOrFail({ dedupeKey: 'doomed' })).id)).toMatchObject({
        attempts: 0,
      });
      const outcomes: string[] = [];
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        const { claim, task } = await claimOne(queue);
        expect(task.attempts).toBe(attempt - 1);
        outcomes.push(await queue.fail(claim, task.id, `failure ${attempt}`));
        clock.advance(3600_000);
      }
      expect(outcomes).toEqual(['retried', 'retried', 'failed']);
      expect(await queue.claim({ kinds: ['k'], limit: 1 })).toBeNull();
      const [row] = await db().dataSource.getRepository(Task).find();
      expect(row).toMatchObject({ status: 'failed', attempts: 3, lastError: 'failure 3', leaseHolder: null });
    });

    it('fails a non-retryable error at once, keeping the error', async () => {
      const queue = queueA();
      await queue.enqueue({ kind: 'k', dedupeKey: 'bad-openid', payload: {} });
      const { claim, task } = await claimOne(queue);
      expect(await queue.fail(claim, task.id, 'errcode 40003: invalid openid', { retryable: false })).toBe('failed');
      expect(await findTask(task.id)).toMatchObject({ status: 'failed', attempts: 1, lastError: 'errcode 40003: invalid openid' });
      clock.advance(24 * 3600_000);
      expect(await queue.claim({ kinds: ['k'], limit: 1 })).toBeNull();
    });
  });

  describe('runOnce', () => {
    it('hands each handler one batch of its kind and applies every result', async () => {
      const queue = queueA();
      await enqueueMany(queue, 'oa', 3);
      await enqueueMany(queue, 'wecom', 2);
      await enqueueMany(queue, 'unhandled', 1);
      const batches: string[][] = [];
      const outcome = await queue.runOnce({
        handlers: {
          oa: (tasks) => {
            batches.push(tasks.map((task) => task.dedupeKey));
            return Promise.resolve(
              tasks.map((task): TaskResult =>
                task.payload.n === 2
                  ? { id: task.id, ok: false, error: 'errcode 45159: invalid tag', retryable: false }
                  : { id: task.id, ok: true },
              ),
            );
          },
          wecom: (tasks) => {
            batches.push(tasks.map((task) => task.dedupeKey));
            return Promise.reject(new Error('connect ECONNREFUSED'));
          },
        },
      });
      expect(batches).toEqual([
        ['oa:0', 'oa:1', 'oa:2'],
        ['wecom:0', 'wecom:1'],
      ]);
      expect(outcome).toEqual({ done: 2, retried: 2, failed: 1 });
      const rows = await db()
        .dataSource.getRepository(Task)
        .find({ order: { id: 'ASC' } });
      expect(rows.map((task) => [task.dedupeKey, task.status, task.lastError])).toEqual([
        ['oa:0', 'done', null],
        ['oa:1', 'done', null],
        ['oa:2', 'failed', 'errcode 45159: invalid tag'],
        ['wecom:0', 'pending', 'connect ECONNREFUSED'],
        ['wecom:1', 'pending', 'connect ECONNREFUSED'],
        ['unhandled:0', 'pending', null],
      ]);
    });

    it('retries a task the handler said nothing about', async () => {
      const queue = queueA();
      await enqueueMany(queue, 'oa', 2);
      const outcome = await queue.runOnce({ handlers: { oa: (tasks) => Promise.resolve([{ id: tasks[0].id, ok: true }]) } });
      expect(outcome).toEqual({ done: 1, retried: 1, failed: 0 });
    });

    it('takes at most batchSize tasks of a kind per round, oldest first', async () => {
      const queue = queueA();
      await enqueueMany(queue, 'oa', 5);
      const batches: string[][] = [];
      const handlers = {
        oa: (tasks: Task[]) => {
          batches.push(tasks.map((task) => task.dedupeKey));
          return Promise.resolve(tasks.map((task) => ({ id: task.id, ok: true as const })));
        },
      };
      const outcomes = [];
      for (let round = 0; round < 4; round += 1) outcomes.push(await queue.runOnce({ batchSize: 2, handlers }));
      expect(batches).toEqual([['oa:0', 'oa:1'], ['oa:2', 'oa:3'], ['oa:4']]);
      expect(outcomes.map((o) => o.done)).toEqual([2, 2, 1, 0]);
    });

    it('renews the lease while a slow handler runs, so no other instance takes its tasks', async () => {
      // The renewal timer (every leaseMs / 3) is fired by hand, and the lease runs out in the
      // database, whose clock times it: nothing waits for real time to pass.
      jest.useFakeTimers({
        doNotFake: [
          'Date',
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'setImmediate',
          'clearImmediate',
          'setTimeout',
          'clearTimeout',
        ],
      });
      try {
        const a = queueA({ leaseMs: MINUTE });
        const b = queueB();
        await enqueueMany(a, 'k', 1);
        const renewedFor = async (ms: number): Promise<boolean> => {
          const at = databaseTimeFromNow(db().dataSource.manager, ms);
          const [{ n }]: { n: number | string }[] = await db().dataSource.query(
            `SELECT COUNT(*) AS n FROM tasks WHERE lease_until > ${at.sql}`,
            at.params,
          );
          return Number(n) === 1;
        };
        let stolen: ClaimedTasks | null | undefined;
        const outcome = await a.runOnce({
          handlers: {
            k: async (tasks) => {
              // The handler has run past its lease ...
              await expireLeases(db().dataSource, 'tasks');
              // ... and the renewal timer fires: the lease is a minute again.
              jest.advanceTimersByTime(MINUTE / 3);
              let polls = 0;
              while (!(await renewedFor(MINUTE - 5_000))) if ((polls += 1) > 2_000) throw new Error('the lease was not renewed');
              stolen = await b.claim({ kinds: ['k'], limit: 1 });
              return tasks.map((task) => ({ id: task.id, ok: true as const }));
            },
          },
        });
        expect(stolen).toBeNull();
        expect(outcome).toEqual({ done: 1, retried: 0, failed: 0 });
      } finally {
        jest.useRealTimers();
      }
    });

    it('leaves a task waiting out its backoff to a later round', async () => {
      const queue = queueA();
      await enqueueMany(queue, 'oa', 1);
      let calls = 0;
      const handlers = {
        oa: (tasks: Task[]) => {
          calls += 1;
          return Promise.resolve(tasks.map((task) => ({ id: task.id, ok: false as const, error: 'busy', retryable: true })));
        },
      };
      expect(await queue.runOnce({ handlers })).toEqual({ done: 0, retried: 1, failed: 0 });
      expect(await queue.runOnce({ handlers })).toEqual({ done: 0, retried: 0, failed: 0 });
      expect(calls).toBe(1);
    });
  });

  it('claims a kind from the (status, kind, run_at) index, reading neither done tasks nor the older backlog of another kind', async () => {
    const insert = async (rows: { key: string; kind: string; status: string; runAt: Date }[]) => {
      const at = toSqlDate(clock.now());
      const values = rows.map((r) => `('${r.kind}', '${r.key}', '{}', '${r.status}', 0, '${toSqlDate(r.runAt)}', '${at}', '${at}')`);
      for (let i = 0; i < values.length; i += 1000)
        await db().dataSource.query(
          `INSERT INTO tasks (kind, dedupe_key, payload, status, attempts, run_at, created_at, updated_at) VALUES ${values.slice(i, i + 1000).join(',')}`,
        );
    };
    const N = 6_000;
    const ago = (ms: number) => new Date(clock.now().getTime() - ms);
    // Eight days of done tasks; the claimed kind is half the due backlog, and the other half (a
    // platform that was down) is older. With (status, run_at) beside the claim index, MariaDB read
    // all 6,000 of the other kind before reaching the first of its own (with 3,000 it did not).
    await insert(
      Array.from({ length: 3_000 }, (_, i) => ({ key: `done:${i}`, kind: 'k', status: 'done', runAt: ago((i % 8) * 24 * 3600_000) })),
    );
    await insert(
      Array.from({ length: 3_000 }, (_, i) => ({ key: `other:${i}`, kind: 'other', status: 'pending', runAt: ago(2 * 3600_000 - i) })),
    );
    await insert(Array.from({ length: N }, (_, i) => ({ key: `k:${i}`, kind: 'k', status: 'pending', runAt: ago(3600_000 - i) })));
    await db().dataSource.query(db().config.kind === 'mysql' ? 'ANALYZE TABLE tasks' : 'ANALYZE');
    const queue = queueA();
    const statement = await queue.claimStatement({ kinds: ['k'], limit: 50 });
    const plan = await queryPlan(db().dataSource, statement);
    expect(plan.map((step) => `${step.index}${step.sorts ? ' + sort' : ''}`)).toEqual(['IDX_tasks_claim']);
    const read = await rowsRead(db().dataSource, statement);
    if (db().dataSource.options.type === 'mariadb') expect(read).toEqual([50]);
    expect(keysOf(await queue.claim({ kinds: ['k'], limit: 3 }))).toEqual(['k:0', 'k:1', 'k:2']);
    // The prune goes kind by kind on the same index.
    const kinds = await queryPlan(db().dataSource, { sql: "SELECT DISTINCT kind FROM tasks WHERE status = 'done'", params: [] });
    expect(kinds.map((step) => step.index)).toEqual(['IDX_tasks_claim']);
  });

  it('prunes done tasks due before the cut-off, keeping failed and pending ones', async () => {
    const queue = queueA();
    await enqueueMany(queue, 'k', 3);
    await queue.enqueue({ kind: 'k', dedupeKey: 'recent', payload: {}, runAt: new Date(clock.now().getTime() + 2 * 24 * 3600_000) });
    const claimed = await queue.claim({ kinds: ['k'], limit: 3 });
    if (!claimed) throw new Error('nothing claimed');
    const [first, second, third] = claimed.tasks;
    await queue.complete(claimed.claim, [first.id]);
    await queue.fail(claimed.claim, second.id, 'bad', { retryable: false });
    await queue.leases.reschedule(claimed.claim, third.id, clock.now());
    clock.advance(2 * 24 * 3600_000);
    const later = await queue.claim({ kinds: ['k'], limit: 10 });
    expect(keysOf(later)).toEqual(['k:2', 'recent']);
    const recent = later?.tasks[1];
    if (!later || !recent) throw new Error('nothing claimed');
    await queue.complete(later.claim, [recent.id]);
    expect(await queue.pruneDone(new Date(clock.now().getTime() - 24 * 3600_000))).toBe(1);
    const left = (
      await db()
        .dataSource.getRepository(Task)
        .find({ order: { id: 'ASC' } })
    ).map((task) => task.id);
    expect(left).toEqual([second.id, third.id, recent.id]);
  });
});
