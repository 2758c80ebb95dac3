import type { Logger } from '../../adapters/logger';
import { currentRequestId, runOutsideRequest } from '../../adapters/request-context';
import type { Transactor } from '../../db/transaction';
import type { InteractionDraft, InteractionsService, RecordResult } from '../interactions/interactions.service';

/** Callbacks committed together at most; bounds one transaction's size and lock time. */
const MAX_GROUP = 200;
/**
 * WeChat waits 5 s for an answer, then retries. A store that has not committed by 4 s is
 * answered 5xx instead of late: the retry is safe whether or not this write commits after all,
 * since its dedupe key makes it a duplicate then.
 */
const DEFAULT_DEADLINE_MS = 4_000;

export class StoreDeadlineError extends Error {
  constructor(ms: number) {
    super(`the callback was not stored within ${ms} ms`);
  }
}

interface Waiting {
  draft: InteractionDraft;
  resolve: (result: RecordResult) => void;
  reject: (error: unknown) => void;
}

export interface CallbackStoreDeps {
  transactor: Transactor;
  interactions: InteractionsService;
  logger: Logger;
  deadlineMs?: number;
}

/**
 * Stores callbacks before they are acknowledged. Callbacks arriving together share one
 * transaction (group commit): each commit is a log write, and on SQLite the single writer makes
 * it the bottleneck. One group is in flight per process; while it commits, the next callbacks
 * gather into the next group. If a group fails, each callback is stored on its own (retrying lost
 * races), so one bad callback never fails its neighbours.
 */
export class CallbackStore {
  private readonly waiting: Waiting[] = [];
  private flushScheduled = false;
  private readonly deadlineMs: number;
  /** drain() callers, woken when no group is scheduled or committing. */
  private readonly drained: (() => void)[] = [];

  constructor(private readonly deps: CallbackStoreDeps) {
    this.deadlineMs = deps.deadlineMs ?? DEFAULT_DEADLINE_MS;
  }

  /** Resolves once the interaction (and its work row) is committed; StoreDeadlineError past the deadline. */
  accept(draft: InteractionDraft): Promise<RecordResult> {
    const stored = new Promise<RecordResult>((resolve, reject) => {
      this.waiting.push({ draft, resolve, reject });
      this.scheduleFlush();
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new StoreDeadlineError(this.deadlineMs)), this.deadlineMs);
    });
    // The write goes on after the deadline; its outcome is only logged then.
    stored.catch((error: unknown) => this.deps.logger.debug('callback store failed', { error }));
    return Promise.race([stored, deadline]).finally(() => clearTimeout(timer));
  }

  /**
   * Resolves once every callback accepted so far is committed or has failed, those answered 503
   * past their deadline included: at shutdown, before the database closes.
   */
  async drain(): Promise<void> {
    if (!this.flushScheduled) return;
    await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  private scheduleFlush(): void {
    // A group serves many requests: its log lines carry no one request's id.
    if (currentRequestId() !== undefined) return runOutsideRequest(() => this.scheduleFlush());
    if (this.flushScheduled || this.waiting.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const group = this.waiting.splice(0, MAX_GROUP);
    try {
      await this.commitGroup(group);
    } finally {
      this.flushScheduled = false;
      this.scheduleFlush();
      if (!this.flushScheduled) for (const wake of this.drained.splice(0)) wake();
    }
  }

  private async commitGroup(group: Waiting[]): Promise<void> {
    try {
      const results = await this.deps.transactor.run((m) =>
        this.deps.interactions.recordInteractions(
          m,
          group.map((w) => w.draft),
        ),
      );
      group.forEach((w, i) => w.resolve(results[i]));
    } catch (error) {
      if (group.length > 1) this.deps.logger.debug('group commit failed; storing its callbacks one by one', { size: group.length, error });
      for (const w of group) {
        try {
          w.resolve(await this.deps.transactor.runRetrying((m) => this.deps.interactions.recordInteraction(m, w.draft)));
        } catch (single) {
          w.reject(single);
        }
      }
    }
  }
}
