import { randomBytes } from 'node:crypto';
import type { DataSource, Repository } from 'typeorm';
import { PlatformToken } from '../../entities/platform-token.entity';
import { releaseRowLease, takeRowLease } from '../db/lease-queue';
import { isUniqueViolation } from '../db/errors';
import type { Clock } from './clock';
import type { Metrics } from './metrics';

export interface FetchedToken {
  value: string;
  expiresInSeconds: number;
}

export interface TokenStoreParams {
  dataSource: DataSource;
  clock: Clock;
  /** This instance's id; written into lease_holder so a stuck lease names its owner. */
  holder: string;
  /** How long a refresher may hold the lease before another instance takes over (the database's clock times it). */
  leaseMs?: number;
  /** Refresh this long before expiry, so a token is never used in its last minutes. */
  refreshBeforeMs?: number;
  /** How often a waiting instance looks for the refresher's result. */
  pollMs?: number;
  /** How long a waiting instance waits for another's refresh before giving up. */
  maxWaitMs?: number;
  /** Counts the fetches this instance makes (flywheel_token_refreshes_total). */
  metrics?: Pick<Metrics, 'tokenRefreshes'>;
}

const DEFAULT_LEASE_MS = 30_000;
const DEFAULT_REFRESH_BEFORE_MS = 5 * 60_000;
const DEFAULT_POLL_MS = 75;

/**
 * access_token and ticket cache shared by every instance through `platform_tokens`.
 *
 * "建议公众号开发者使用中控服务器统一获取和刷新access_token，其他业务逻辑服务器所使用的
 * access_token均来自于该中控服务器，不应该各自去刷新，否则容易造成冲突，导致access_token覆盖而
 * 影响业务" — here the database row is the central control: one instance at a time holds the
 * refresh lease (`takeRowLease`, the project's one lease protocol), the others wait and read its result. A token cached per
 * process is how instances invalidate each other (EasyWeChat #1453, WxJava #369).
 * @link https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export class TokenStore {
  private readonly dataSource: DataSource;
  private readonly repository: Repository<PlatformToken>;
  private readonly clock: Clock;
  private readonly holder: string;
  private readonly leaseMs: number;
  private readonly refreshBeforeMs: number;
  private readonly pollMs: number;
  private readonly maxWaitMs: number;
  private readonly metrics: Pick<Metrics, 'tokenRefreshes'> | null;
  /** The read of each key in flight: callers that ask while it runs share it (readRow). */
  private readonly reads = new Map<string, Promise<PlatformToken | null>>();

  constructor(params: TokenStoreParams) {
    this.dataSource = params.dataSource;
    this.repository = params.dataSource.getRepository(PlatformToken);
    this.clock = params.clock;
    // Room for the per-refresh suffix within lease_holder's 64 characters.
    this.holder = params.holder.slice(0, 48);
    this.leaseMs = params.leaseMs ?? DEFAULT_LEASE_MS;
    this.refreshBeforeMs = params.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS;
    this.pollMs = params.pollMs ?? DEFAULT_POLL_MS;
    this.maxWaitMs = params.maxWaitMs ?? this.leaseMs + 5_000;
    this.metrics = params.metrics ?? null;
  }

  /**
   * The stored token when it is fresh; otherwise the result of exactly one `fetch` across all
   * instances (this one, if it wins the lease). While another instance refreshes, a token that
   * is inside the refresh margin but not yet expired is still handed out rather than waited for.
   */
  async getToken(key: string, fetch: () => Promise<FetchedToken>): Promise<string> {
    const waitUntil = Date.now() + this.maxWaitMs;
    for (;;) {
      const row = await this.readRow(key);
      const now = this.clock.now();
      if (row && this.isFresh(row, now)) return row.value;
      if (!row) await this.insertEmptyRow(key, now);

      // A token per refresh, not per instance: two callers in one process must not both win.
      const lease = `${this.holder}#${randomBytes(6).toString('hex')}`;
      if (await this.takeLease(key, lease)) return this.refreshUnderLease(key, lease, fetch);

      // Someone else holds the lease: a token that still works beats waiting for the new one.
      if (row && this.isUsable(row, now)) return row.value;
      if (Date.now() > waitUntil) {
        const holder = row?.leaseHolder ?? 'another instance';
        throw new Error(`timed out waiting for ${holder} to refresh the platform token ${key}`);
      }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  /**
   * The key's row, read once for every caller that asks while a read of it is in flight: a batch
   * of 32 sends starting together makes one SELECT, not 32. A caller may join a read that began
   * just before it asked, never one that had already finished; invalidate() drops the shared read
   * so the retry after a rejected token reads again.
   */
  private readRow(key: string): Promise<PlatformToken | null> {
    const inFlight = this.reads.get(key);
    if (inFlight) return inFlight;
    const read = this.repository.findOneBy({ key }).finally(() => {
      if (this.reads.get(key) === read) this.reads.delete(key);
    });
    this.reads.set(key, read);
    return read;
  }

  /** When the stored token expires (null: none stored), without fetching one; never the value. */
  async readExpiry(key: string): Promise<{ expiresAt: Date | null }> {
    const row = await this.repository.findOneBy({ key });
    return { expiresAt: row?.value ? row.expiresAt : null };
  }

  /**
   * Forgets the token after the platform rejected it (40001/42001), but only if the row still
   * holds that very value: an instance holding an old token must not wipe the newer one another
   * instance already fetched. Returns true when the row was cleared.
   */
  async invalidate(key: string, staleValue: string): Promise<boolean> {
    this.reads.delete(key);
    const result = await this.repository
      .createQueryBuilder()
      .update(PlatformToken)
      .set({ value: null, expiresAt: null, updatedAt: this.clock.now() })
      .where({ key, value: staleValue })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  private isFresh(row: PlatformToken, now: Date): row is PlatformToken & { value: string } {
    return row.value !== null && row.expiresAt !== null && row.expiresAt.getTime() - this.refreshBeforeMs > now.getTime();
  }

  private isUsable(row: PlatformToken, now: Date): row is PlatformToken & { value: string } {
    return row.value !== null && row.expiresAt !== null && row.expiresAt.getTime() > now.getTime();
  }

  /** Insert-or-ignore: the first caller for a key creates the row the lease lives on. */
  private async insertEmptyRow(key: string, now: Date): Promise<void> {
    try {
      await this.repository.insert({ key, value: null, expiresAt: null, leaseHolder: null, leaseUntil: null, updatedAt: now });
    } catch (error) {
      // Deliberate: another caller created the row first; the lease lives on it all the same.
      if (!isUniqueViolation(error)) throw error;
    }
  }

  /** The guarded UPDATE that elects one refresher: it matches only while no live lease exists. */
  private async takeLease(key: string, lease: string): Promise<boolean> {
    return takeRowLease({
      manager: this.dataSource.manager,
      table: 'platform_tokens',
      where: { sql: '`key` = ?', params: [key] },
      holder: lease,
      leaseMs: this.leaseMs,
    });
  }

  private async refreshUnderLease(key: string, lease: string, fetch: () => Promise<FetchedToken>): Promise<string> {
    try {
      // The previous lease holder may have stored a fresh token between our read and our lease.
      const current = await this.repository.findOneBy({ key });
      if (current && this.isFresh(current, this.clock.now())) {
        await this.releaseLease(key, lease, {});
        return current.value;
      }
      const fetched = await this.fetchCounted(key, fetch);
      const now = this.clock.now();
      await this.releaseLease(key, lease, {
        value: fetched.value,
        expiresAt: new Date(now.getTime() + fetched.expiresInSeconds * 1000),
      });
      return fetched.value;
    } catch (error) {
      await this.releaseLease(key, lease, {});
      throw error;
    }
  }

  /** One fetch from the platform, counted by outcome; an unusable answer is a failed one. */
  private async fetchCounted(key: string, fetch: () => Promise<FetchedToken>): Promise<FetchedToken> {
    let outcome: 'ok' | 'failed' = 'failed';
    try {
      const fetched = await fetch();
      if (fetched.value === '' || !(fetched.expiresInSeconds > 0)) {
        throw new Error(`the platform returned an unusable token for ${key}`);
      }
      outcome = 'ok';
      return fetched;
    } finally {
      this.metrics?.tokenRefreshes.inc({ key, outcome });
    }
  }

  /**
   * Stores the new token while the lease is still ours, then ends the lease; a lease that expired
   * and was taken over is left alone (and the late token is not stored over the new holder's).
   */
  private async releaseLease(key: string, lease: string, token: { value?: string; expiresAt?: Date }): Promise<void> {
    if (token.value !== undefined) {
      await this.repository
        .createQueryBuilder()
        .update(PlatformToken)
        .set({ ...token, updatedAt: this.clock.now() })
        .where({ key, leaseHolder: lease })
        .execute();
    }
    await releaseRowLease({
      manager: this.dataSource.manager,
      table: 'platform_tokens',
      where: { sql: '`key` = ?', params: [key] },
      holder: lease,
    });
  }
}
