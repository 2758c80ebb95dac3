import type { DataSource } from 'typeorm';
import type { Clock } from '../adapters/clock';
import type { QueueStats } from '../adapters/metrics';
import { fromSqlDate } from './sql';

/** The lease queues and their due columns (see lease-queue.ts). */
const QUEUES = [
  { queue: 'reaction_work', due: 'next_attempt_at' },
  { queue: 'tasks', due: 'run_at' },
] as const;

/**
 * Each queue's pending rows and how long the oldest has been due, for the metrics scrape. One
 * statement per queue, served by the index every lease queue has for its claims, led by status
 * (IDX_reaction_work_due on (status, next_attempt_at); on tasks (status, kind, run_at)): a range
 * scan over the pending entries of the index only, never the done rows that make up most of the
 * table.
 */
export async function readQueueStats(p: { dataSource: DataSource; clock: Clock }): Promise<QueueStats[]> {
  const now = p.clock.now().getTime();
  const out: QueueStats[] = [];
  for (const { queue, due } of QUEUES) {
    const [row]: { depth: number | string; oldest: unknown }[] = await p.dataSource.query(
      `SELECT COUNT(*) AS depth, MIN(${due}) AS oldest FROM ${queue} WHERE status = 'pending'`,
    );
    const oldest = row?.oldest == null ? null : fromSqlDate(row.oldest).getTime();
    out.push({
      queue,
      depth: Number(row?.depth ?? 0),
      oldestDueAgeSeconds: oldest !== null && oldest < now ? (now - oldest) / 1000 : 0,
    });
  }
  return out;
}
