import { Task } from '../../../entities/task.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { computeBackoffMs, TaskQueue, type TaskResult } from '../../../server/modules/tasks/task-queue.service';
import { describeEachDatabase, useSecondInstance } from '../../support/database';

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

  function queueA(options: { maxAttempts?: number } = {}): TaskQueue {
    return new TaskQueue({ dataSource: db().dataSource, clock, holder: 'instance-a', logger, ...options });
  }
  function queueB(options: { maxAttempts?: number } = {}): TaskQueue {
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
      const keys = (await db().dataSource.getRepository(Task).find({ order: { id: 'ASC' } })).map((task) => task.dedupeKey);
      expect(keys).toEqual(['existing', 'new']);
    });

    it('refuses keys longer than the column, alike on both databases', async () => {
      await expect(queueA().enqueue({ kind: 'k', dedupeKey: 'x'.repeat(192), payload: {} })).rejects.toThrow(/dedupe key/);
    });
  });

  describe('claim', () => {
    it('gives two instances claiming at once disjoint tasks, each exactly once', async () => {
      const a = queueA();
      const b = queueB();
      await enqueueMany(a, 'k', 20);
      const seen: number[] = [];
      for (let round = 0; round < 10 && seen.length < 20; round += 1) {
        const [fromA, fromB] = await Promise.all([a.claim({ kinds: ['k'], limit: 8 }), b.claim({ kinds: ['k'], limit: 8 })]);
        expect(fromA.every((task) => task.leaseHolder === 'instance-a')).toBe(true);
        expect(fromB.every((task) => task.leaseHolder === 'instance-b')).toBe(true);
        seen.push(...fromA.map((task) => task.id), ...fromB.map((task) => task.id));
      }
      expect(seen).toHaveLength(20);
      expect(new Set(seen).size).toBe(20);
      const rows = await db().dataSource.getRepository(Task).find();
      expect(rows.every((task) => task.status === 'running' && task.attempts === 1)).toBe(true);
    });

    it('claims only due tasks of the asked kinds, oldest first', async () => {
      const queue = queueA();
      await queue.enqueue({ kind: 'k', dedupeKey: 'later', payload: {}, runAt: new Date(clock.now().getTime() + MINUTE) });
      await queue.enqueue({ kind: 'k', dedupeKey: 'now', payload: {} });
      await queue.enqueue({ kind: 'k', dedupeKey: 'earlier', payload: {}, runAt: new Date(clock.now().getTime() - MINUTE) });
      await queue.enqueue({ kind: 'other()', dedupeKey: 'other()', payload: {} });
      expect((await queue.claim({ kinds: ['k'], limit: 10 })).map((task) => task.dedupeKey)).toEqual(['earlier', 'now']);
      clock.advance(MINUTE);
      expect((await queue.claim({ kinds: ['k'], limit: 10 })).map((task) => task.dedupeKey)).toEqual(['later']);
    });

    it('hands a crashed worker’s task to another instance once its lease runs out', async () => {
      const a = queueA();
      const b = queueB();
      await a.enqueue({ kind: 'k', dedupeKey: 'crash', payload: {} });
      const [task] = await a.claim({ kinds: ['k'], limit: 1 });
      // instance-a "crashes" here: it never completes or fails the task.
      clock.advance(59_999);
      expect(await b.claim({ kinds: ['k'], limit: 1 })).toEqual([]);
      clock.advance(2);
      const [reclaimed] = await b.claim({ kinds: ['k'], limit: 1 });
      expect(reclaimed).toMatchObject({ id: task.id, leaseHolder: 'instance-b', attempts: 2 });
      // The old holder coming back to life cannot overwrite the new holder's outcome.
      expect(await a.complete(task.id)).toBe(false);
      expect(await a.fail(task.id, 'late')).toBe('not-held');
      expect(await b.complete(task.id)).toBe(true);
      expect(await findTask(task.id)).toMatchObject({ status: 'done', leaseHolder: null, leaseUntil: null });
    });

    it('fails a task whose worker crashed on its last attempt instead of running it again', async () => {
      const a = queueA({ maxAttempts: 1 });
      await a.enqueue({ kind: 'k', dedupeKey: 'poison', payload: {} });
      const [task] = await a.claim({ kinds: ['k'], limit: 1 });
      clock.advance(2 * MINUTE);
      expect(await queueB({ maxAttempts: 1 }).claim({ kinds: ['k'], limit: 1 })).toEqual([]);
      const row = await findTask(task.id);
      expect(row).toMatchObject({ status: 'failed', attempts: 1 });
      expect(row.lastError).toMatch(/lease expired/);
    });
  });

  describe('fail', () => {
    it('retries with exponential backoff: not due before runAt, due after', async () => {
      const queue = queueA();
      await queue.enqueue({ kind: 'k', dedupeKey: 'flaky', payload: {} });
      const [task] = await queue.claim({ kinds: ['k'], limit: 1 });
      expect(await queue.fail(task.id, 'errcode -1: system busy')).toBe('retried');
      expect(await findTask(task.id)).toMatchObject({
        status: 'pending',
        attempts: 1,
        lastError: 'errcode -1: system busy',
        runAt: new Date(clock.now().getTime() + 30_000),
        leaseHolder: null,
      });

      clock.advance(29_999);
      expect(await queue.claim({ kinds: ['k'], limit: 1 })).toEqual([]);
      clock.advance(1);
      const [again] = await queue.claim({ kinds: ['k'], limit: 1 });
      expect(again).toMatchObject({ id: task.id, attempts: 2 });
      expect(await queue.fail(task.id, 'still busy', { retryable: true })).toBe('retried');
      expect((await findTask(task.id)).runAt).toEqual(new Date(clock.now().getTime() + 60_000));
    });

    it('fails for good once maxAttempts are used up', async () => {
      const queue = queueA({ maxAttempts: 3 });
      await queue.enqueue({ kind: 'k', dedupeKey: 'doomed', payload: {} });
      const outcomes: string[] = [];
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        const [task] = await queue.claim({ kinds: ['k'], limit: 1 });
        expect(task.attempts).toBe(attempt);
        outcomes.push(await queue.fail(task.id, `failure ${attempt}`));
        clock.advance(3600_000);
      }
      expect(outcomes).toEqual(['retried', 'retried', 'failed']);
      expect(await queue.claim({ kinds: ['k'], limit: 1 })).toEqual([]);
      const [row] = await db().dataSource.getRepository(Task).find();
      expect(row).toMatchObject({ status: 'failed', attempts: 3, lastError: 'failure 3', leaseHolder: null });
    });

    it('fails a non-retryable error at once, keeping the error', async () => {
      const queue = queueA();
      await queue.enqueue({ kind: 'k', dedupeKey: 'bad-openid', payload: {} });
      const [task] = await queue.claim({ kinds: ['k'], limit: 1 });
      expect(await queue.fail(task.id, 'errcode 40003: invalid openid', { retryable: false })).toBe('failed');
      expect(await findTask(task.id)).toMatchObject({ status: 'failed', attempts: 1, lastError: 'errcode 40003: invalid openid' });
      clock.advance(24 * 3600_000);
      expect(await queue.claim({ kinds: ['k'], limit: 1 })).toEqual([]);
    });
  });

  describe('runOnce and drain', () => {
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
                task.payload.n === 2 ? { id: task.id, ok: false, error: 'errcode 45159: invalid tag', retryable: false } : { id: task.id, ok: true },
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
      const rows = await db().dataSource.getRepository(Task).find({ order: { id: 'ASC' } });
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

    it('drains in batches of batchSize until nothing is due', async () => {
      const queue = queueA();
      await enqueueMany(queue, 'oa', 5);
      const sizes: number[] = [];
      const outcome = await queue.drain({
        batchSize: 2,
        handlers: {
          oa: (tasks) => {
            sizes.push(tasks.length);
            return Promise.resolve(tasks.map((task) => ({ id: task.id, ok: true as const })));
          },
        },
      });
      expect(sizes).toEqual([2, 2, 1]);
      expect(outcome).toEqual({ done: 5, retried: 0, failed: 0 });
    });

    it('stops draining when what is left is waiting out its backoff', async () => {
      const queue = queueA();
      await enqueueMany(queue, 'oa', 1);
      let calls = 0;
      const outcome = await queue.drain({
        handlers: {
          oa: (tasks) => {
            calls += 1;
            return Promise.resolve(tasks.map((task) => ({ id: task.id, ok: false as const, error: 'busy', retryable: true })));
          },
        },
      });
      expect(calls).toBe(1);
      expect(outcome).toEqual({ done: 0, retried: 1, failed: 0 });
    });
  });

  it('prunes done tasks older than the cut-off, keeping failed ones', async () => {
    const queue = queueA();
    await enqueueMany(queue, 'k', 3);
    const [first, second, third] = await queue.claim({ kinds: ['k'], limit: 3 });
    await queue.complete(first.id);
    await queue.fail(second.id, 'bad', { retryable: false });
    clock.advance(2 * 24 * 3600_000);
    await queue.complete(third.id);
    expect(await queue.pruneDone(new Date(clock.now().getTime() - 24 * 3600_000))).toBe(1);
    const left = (await db().dataSource.getRepository(Task).find({ order: { id: 'ASC' } })).map((task) => task.id);
    expect(left).toEqual([second.id, third.id]);
  });
});
