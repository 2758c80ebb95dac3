import type { DataSource } from 'typeorm';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { LeaseQueue, releaseRowLease, takeRowLease } from '../../../server/db/lease-queue';
import { toSqlDate } from '../../../server/db/sql';
import { describeEachDatabase, useSecondInstance } from '../../support/database';

describeEachDatabase('lease queue: one claim protocol for every work table', (db) => {
  const clock = new ManualClock();
  const other = useSecondInstance(db);
  const queue = (holder: string, dataSource: DataSource = db().dataSource) =>
    new LeaseQueue({ dataSource, clock, holder, table: 'reaction_work', leaseMs: 15_000, maxAttempts: 3 });
  const addRows = async (...keys: string[]) => {
    const now = clock.now();
    for (const dedupeKey of keys) {
      await db().dataSource.manager.insert(ReactionWork, {
        dedupeKey,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      });
    }
  };
  const row = (id: number) => db().dataSource.manager.findOneByOrFail(ReactionWork, { id });

  it('takes rows due first, whatever their ids, never one that is backing off', async () => {
    await addRows('k1', 'k2', 'k3');
    const [r1, r2, r3] = await db().dataSource.manager.find(ReactionWork, { order: { id: 'ASC' } });
    await db().dataSource.manager.update(ReactionWork, { id: r1.id }, { nextAttemptAt: new Date(clock.now().getTime() + 60_000) });
    await db().dataSource.manager.update(ReactionWork, { id: r3.id }, { nextAttemptAt: new Date(clock.now().getTime() - 60_000) });
    expect((await queue('a').claim({ limit: 1 }))?.ids).toEqual([r3.id]);
    expect((await queue('b').claim({ limit: 10 }))?.ids).toEqual([r2.id]);
    expect(await queue('c').claim({ limit: 10 })).toBeNull();
  });

  it('two instances claiming at once never share a row', async () => {
    await addRows('k1', 'k2', 'k3', 'k4', 'k5', 'k6');
    const [a, b] = await Promise.all([queue('a').claim({ limit: 4 }), queue('b', other()).claim({ limit: 4 })]);
    const taken = [...(a?.ids ?? []), ...(b?.ids ?? [])];
    expect(new Set(taken).size).toBe(taken.length);
    const rest = await queue('c').claim({ limit: 10 });
    expect(new Set([...taken, ...(rest?.ids ?? [])]).size).toBe(6);
  });

  it('a claim counts no attempt; a lease that expires without an outcome counts one, and the first holder can no longer finish', async () => {
    await addRows('k1');
    const first = await queue('a').claim({ limit: 10 });
    if (!first) throw new Error('no claim');
    expect((await row(first.ids[0])).attempts).toBe(0);
    expect(await queue('b').claim({ limit: 10 })).toBeNull();
    clock.advance(15_001);
    const second = await queue('b').claim({ limit: 10 });
    expect(second?.ids).toEqual(first.ids);
    expect((await row(first.ids[0])).attempts).toBe(1);
    expect(await queue('a').complete(first, first.ids)).toBe(0);
    expect((await row(first.ids[0])).status).toBe('pending');
    if (!second) throw new Error('no claim');
    expect(await queue('b').complete(second, second.ids)).toBe(1);
    expect((await row(first.ids[0])).status).toBe('done');
  });

  it('renewing keeps a row from being taken while its batch runs long', async () => {
    await addRows('k1');
    const claim = await queue('a').claim({ limit: 10 });
    if (!claim) throw new Error('no claim');
    clock.advance(10_000);
    expect(await queue('a').renew(claim)).toBe(1);
    clock.advance(10_000);
    expect(await queue('b').claim({ limit: 10 })).toBeNull();
    clock.advance(5_001);
    expect((await queue('b').claim({ limit: 10 }))?.ids).toEqual(claim.ids);
  });

  it('failures back off, then fail for good after maxAttempts; a re-drive makes the row due again', async () => {
    await addRows('k1');
    const q = queue('a');
    for (const [attempt, outcome] of [
      [1, 'retried'],
      [2, 'retried'],
      [3, 'failed'],
    ] as const) {
      const claim = await q.claim({ limit: 10 });
      if (!claim) throw new Error(`no claim on attempt ${attempt}`);
      expect(await q.fail({ claim, id: claim.ids[0], error: `down ${attempt}` })).toBe(outcome);
      expect(await q.claim({ limit: 10 })).toBeNull();
      clock.advance(60 * 60 * 1000);
    }
    const [failed] = await db().dataSource.manager.find(ReactionWork);
    expect(failed).toMatchObject({ status: 'failed', attempts: 3, lastError: 'down 3' });
    expect(await q.redrive([failed.id])).toBe(1);
    expect((await q.claim({ limit: 10 }))?.ids).toEqual([failed.id]);
    expect((await row(failed.id)).attempts).toBe(0);
  });

  it('a row whose worker keeps dying fails after maxAttempts instead of looping', async () => {
    await addRows('k1');
    for (let i = 0; i < 3; i += 1) {
      await queue(`w${i}`).claim({ limit: 10 });
      clock.advance(15_001);
    }
    expect(await queue('last').claim({ limit: 10 })).toBeNull();
    const [dead] = await db().dataSource.manager.find(ReactionWork);
    expect(dead).toMatchObject({ status: 'failed', attempts: 3 });
    expect(dead.lastError).toMatch(/lease expired/);
  });

  it('a non-retryable failure is final at once; release gives a row back without an attempt', async () => {
    await addRows('k1', 'k2');
    const q = queue('a');
    const claim = await q.claim({ limit: 10 });
    if (!claim) throw new Error('no claim');
    expect(await q.fail({ claim, id: claim.ids[0], error: 'limit reached', retryable: false })).toBe('failed');
    await q.release(claim, [claim.ids[1]]);
    const again = await queue('b').claim({ limit: 10 });
    expect(again?.ids).toEqual([claim.ids[1]]);
    expect((await row(claim.ids[1])).attempts).toBe(0);
  });

  it('a row lease is taken by one holder, renewed by it, and free again once released or expired', async () => {
    await addRows('k1');
    const [r] = await db().dataSource.manager.find(ReactionWork);
    const lease = (holder: string, dataSource: DataSource = db().dataSource) => ({
      manager: dataSource.manager,
      table: 'reaction_work',
      where: { sql: 'id = ?', params: [r.id] },
      holder,
      until: new Date(clock.now().getTime() + 1_000),
      now: clock.now(),
    });
    const [a, b] = await Promise.all([takeRowLease(lease('a')), takeRowLease(lease('b', other()))]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    const winner = a ? 'a' : 'b';
    expect(await takeRowLease(lease(winner))).toBe(true);
    expect(await takeRowLease(lease(winner === 'a' ? 'b' : 'a'))).toBe(false);
    await releaseRowLease(lease(winner));
    expect(await takeRowLease(lease('c'))).toBe(true);
    clock.advance(1_001);
    expect(await takeRowLease(lease('d'))).toBe(true);
    expect(toSqlDate((await row(r.id)).leaseUntil ?? new Date(0))).toBe(toSqlDate(new Date(clock.now().getTime() + 1_000)));
  });
});
