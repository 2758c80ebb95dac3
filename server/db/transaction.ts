import type { DataSource, EntityManager } from 'typeorm';
import { isUniqueViolation } from './migrate';

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

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serial) return this.dataSource.transaction(work);
    const result = this.tail.then(() => this.dataSource.transaction(work));
    // The caller gets the failure through `result`; the queue only needs to know it is over.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Retries the whole unit once when it loses a race on a unique key (two first messages from
   * the same new follower both creating the contact); the retry then finds the winner's row.
   */
  async runRetryingOnConflict<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.run(work);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return this.run(work);
    }
  }
}
