import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { PreparedRequest } from './callback-messages';

/** A request that has not answered in this time counts as an error. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Enough sockets that a slow server queues requests, not the client; the queueing still counts. */
const FIXED_RATE_MAX_SOCKETS = 256;
const ERROR_SAMPLES = 5;

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface PhaseResult {
  sent: number;
  ok: number;
  errors: number;
  /** The first few distinct error descriptions with their counts. */
  errorSamples: string[];
  /** From the first send (or its scheduled time) to the last answer. */
  durationMs: number;
  /** Successful answers per second over durationMs. */
  okPerSecond: number;
  latencyMs: LatencySummary;
  /** The closed loop ran out of prepared messages before its time was up. */
  exhausted: boolean;
}

interface Outcome {
  ok: boolean;
  detail: string;
}

/**
 * Sends one prepared request to 127.0.0.1 (a POST of XML unless it says otherwise); never rejects.
 * Success is 200 with body `success`, or the request's own `okStatus`.
 */
function sendOne(agent: http.Agent, port: number, prepared: PreparedRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const method = prepared.method ?? 'POST';
    const request = http.request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method,
        path: prepared.path,
        headers: {
          ...(prepared.headers ?? { 'content-type': 'text/xml' }),
          ...(method === 'POST' ? { 'content-length': prepared.body.length } : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => resolve({ ok: false, detail: error.message }));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (prepared.okStatus !== undefined ? status === prepared.okStatus : status === 200 && body === 'success')
            resolve({ ok: true, detail: '' });
          else resolve({ ok: false, detail: `HTTP ${status} ${JSON.stringify(body.slice(0, 60))}` });
        });
      },
    );
    request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', (error) => resolve({ ok: false, detail: error.message }));
    request.end(method === 'POST' ? prepared.body : undefined);
  });
}

class Recorder {
  private readonly latencies: Float64Array;
  private count = 0;
  private ok = 0;
  private readonly errors = new Map<string, number>();

  constructor(capacity: number) {
    this.latencies = new Float64Array(capacity);
  }

  record(latencyMs: number, outcome: Outcome): void {
    if (this.count < this.latencies.length) this.latencies[this.count] = latencyMs;
    this.count += 1;
    if (outcome.ok) {
      this.ok += 1;
    } else if (this.errors.has(outcome.detail) || this.errors.size < ERROR_SAMPLES) {
      this.errors.set(outcome.detail, (this.errors.get(outcome.detail) ?? 0) + 1);
    }
  }

  summarize(durationMs: number, exhausted: boolean): PhaseResult {
    const sorted = this.latencies.slice(0, Math.min(this.count, this.latencies.length)).sort();
    return {
      sent: this.count,
      ok: this.ok,
      errors: this.count - this.ok,
      errorSamples: [...this.errors].map(([detail, n]) => `${n} × ${detail}`),
      durationMs,
      okPerSecond: durationMs > 0 ? (this.ok * 1000) / durationMs : 0,
      latencyMs: { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), max: percentile(sorted, 1) },
      exhausted,
    };
  }
}

/** Nearest-rank percentile of an ascending array; 0 when empty. */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

export interface FixedRateParams {
  port: number;
  requests: PreparedRequest[];
  /** Requests per second. */
  rate: number;
}

/**
 * Open loop: request i is due at start + i/rate whether or not earlier ones have answered, and
 * its latency is measured from that due time, so a stalled server is charged for the requests
 * it held up (no coordinated omission). Sends every request in `requests`.
 */
export function runFixedRate(params: FixedRateParams): Promise<PhaseResult> {
  const { port, requests, rate } = params;
  const total = requests.length;
  const intervalMs = 1000 / rate;
  const agent = new http.Agent({ keepAlive: true, maxSockets: FIXED_RATE_MAX_SOCKETS });
  const recorder = new Recorder(total);
  return new Promise((resolve) => {
    if (total === 0) {
      resolve(recorder.summarize(0, false));
      return;
    }
    const start = performance.now();
    let next = 0;
    let answered = 0;
    const onAnswer = (dueAt: number, outcome: Outcome): void => {
      recorder.record(performance.now() - dueAt, outcome);
      answered += 1;
      if (answered === total) {
        agent.destroy();
        resolve(recorder.summarize(performance.now() - start, false));
      }
    };
    // A 1 ms timer rather than a busy loop: the client shares two cores with the server.
    const tick = (): void => {
      const now = performance.now();
      while (next < total && start + next * intervalMs <= now) {
        const dueAt = start + next * intervalMs;
        const prepared = requests[next];
        next += 1;
        if (prepared) void sendOne(agent, port, prepared).then((outcome) => onAnswer(dueAt, outcome));
      }
      if (next < total) setTimeout(tick, 1);
    };
    tick();
  });
}

export interface ClosedLoopParams {
  port: number;
  requests: PreparedRequest[];
  concurrency: number;
  /** Stop sending after this long (or when the requests run out). */
  seconds: number;
}

/** Closed loop: `concurrency` senders, each sending its next request when the last answered. */
export async function runClosedLoop(params: ClosedLoopParams): Promise<PhaseResult> {
  const { port, requests, concurrency, seconds } = params;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const recorder = new Recorder(requests.length);
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let next = 0;
  const sender = async (): Promise<void> => {
    while (next < requests.length && performance.now() < deadline) {
      const prepared = requests[next];
      next += 1;
      if (!prepared) break;
      const sentAt = performance.now();
      const outcome = await sendOne(agent, port, prepared);
      recorder.record(performance.now() - sentAt, outcome);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => sender()));
  const end = performance.now();
  agent.destroy();
  return recorder.summarize(end - start, next >= requests.length && end < deadline);
}
