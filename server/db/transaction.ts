import type { DataSource, EntityManager } from 'typeorm';
import { isTransientConflict, isUniqueViolation } from './errors';

/** Tries of a unit that keeps losing races before its error is let through. */
const MAX_TRIES = 4;

/**
 * Runs units of work in a transaction. On SQLite, TypeORM shares one connection among all
 * callers, so two overlapping transactions would nest as savepoints of each other; the runner
 * therefore queues them (SQLite has a single writer anyway). MySQL uses the pool as usual.
 * Known SQLite limit: a statement issued outside a transaction while one is open runs inside it
 * (same connection). Everything that must commit together goes through run(); the statements
 * outside (claims, lease updates) are idempotent and guarded, so being rolled back with a
 * neighbour only delays them. Production runs on MySQL, where this does not arise.
 */
export class Transactor {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly serial: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.serial = dataSource.options.type === 'better-sqlite3';
  }

  /**
   * `readCommitted`: on MySQL, the transaction takes no gap locks (REPEATABLE READ's locking reads
   * lock the gap after the last row they read, so nobody may insert past it until the commit).
   * SQLite's one writer makes it moot there.
   */
  run<T>(work: (manager: EntityManager) => Promise<T>, options: { readCommitted?: boolean } = {}): Promise<T> {
    if (!this.serial)
      return options.readCommitted ? this.dataSource.transaction('READ COMMITTED', work) : this.dataSource.transaction(work);
    const result = this.tail.then(() => this.dataSource.transaction(work));
    // The caller gets the failure through `result`; the queue only needs to know it is over.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Runs the unit again when it loses a race that rolled it back whole: a unique key taken by a
   * concurrent writer (two first messages from one new follower both creating the contact; the
   * retry finds the winner's row), an InnoDB deadlock or lock wait timeout between two instances
   * writing the same rows, SQLite's busy writer. A few tries, a short random pause between them.
   *
   * Every write guarded by a unique key goes through here (or inserts-or-ignores). Such a unit
   * looks for the key itself and answers as it would to a sequential duplicate, so the try after
   * a lost race answers as the first writer's duplicate would: the same 2xx, or the same 409.
   * Waiting duplicates deadlock each other when the first writer rolls back (InnoDB gives each a
   * shared lock on the key, then both want it exclusively): that too is retried. `onDuplicate`
   * answers should every try still meet a taken key, so that a duplicate is never a 500.
   */
  async runRetrying<T>(
    work: (manager: EntityManager) => Promise<T>,
    options: { readCommitted?: boolean; onDuplicate?: () => T } = {},
  ): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.run(work, options);
      } catch (error) {
        const duplicate = isUniqueViolation(error);
        if (attempt >= MAX_TRIES && duplicate && options.onDuplicate) return options.onDuplicate();
        if (attempt >= MAX_TRIES || !(duplicate || isTransientConflict(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }
}
