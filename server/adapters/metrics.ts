import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from './logger';

/** One lease queue's backlog, read from the database when Prometheus scrapes. */
export interface QueueStats {
  /** The table: `reaction_work`, `tasks`. */
  queue: string;
  /** Pending rows, due or not, claimed or not. */
  depth: number;
  /** How long the oldest pending row has been due (0 when none is due): how late the queue runs. */
  oldestDueAgeSeconds: number;
}

export interface MetricsParams {
  logger: Logger;
  /** Read at each scrape; absent: no queue gauges are reported. */
  readQueues?: () => Promise<QueueStats[]>;
}

/**
 * Flywheel's Prometheus metrics (prom-client) on a registry of its own: the composition root
 * builds one and passes it to whoever counts, and each test stack has its own, so nothing leans
 * on prom-client's global default registry. Names and labels are listed in the README
 * (Operations); label values come from small fixed sets (sources, statuses, reasons, queue and
 * token names), never from user input.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Callback POSTs answered, by platform (`oa`, `wecom`) and HTTP status. */
  readonly callbacks: Counter<'source' | 'status'>;
  /** Time from handing a callback to the store to its commit (`stored`, `duplicate`) or its failure (`failed`). */
  readonly callbackStoreSeconds: Histogram<'outcome'>;
  /** Failed reaction attempts: `retried` later, or `failed` for good. */
  readonly reactionsFailed: Counter<'outcome'>;
  /** access_token and ticket fetches from the platforms, by store key and outcome (`ok`, `failed`). */
  readonly tokenRefreshes: Counter<'key' | 'outcome'>;
  /** Refused logins, by the reason the audit log records (`wrong_password`, `throttled_ip` ...). */
  readonly loginFailures: Counter<'reason'>;

  constructor(params: MetricsParams) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.callbacks = new Counter({
      name: 'flywheel_callbacks_total',
      help: 'Callback POSTs answered, by source and HTTP status',
      labelNames: ['source', 'status'],
      registers,
    });
    this.callbackStoreSeconds = new Histogram({
      name: 'flywheel_callback_store_seconds',
      help: 'Time for a callback to be committed by the callback store (group commit), by outcome',
      labelNames: ['outcome'],
      // Up to the 4 s store deadline and WeChat's 5 s.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 5],
      registers,
    });
    this.reactionsFailed = new Counter({
      name: 'flywheel_reactions_failed_total',
      help: 'Failed reaction attempts, by outcome (retried, failed for good)',
      labelNames: ['outcome'],
      registers,
    });
    this.tokenRefreshes = new Counter({
      name: 'flywheel_token_refreshes_total',
      help: 'Platform access_token and ticket fetches, by token key and outcome',
      labelNames: ['key', 'outcome'],
      registers,
    });
    this.loginFailures = new Counter({
      name: 'flywheel_login_failures_total',
      help: 'Refused operator logins, by reason',
      labelNames: ['reason'],
      registers,
    });
    if (params.readQueues) this.registerQueueGauges(params.readQueues, params.logger);
  }

  /** Observes how long `stored` takes and how it ends; answers what it answers. */
  async timeCallbackStore<T extends { recorded: boolean }>(stored: Promise<T>): Promise<T> {
    const stop = this.callbackStoreSeconds.startTimer();
    try {
      const result = await stored;
      stop({ outcome: result.recorded ? 'stored' : 'duplicate' });
      return result;
    } catch (error) {
      // Past the deadline (answered 503) or an error (answered 500): not stored yet.
      stop({ outcome: 'failed' });
      throw error;
    }
  }

  /** The Prometheus text exposition of every metric. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * Two gauges filled by one database read per scrape (prom-client collects metrics concurrently,
   * so concurrent collects share the read in flight). A failed read is logged and reports no
   * queue values rather than stale ones; the rest of the scrape still answers.
   */
  private registerQueueGauges(readQueues: () => Promise<QueueStats[]>, logger: Logger): void {
    let reading: Promise<QueueStats[] | null> | null = null;
    const readOnce = (): Promise<QueueStats[] | null> => {
      reading ??= readQueues()
        .catch((error: unknown) => {
          logger.warn('queue metrics could not be read', { error });
          return null;
        })
        .finally(() => {
          reading = null;
        });
      return reading;
    };
    const setAll = (gauge: Gauge<'queue'>, stats: QueueStats[] | null, value: (q: QueueStats) => number): void => {
      gauge.reset();
      for (const q of stats ?? []) gauge.set({ queue: q.queue }, value(q));
    };
    const depth: Gauge<'queue'> = new Gauge({
      name: 'flywheel_queue_depth',
      help: 'Pending rows of a lease queue (reaction_work, tasks), read at scrape time',
      labelNames: ['queue'],
      registers: [this.registry],
      collect: async () => setAll(depth, await readOnce(), (q) => q.depth),
    });
    const age: Gauge<'queue'> = new Gauge({
      name: 'flywheel_queue_oldest_due_age_seconds',
      help: 'Seconds since the oldest pending row of a lease queue fell due (0 when none is due), read at scrape time',
      labelNames: ['queue'],
      registers: [this.registry],
      collect: async () => setAll(age, await readOnce(), (q) => q.oldestDueAgeSeconds),
    });
  }
}
