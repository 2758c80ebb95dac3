import type { DataSource } from 'typeorm';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createDataSource } from '../../../server/db/data-source';
import {
  type ClaimMethod,
  claimMethodFor,
  databaseTimeFromNow,
  LeaseQueue,
  releaseRowLease,
  takeRowLease,
  versionHasSkipLocked,
} from '../../../server/db/lease-queue';
import { toSqlDate } from '../../../server/db/sql';
import { describeEachDatabase, useSecondInstance } from '../../support/database';
import { expireLeases, setLeaseDeadlines } from '../../support/leases';
import { queryPlan, rowsRead } from '../../support/query-plan';

const DAY_MS = 86_400_000;

describe('versionHasSkipLocked', () => {
  it('knows MySQL from 8.0.1 and MariaDB from 10.6 have SKIP LOCKED, and TiDB has not', () => {
    expect(versionHasSkipLocked('10.11.19-MariaDB-0+deb12u1')).toBe(true);
    expect(versionHasSkipLocked('10.6.0-MariaDB')).toBe(true);
    expect(versionHasSkipLocked('10.5.23-MariaDB-log')).toBe(false);
    expect(versionHasSkipLocked('11.4.2-MariaDB-ubu2404')).toBe(true);
    expect(versionHasSkipLocked('8.0.36')).toBe(true);
    expect(versionHasSkipLocked('8.4.0-log')).toBe(true);
    expect(versionHasSkipLocked('8.0.0-dmr')).toBe(false);
    expect(versionHasSkipLocked('5.7.44-log')).toBe(false);
    expect(versionHasSkipLocked('8.0.11-TiDB-v7.5.1')).toBe(false);
    expect(versionHasSkipLocked('5.7.25-TiDB-v6.5.0')).toBe(false);
  });
});

describeEachDatabase('lease queue: one claim protocol for every work table', (db) => {
  const clock = new ManualClock();
  const other = useSecondInstance(db);
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
  /** Rows whose lease ends more than `ms` from now on the database's clock. */
  const leasedBeyond = async (ms: number): Promise<number> => {
    const at = databaseTimeFromNow(db().dataSource.manager, ms);
    const [{ n }]: { n: number | string }[] = await db().dataSource.query(
      `SELECT COUNT(*) AS n FROM reaction_work WHERE lease_until > ${at.sql}`,
      at.params,
    );
    return Number(n);
  };

  it('sets a lease deadline by the database clock, whatever the instance clock says', async () => {
    // This instance's clock is two weeks behind the database's.
    clock.set(new Date(Date.now() - 14 * DAY_MS));
    await addRows('k1');
    const claim = await new LeaseQueue({ dataSource: db().dataSource, clock, holder: 'behind', table: 'reaction_work' }).claim({
      limit: 1,
    });
    expect(claim?.ids).toHaveLength(1);
    // Another instance whose clock is right does not see it as long expired.
    clock.set(new Date());
    expect(
      await new LeaseQueue({ dataSource: db().dataSource, clock, holder: 'right', table: 'reaction_work' }).claim({ limit: 1 }),
    ).toBeNull();
    expect(await leasedBeyond(14_000)).toBe(1);
    expect(await leasedBeyond(15_500)).toBe(0);
  });

  it('claims with SKIP LOCKED on MariaDB and with the guarded UPDATE on SQLite, asking the server once', async () => {
    const expected: ClaimMethod = db().config.kind === 'mysql' ? 'skip-locked' : 'guarded-update';
    expect(await claimMethodFor(db().dataSource)).toBe(expected);
    expect(claimMethodFor(db().dataSource)).toBe(claimMethodFor(db().dataSource));
  });

  describe.each<ClaimMethod | 'detected'>(['detected', 'guarded-update'])('claims: %s', (method) => {
    const queue = (holder: string, dataSource: DataSource = db().dataSource) =>
      new LeaseQueue({
        dataSource,
        clock,
        holder,
        table: 'reaction_work',
        leaseMs: 15_000,
        maxAttempts: 3,
        claimMethod: method === 'detected' ? undefined : method,
      });

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

    it('eight claimers on their own connections over 2,000 rows: every row is claimed exactly once', async () => {
      const ROWS = 2_000;
      const at = toSqlDate(clock.now());
      for (let start = 0; start < ROWS; start += 500) {
        const values = Array.from({ length: 500 }, (_, i) => `('many:${start + i}', 'pending', 0, '${at}', '${at}', '${at}')`);
        await db().dataSource.query(
          `INSERT INTO reaction_work (dedupe_key, status, attempts, next_attempt_at, created_at, updated_at) VALUES ${values.join(',')}`,
        );
      }
      // An instance each on MariaDB (its own pool); SQLite has one writer, so one connection.
      const own: DataSource[] = [];
      if (db().config.kind === 'mysql') {
        for (let i = 0; i < 8; i += 1) {
          const flavor = db().dataSource.options.type === 'mariadb' ? 'mariadb' : 'mysql';
          own.push(await createDataSource(db().config, { poolSize: 2, mysqlFlavor: flavor }));
        }
        await Promise.all(own.map((d) => d.initialize()));
      }
      const pending = async (): Promise<number> => {
        const [{ n }]: { n: number | string }[] = await db().dataSource.query(
          "SELECT COUNT(*) AS n FROM reaction_work WHERE status = 'pending'",
        );
        return Number(n);
      };
      const claimer = async (q: LeaseQueue): Promise<{ ids: number[]; empty: number }> => {
        const ids: number[] = [];
        let empty = 0;
        for (;;) {
          const claim = await q.claim({ limit: 10 });
          if (claim) {
            ids.push(...claim.ids);
            expect(await q.complete(claim, claim.ids)).toBe(claim.ids.length);
          } else if ((await pending()) === 0) {
            return { ids, empty };
          } else {
            // Every free row was being claimed by the others (or, without SKIP LOCKED, lost the race).
            empty += 1;
          }
        }
      };
      try {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => claimer(queue(`claimer-${i}`, own[i] ?? db().dataSource))));
        const all = results.flatMap((r) => r.ids);
        expect(all).toHaveLength(ROWS);
        expect(new Set(all).size).toBe(ROWS);
        const counts: { status: string; attempts: number | string; n: number | string }[] = await db().dataSource.query(
          'SELECT status, attempts, COUNT(*) AS n FROM reaction_work GROUP BY status, attempts',
        );
        expect(counts.map((c) => [c.status, Number(c.attempts), Number(c.n)])).toEqual([['done', 0, ROWS]]);
        if (db().config.kind === 'mysql') expect(results.filter((r) => r.ids.length > 0).length).toBeGreaterThan(1);
      } finally {
        await Promise.all(own.map((d) => d.destroy()));
      }
    });

    it('a claim counts no attempt; a lease that expires without an outcome counts one, and the first holder can no longer finish', async () => {
      await addRows('k1');
      const first = await queue('a').claim({ limit: 10 });
      if (!first) throw new Error('no claim');
      expect((await row(first.ids[0])).attempts).toBe(0);
      expect(await queue('b').claim({ limit: 10 })).toBeNull();
      await expireLeases(db().dataSource, 'reaction_work');
      const second = await queue('b').claim({ limit: 10 });
      expect(second?.ids).toEqual(first.ids);
      expect((await row(first.ids[0])).attempts).toBe(1);
      expect(await queue('a').complete(first, first.ids)).toBe(0);
      expect((await row(first.ids[0])).status).toBe('pending');
      if (!second) throw new Error('no claim');
      expect(await queue('b').complete(second, second.ids)).toBe(1);
      expect((await row(first.ids[0])).status).toBe('done');
    });

    it('times leases by the database clock: a skip of the business clock makes work due but takes no live lease', async () => {
      // The sandbox's OffsetClock: real time until a skip.
      clock.set(new Date());
      await addRows('live');
      const claim = await queue('a').claim({ limit: 10 });
      if (!claim) throw new Error('no claim');
      expect(await leasedBeyond(14_000)).toBe(1);
      expect(await leasedBeyond(15_500)).toBe(0);
      await db().dataSource.manager.insert(ReactionWork, {
        dedupeKey: 'tomorrow',
        status: 'pending',
        attempts: 0,
        nextAttemptAt: new Date(clock.now().getTime() + DAY_MS),
        createdAt: clock.now(),
        updatedAt: clock.now(),
      });
      // The sandbox skips two days ahead (POST /sandbox/control/clock).
      clock.advance(2 * DAY_MS);
      const after = await queue('b').claim({ limit: 10 });
      expect(after?.ids).toHaveLength(1);
      expect(after?.ids).not.toContain(claim.ids[0]);
      expect(await queue('a').complete(claim, claim.ids)).toBe(1);
    });

    it('renewing keeps a row from being taken while its batch runs long', async () => {
      await addRows('k1');
      const claim = await queue('a').claim({ limit: 10 });
      if (!claim) throw new Error('no claim');
      // 14 s of the 15 s lease have gone by.
      await setLeaseDeadlines({ dataSource: db().dataSource, table: 'reaction_work', ms: 1_000 });
      expect(await queue('a').renew(claim)).toBe(1);
      expect(await leasedBeyond(14_000)).toBe(1);
      expect(await queue('b').claim({ limit: 10 })).toBeNull();
      await expireLeases(db().dataSource, 'reaction_work');
      expect((await queue('b').claim({ limit: 10 }))?.ids).toEqual(claim.ids);
      expect(await queue('a').renew(claim)).toBe(0);
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
        expect(await queue(`w${i}`).claim({ limit: 10 })).not.toBeNull();
        await expireLeases(db().dataSource, 'reaction_work');
      }
      expect(await queue('last').claim({ limit: 10 })).toBeNull();
      const [dead] = await db().dataSource.manager.find(ReactionWork);
      expect(dead).toMatchObject({ status: 'failed', attempts: 3, leaseHolder: null });
      expect(dead.lastError).toMatch(/lease expired/);
    });

    it('a claim takes the live rows beside one that died on its last attempt', async () => {
      await addRows('dying', 'fresh');
      const [dying, fresh] = await db().dataSource.manager.find(ReactionWork, { order: { id: 'ASC' } });
      await db().dataSource.manager.update(ReactionWork, { id: fresh.id }, { nextAttemptAt: new Date(clock.now().getTime() + 1) });
      await db().dataSource.manager.update(ReactionWork, { id: dying.id }, { attempts: 2 });
      expect((await queue('a').claim({ limit: 1 }))?.ids).toEqual([dying.id]);
      await expireLeases(db().dataSource, 'reaction_work');
      clock.advance(1);
      expect((await queue('b').claim({ limit: 10 }))?.ids).toEqual([fresh.id]);
      expect(await row(dying.id)).toMatchObject({ status: 'failed', attempts: 3 });
    });

    it('a non-retryable failure is final at once; reschedule gives a row back, due later, without an attempt', async () => {
      await addRows('k1', 'k2');
      const q = queue('a');
      const claim = await q.claim({ limit: 10 });
      if (!claim) throw new Error('no claim');
      expect(await q.fail({ claim, id: claim.ids[0], error: 'limit reached', retryable: false })).toBe('failed');
      const later = new Date(clock.now().getTime() + 60_000);
      expect(await queue('b').reschedule({ token: 'b#not-the-holder', ids: claim.ids }, claim.ids[1], later)).toBe(false);
      expect(await q.reschedule(claim, claim.ids[1], later)).toBe(true);
      expect(await row(claim.ids[1])).toMatchObject({
        status: 'pending',
        attempts: 0,
        leaseHolder: null,
        leaseUntil: null,
        nextAttemptAt: later,
      });
      expect(await queue('b').claim({ limit: 10 })).toBeNull();
      clock.advance(60_000);
      const again = await queue('b').claim({ limit: 10 });
      expect(again?.ids).toEqual([claim.ids[1]]);
      // Given back, it is no longer the first claim's to reschedule or finish.
      expect(await q.reschedule(claim, claim.ids[1], later)).toBe(false);
      expect(await q.complete(claim, [claim.ids[1]])).toBe(0);
      expect((await row(claim.ids[1])).attempts).toBe(0);
    });
  });

  it('reads a claim from the due index and its rows back by primary key, never by token alone', async () => {
    const at = toSqlDate(clock.now());
    const values = Array.from(
      { length: 3_000 },
      (_, i) => `('done:${i}', 'done', 0, '${toSqlDate(new Date(clock.now().getTime() - (i % 8) * DAY_MS))}', '${at}', '${at}')`,
    );
    await db().dataSource.query(
      `INSERT INTO reaction_work (dedupe_key, status, attempts, next_attempt_at, created_at, updated_at) VALUES ${values.join(',')}`,
    );
    await addRows('p1', 'p2', 'p3');
    await db().dataSource.query(db().config.kind === 'mysql' ? 'ANALYZE TABLE reaction_work' : 'ANALYZE');
    const q = new LeaseQueue({ dataSource: db().dataSource, clock, holder: 'plan', table: 'reaction_work' });
    const candidateStatement = q.candidateStatement({ limit: 100 }, await q.claimMethod());
    const candidates = await queryPlan(db().dataSource, candidateStatement);
    expect(candidates.map((s) => s.index)).toEqual(['IDX_reaction_work_due']);
    expect(candidates[0].sorts).toBe(false);
    // Rows read, not EXPLAIN's estimate: the estimate follows InnoDB's sampled statistics, which
    // the suite's earlier tests leave in any state (it read 898 of 3,003 here once).
    const read = await rowsRead(db().dataSource, candidateStatement);
    if (read !== null) expect(Math.max(...read)).toBeLessThanOrEqual(3);
    const readBack = await queryPlan(db().dataSource, q.readBackStatement('plan#0', [1, 2, 3]));
    expect(readBack.map((s) => s.index)).toEqual(['PRIMARY']);
  });

  it('a row lease is taken by one holder, renewed by it, and free again once released or expired', async () => {
    await addRows('k1');
    const [r] = await db().dataSource.manager.find(ReactionWork);
    const lease = (holder: string, dataSource: DataSource = db().dataSource) => ({
      manager: dataSource.manager,
      table: 'reaction_work',
      where: { sql: 'id = ?', params: [r.id] },
      holder,
      leaseMs: 30_000,
    });
    const [a, b] = await Promise.all([takeRowLease(lease('a')), takeRowLease(lease('b', other()))]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    const winner = a ? 'a' : 'b';
    expect(await takeRowLease(lease(winner))).toBe(true);
    expect(await takeRowLease(lease(winner === 'a' ? 'b' : 'a'))).toBe(false);
    await releaseRowLease(lease(winner));
    expect(await takeRowLease(lease('c'))).toBe(true);
    expect(await takeRowLease(lease('d'))).toBe(false);
    await expireLeases(db().dataSource, 'reaction_work');
    expect(await takeRowLease(lease('d'))).toBe(true);
    expect(await leasedBeyond(29_000)).toBe(1);
    expect(await leasedBeyond(30_500)).toBe(0);
  });
});
