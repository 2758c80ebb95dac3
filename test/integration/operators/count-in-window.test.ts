import { ManualClock } from '../../../server/adapters/clock';
import { LoginThrottleStore } from '../../../server/modules/operators/login-throttle';
import { describeEachDatabase, useSecondInstance } from '../../support/database';

/**
 * LoginThrottleStore.countInWindow: the fixed window the mini-program API and the public
 * exhibition API count every call with (per session, per IP, per phone), in one upsert that
 * answers the count it wrote.
 */
describeEachDatabase('countInWindow', (db) => {
  const second = useSecondInstance(db);
  const limit = { max: 3, windowMs: 60_000 };

  it('lets `max` calls through, refuses the next until the window ends, then starts a new window', async () => {
    const clock = new ManualClock();
    const store = new LoginThrottleStore({ dataSource: db().dataSource, clock });
    for (let i = 0; i < 3; i += 1) await expect(store.countInWindow('k', limit)).resolves.toEqual({ ok: true });
    clock.advance(20_000);
    // 40 s of the window are left.
    await expect(store.countInWindow('k', limit)).resolves.toEqual({ ok: false, retryAfterMs: 40_000 });
    // Another key has its own count.
    await expect(store.countInWindow('other', limit)).resolves.toEqual({ ok: true });
    clock.advance(40_000);
    for (let i = 0; i < 3; i += 1) await expect(store.countInWindow('k', limit)).resolves.toEqual({ ok: true });
    await expect(store.countInWindow('k', limit)).resolves.toMatchObject({ ok: false });
  });

  it('counts a burst from two instances exactly: 60 calls at once under a limit of 50 give 50 passes and 10 refusals', async () => {
    const clock = new ManualClock();
    const stores = [
      new LoginThrottleStore({ dataSource: db().dataSource, clock }),
      new LoginThrottleStore({ dataSource: second(), clock }),
    ];
    const burst = { max: 50, windowMs: 60_000 };
    const results = await Promise.all(Array.from({ length: 60 }, (_v, i) => stores[i % 2].countInWindow('venue-ip', burst)));
    expect(results.filter((r) => r.ok)).toHaveLength(50);
    expect(results.filter((r) => !r.ok)).toHaveLength(10);
  });
});
