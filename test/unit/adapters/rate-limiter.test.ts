import { createRateLimiter } from '../../../server/adapters/rate-limiter';

/** A limiter on a hand-moved clock whose sleeps advance that clock, so no test waits for real. */
function createTestLimiter(limit: { perSecond: number; burst: number }, perApi?: Record<string, { perSecond: number; burst: number }>) {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const limiter = createRateLimiter({
    ...limit,
    ...(perApi ? { perApi } : {}),
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
  return {
    limiter,
    sleeps,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('createRateLimiter', () => {
  it('lets a burst through at once, then spaces calls at the sustained rate', async () => {
    const { limiter, sleeps } = createTestLimiter({ perSecond: 10, burst: 3 });
    for (let i = 0; i < 3; i += 1) await limiter.acquire('user/info');
    expect(sleeps).toEqual([]);
    await limiter.acquire('user/info');
    await limiter.acquire('user/info');
    // Each waiter reserves its token: the 4th waits 100 ms, the 5th 200 ms.
    expect(sleeps).toEqual([100, 200]);
  });

  it('refills with time, up to the burst', async () => {
    const { limiter, sleeps, advance } = createTestLimiter({ perSecond: 10, burst: 2 });
    await limiter.acquire('a');
    await limiter.acquire('a');
    advance(60_000);
    await limiter.acquire('a');
    await limiter.acquire('a');
    expect(sleeps).toEqual([]);
    await limiter.acquire('a');
    expect(sleeps).toEqual([100]);
  });

  it('keeps one bucket per API name', async () => {
    const { limiter, sleeps } = createTestLimiter({ perSecond: 1, burst: 1 });
    await limiter.acquire('user/info');
    await limiter.acquire('tags/create');
    expect(sleeps).toEqual([]);
    await limiter.acquire('user/info');
    expect(sleeps).toEqual([1000]);
  });

  it('applies per-API limits', async () => {
    const { limiter, sleeps } = createTestLimiter(
      { perSecond: 100, burst: 100 },
      { 'tags/members/batchtagging': { perSecond: 2, burst: 1 } },
    );
    await limiter.acquire('tags/members/batchtagging');
    await limiter.acquire('tags/members/batchtagging');
    expect(sleeps).toEqual([500]);
  });

  it('refuses a limit that could never let a call through', () => {
    expect(() => createRateLimiter({ perSecond: 0, burst: 1 })).toThrow(/perSecond/);
    expect(() => createRateLimiter({ perSecond: 1, burst: 1, perApi: { x: { perSecond: 1, burst: 0 } } })).toThrow(/x/);
  });

  it('waits for real by default', async () => {
    const limiter = createRateLimiter({ perSecond: 50, burst: 1 });
    await limiter.acquire('a');
    const started = Date.now();
    await limiter.acquire('a');
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });
});
