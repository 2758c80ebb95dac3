/**
 * A token bucket per API name, in process. It smooths one instance's bursts so the platform's
 * per-second frequency limit (errcode 45011) is not hit; it does not know what other instances
 * send. Cluster-wide quotas (daily 45009 limits, one send per recipient) are the outbox's job,
 * which counts in the database.
 */
export interface RateLimiter {
  /** Resolves when one call to `api` may go out. */
  acquire(api: string): Promise<void>;
}

export interface RateLimit {
  /** Sustained calls per second. */
  perSecond: number;
  /** Calls allowed back to back after a quiet spell. */
  burst: number;
}

export interface CreateRateLimiterParams extends RateLimit {
  /** Tighter (or looser) limits for named APIs, e.g. `{ 'tags/members/batchtagging': { perSecond: 5, burst: 5 } }`. */
  perApi?: Record<string, RateLimit>;
  /** Milliseconds; injected by tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Bucket {
  limit: RateLimit;
  /** May go negative: each waiting caller reserves its token, so waiters leave in arrival order. */
  tokens: number;
  refilledAt: number;
}

export function createRateLimiter(params: CreateRateLimiterParams): RateLimiter {
  const now = params.now ?? Date.now;
  const sleep = params.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  assertLimit('default', params);
  for (const [api, limit] of Object.entries(params.perApi ?? {})) assertLimit(api, limit);
  const buckets = new Map<string, Bucket>();

  const bucketFor = (api: string): Bucket => {
    let bucket = buckets.get(api);
    if (!bucket) {
      const limit = params.perApi?.[api] ?? { perSecond: params.perSecond, burst: params.burst };
      bucket = { limit, tokens: limit.burst, refilledAt: now() };
      buckets.set(api, bucket);
    }
    return bucket;
  };

  return {
    async acquire(api: string): Promise<void> {
      const bucket = bucketFor(api);
      const at = now();
      const elapsedSeconds = Math.max(0, at - bucket.refilledAt) / 1000;
      bucket.tokens = Math.min(bucket.limit.burst, bucket.tokens + elapsedSeconds * bucket.limit.perSecond);
      bucket.refilledAt = at;
      bucket.tokens -= 1;
      if (bucket.tokens >= 0) return;
      await sleep(Math.ceil((-bucket.tokens / bucket.limit.perSecond) * 1000));
    },
  };
}

function assertLimit(name: string, limit: RateLimit): void {
  if (!(limit.perSecond > 0) || !(limit.burst >= 1)) {
    throw new Error(`rate limit for ${name} needs perSecond > 0 and burst >= 1`);
  }
}

/** For the sandbox and tests that do not exercise limits. */
export const unlimitedRateLimiter: RateLimiter = { acquire: () => Promise.resolve() };
