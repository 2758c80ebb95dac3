import type { DataSource } from 'typeorm';
import { ManualClock } from '../../../server/adapters/clock';
import { TokenStore, type FetchedToken } from '../../../server/adapters/token-store';
import { PlatformToken } from '../../../entities/platform-token.entity';
import { describeEachDatabase, useSecondInstance } from '../../support/database';
import { expireLeases, setLeaseDeadlines } from '../../support/leases';

const KEY = 'oa:wxtest:access_token';
const HOUR_MS = 3600_000;

/** A fetch that answers after `ms` with T1, T2, ... and counts its calls. */
function createFetcher(ms = 40) {
  let calls = 0;
  const fetch = async (): Promise<FetchedToken> => {
    calls += 1;
    const value = `T${calls}`;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { value, expiresInSeconds: 7200 };
  };
  return { fetch, calls: () => calls };
}

describeEachDatabase('TokenStore', (db) => {
  let clock: ManualClock;
  // A second connection pool on the same database stands in for a second server instance.
  const second = useSecondInstance(db);
  beforeEach(() => {
    clock = new ManualClock();
  });

  const storeOn = (dataSource: DataSource, holder: string) => new TokenStore({ dataSource, clock, holder, pollMs: 20, maxWaitMs: 3000 });

  it('fetches once when two instances ask at the same time, and both get the token', async () => {
    const a = storeOn(db().dataSource, 'instance-a');
    const b = storeOn(second(), 'instance-b');
    const fetcher = createFetcher();
    const results = await Promise.all([a.getToken(KEY, fetcher.fetch), b.getToken(KEY, fetcher.fetch), a.getToken(KEY, fetcher.fetch)]);
    expect(results).toEqual(['T1', 'T1', 'T1']);
    expect(fetcher.calls()).toBe(1);
    const row = await db().dataSource.getRepository(PlatformToken).findOneByOrFail({ key: KEY });
    expect(row.value).toBe('T1');
    expect(row.expiresAt?.toISOString()).toBe(new Date(clock.now().getTime() + 7200_000).toISOString());
    expect(row.leaseHolder).toBeNull();
  });

  it('serves the stored token until the refresh margin, then refreshes once', async () => {
    const a = storeOn(db().dataSource, 'instance-a');
    const b = storeOn(second(), 'instance-b');
    const fetcher = createFetcher(20);
    expect(await a.getToken(KEY, fetcher.fetch)).toBe('T1');

    clock.advance(2 * HOUR_MS - 5 * 60_000 - 1000); // 1 s before the 5-minute margin
    expect(await b.getToken(KEY, fetcher.fetch)).toBe('T1');
    expect(fetcher.calls()).toBe(1);

    clock.advance(2000); // inside the margin
    const results = await Promise.all([a.getToken(KEY, fetcher.fetch), b.getToken(KEY, fetcher.fetch)]);
    expect(fetcher.calls()).toBe(2);
    // The loser of the lease may hand out T1, which still works for almost 5 minutes.
    expect(results).toContain('T2');
    expect(results.every((value) => value === 'T1' || value === 'T2')).toBe(true);
    expect(await b.getToken(KEY, fetcher.fetch)).toBe('T2');
  });

  it('waits for the refresher when the stored token has expired', async () => {
    const a = storeOn(db().dataSource, 'instance-a');
    const b = storeOn(second(), 'instance-b');
    const fetcher = createFetcher(20);
    await a.getToken(KEY, fetcher.fetch);
    clock.advance(3 * HOUR_MS);
    const results = await Promise.all([a.getToken(KEY, fetcher.fetch), b.getToken(KEY, fetcher.fetch)]);
    expect(results).toEqual(['T2', 'T2']);
    expect(fetcher.calls()).toBe(2);
  });

  it('ignores an invalidate carrying a stale value, and honours one carrying the current value', async () => {
    const a = storeOn(db().dataSource, 'instance-a');
    const b = storeOn(second(), 'instance-b');
    const fetcher = createFetcher(5);
    await a.getToken(KEY, fetcher.fetch);

    expect(await b.invalidate(KEY, 'an-older-token')).toBe(false);
    expect(await a.getToken(KEY, fetcher.fetch)).toBe('T1');
    expect(fetcher.calls()).toBe(1);

    expect(await b.invalidate(KEY, 'T1')).toBe(true);
    expect(await a.getToken(KEY, fetcher.fetch)).toBe('T2');
    expect(fetcher.calls()).toBe(2);
  });

  it('takes over the lease of an instance that died while refreshing', async () => {
    await db().dataSource.getRepository(PlatformToken).insert({
      key: KEY,
      value: null,
      expiresAt: null,
      leaseHolder: 'crashed-instance',
      leaseUntil: null,
      updatedAt: clock.now(),
    });
    // Its lease has 30 s left on the database's clock, which times every lease.
    await setLeaseDeadlines({ dataSource: db().dataSource, table: 'platform_tokens', ms: 30_000 });
    const b = storeOn(second(), 'instance-b');
    const fetcher = createFetcher(5);
    const pending = b.getToken(KEY, fetcher.fetch);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fetcher.calls()).toBe(0);
    // Skipping the business clock past it changes nothing; the lease running out does.
    clock.advance(31_000);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fetcher.calls()).toBe(0);
    await expireLeases(db().dataSource, 'platform_tokens');
    expect(await pending).toBe('T1');
    expect(fetcher.calls()).toBe(1);
  });

  it('releases the lease when the fetch fails, so the next caller fetches at once', async () => {
    const a = storeOn(db().dataSource, 'instance-a');
    const b = storeOn(second(), 'instance-b');
    await expect(a.getToken(KEY, () => Promise.reject(new Error('platform down')))).rejects.toThrow('platform down');
    const fetcher = createFetcher(5);
    const started = Date.now();
    expect(await b.getToken(KEY, fetcher.fetch)).toBe('T1');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('gives up waiting after maxWaitMs, naming the lease holder', async () => {
    await db().dataSource.getRepository(PlatformToken).insert({
      key: KEY,
      value: null,
      expiresAt: null,
      leaseHolder: 'slow-instance',
      leaseUntil: null,
      updatedAt: clock.now(),
    });
    await setLeaseDeadlines({ dataSource: db().dataSource, table: 'platform_tokens', ms: 30_000 });
    const b = new TokenStore({ dataSource: second(), clock, holder: 'instance-b', pollMs: 20, maxWaitMs: 100 });
    await expect(b.getToken(KEY, createFetcher().fetch)).rejects.toThrow(/slow-instance/);
  });

  it('refuses an unusable token from the platform', async () => {
    const a = storeOn(db().dataSource, 'instance-a');
    await expect(a.getToken(KEY, () => Promise.resolve({ value: '', expiresInSeconds: 7200 }))).rejects.toThrow(/unusable/);
  });
});
