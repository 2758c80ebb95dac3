import type { DataSource } from 'typeorm';
import { databaseTimeFromNow } from '../../server/db/lease-queue';
import { executeCountingRows } from '../../server/db/sql';
import type { RunOnceOutcome, RunOnceParams, TaskQueue } from '../../server/modules/tasks/task-queue.service';

/**
 * Lease deadlines are on the database's clock (server/db/lease-queue.ts), which a test cannot
 * move: it moves the deadlines instead. The live leases of `table` (rows carrying a holder) end
 * `ms` from now on the database's clock; a negative `ms` has them ended that long ago. Returns how
 * many rows it moved.
 */
export async function setLeaseDeadlines(p: { dataSource: DataSource; table: string; ms: number; where?: string }): Promise<number> {
  const manager = p.dataSource.manager;
  const until = databaseTimeFromNow(manager, p.ms);
  return executeCountingRows(
    manager,
    `UPDATE ${p.table} SET lease_until = ${until.sql} WHERE lease_holder IS NOT NULL${p.where ? ` AND (${p.where})` : ''}`,
    until.params,
  );
}

/** Every lease of `table` ended a millisecond ago: its holder is as good as dead (kill -9). */
export function expireLeases(dataSource: DataSource, table: string): Promise<number> {
  return setLeaseDeadlines({ dataSource, table, ms: -1 });
}

/**
 * Runs the queue's rounds until one finds nothing due, at most `maxRounds` (a handler that keeps
 * making due work fails the test instead of spinning).
 */
export async function drainTasks(queue: TaskQueue, params: RunOnceParams & { maxRounds?: number }): Promise<RunOnceOutcome> {
  const total: RunOnceOutcome = { done: 0, retried: 0, failed: 0 };
  const maxRounds = params.maxRounds ?? 100;
  for (let round = 0; ; round += 1) {
    if (round >= maxRounds) throw new Error(`the task queue was not drained in ${maxRounds} rounds`);
    const outcome = await queue.runOnce(params);
    total.done += outcome.done;
    total.retried += outcome.retried;
    total.failed += outcome.failed;
    if (outcome.done + outcome.retried + outcome.failed === 0) return total;
  }
}
