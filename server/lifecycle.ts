import type http from 'node:http';
import type { DataSource } from 'typeorm';
import type { Logger } from './adapters/logger';
import type { DrainGate } from './http/drain-gate';
import type { RunningJobs } from './jobs/scheduler';
import type { CallbackStore } from './modules/callbacks/callback-store';
import type { ReactionsWorker } from './modules/reactions/reactions.worker';
import type { TaskQueue } from './modules/tasks/task-queue.service';

export interface DrainParams {
  logger: Logger;
  gate: DrainGate;
  callbackStore: Pick<CallbackStore, 'drain'>;
  reactions: Pick<ReactionsWorker, 'stop' | 'idle'>;
  queue: Pick<TaskQueue, 'stop'>;
  /** The outbox's send loop: it finishes the batch in hand (its outcomes are written) and takes no more. */
  outboxSender?: { stop(): void; idle(): Promise<void> };
  jobs: RunningJobs;
  /** The listening server; null when the caller drives the app without one. */
  server: http.Server | null;
  dataSource: DataSource;
  /** How long open HTTP requests (an admin export, a long poll) may take once the work is done. */
  serverCloseTimeoutMs?: number;
}

const DEFAULT_SERVER_CLOSE_TIMEOUT_MS = 10_000;

/**
 * The shutdown sequence (SIGTERM, SIGINT), in the order that loses nothing:
 * 1. Close the drain gate: callbacks answer 503 at once (WeChat retries them, on another instance
 *    behind a balancer) and /readyz answers 503. The server keeps listening, so they get that
 *    answer rather than a refused connection.
 * 2. No new claims: the reactions worker and the task queue take no more rows.
 * 3. The callbacks let in before the gate closed are answered, and every write the callback store
 *    holds commits, those answered 503 past their deadline included.
 * 4. The jobs fire no more, and the runs under way finish (the tag syncs' claimed batches are
 *    completed or failed); the reactions pass in hand completes its claimed batch.
 * 5. The server closes (open requests finish, bounded), then the database.
 * Rows nobody claimed stay pending and are run by the next instance to start (replay job).
 */
export async function drainAndClose(p: DrainParams): Promise<void> {
  const started = Date.now();
  p.gate.close();
  p.logger.info('draining: callbacks answer 503, no new claims', { callbacksInFlight: p.gate.inFlight });
  p.reactions.stop();
  p.queue.stop();
  p.outboxSender?.stop();
  await p.gate.idle();
  await p.callbackStore.drain();
  await p.jobs.stop();
  await p.reactions.idle();
  await p.outboxSender?.idle();
  if (p.server) await closeServer(p.server, p.serverCloseTimeoutMs ?? DEFAULT_SERVER_CLOSE_TIMEOUT_MS, p.logger);
  await p.dataSource.destroy();
  p.logger.info('drained', { ms: Date.now() - started });
}

/** Stops listening and waits for open requests; past the timeout their connections are cut. */
async function closeServer(server: http.Server, timeoutMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // close() ends idle keep-alive connections; one that turns idle later would hold it open.
  const sweep = setInterval(() => server.closeIdleConnections(), 250);
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    if ((await Promise.race([closed, timeout])) === 'timeout') {
      logger.warn('requests still open at shutdown; closing their connections', { timeoutMs });
      server.closeAllConnections();
      await closed;
    }
  } finally {
    clearInterval(sweep);
    clearTimeout(timer);
  }
}
