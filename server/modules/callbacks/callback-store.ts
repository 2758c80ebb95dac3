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
/**
 * Callbacks waiting for a group at most. Past it the store is far behind (the database stalled or
 * the traffic is beyond what it commits), and a newcomer would only wait out the deadline: it is
 * refused at once instead, and WeChat retries it. 2,000 is ten full groups, which a healthy
 * MariaDB commits well within the deadline, and a few seconds of the fastest traffic measured.
 */
const DEFAULT_MAX_WAITING = 2_000;
/**
 * A second (third ...) group starts beside one still committing only once that one has run this
 * long. A commit here takes a few ms; while it does, the callbacks behind it gather into one
 * group, and every group costs the same six statements whatever its size. A group that takes
 * longer is stalled (a lock wait, a slow log flush), and the callbacks behind it should not wait
 * with it: another writer takes them.
 */
const SPARE_WRITER_AFTER_MS = 15;

/** The callback is not stored and will not be by this request: answer 5xx so that WeChat retries. */
export class StoreUnavailableError extends Error {}

export class StoreDeadlineError extends StoreUnavailableError {
  constructor(ms: number) {
    super(`the callback was not stored within ${ms} ms`);
  }
}

export class StoreQueueFullError extends StoreUnavailableError {
  constructor(max: number) {
    super(`${max} callbacks are already waiting to be stored`);
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
  maxWaiting?: number;
  /**
   * Transactions the store holds at once: groups committing side by side, and the single stores
   * of a failed group. 1 on SQLite (one writer: more would only queue in the Transactor); on
   * MySQL a few, so that the next group's statements travel while the last one's commit waits
   * for its log flush (InnoDB flushes the commits waiting together in one write).
   */
  writers?: number;
}

export interface CallbackStoreState {
  waiting: number;
  groupsInFlight: number;
}

/**
 * Stores callbacks before they are acknowledged. Callbacks arriving together share one
 * transaction (group commit): each commit is a log flush, and on SQLite the single writer makes
 * it the bottleneck. Up to `writers` groups are in flight; while they commit, the next callbacks
 * gather. If a group fails, its callbacks are stored one by one, `writers` at a time (retrying
 * lost races), so one bad callback never fails its neighbours. The queue is bounded: when full,
 * a callback is refused at once (StoreQueueFullError) rather than left to wait out the deadline.
 */
export class CallbackStore {
  private readonly waiting: Waiting[] = [];
  private readonly deadlineMs: number;
  private readonly maxWaiting: number;
  private readonly writers: number;
  /** Groups scheduled or committing. */
  private inFlight = 0;
  /** Of those, the ones scheduled that have not taken their callbacks yet. */
  private starting = 0;
  /** When the last group was scheduled (performance.now()), and the timer that looks again. */
  private lastStartAt = 0;
  private spareTimer: NodeJS.Timeout | undefined;
  /** drain() callers, woken when nothing waits and no group is in flight. */
  private readonly drained: (() => void)[] = [];

  constructor(private readonly deps: CallbackStoreDeps) {
    this.deadlineMs = deps.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.maxWaiting = deps.maxWaiting ?? DEFAULT_MAX_WAITING;
    this.writers = Math.max(1, deps.writers ?? 1);
  }

  /**
   * Resolves once the interaction (and its work row) is committed. Rejects with a
   * StoreUnavailableError when the queue is full (at once) or past the deadline.
   */
  accept(draft: InteractionDraft): Promise<RecordResult> {
    if (this.waiting.length >= this.maxWaiting) return Promise.reject(new StoreQueueFullError(this.maxWaiting));
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

  state(): CallbackStoreState {
    return { waiting: this.waiting.length, groupsInFlight: this.inFlight };
  }

  /**
   * Resolves once every callback accepted so far is committed or has failed, those answered 503
   * past their deadline included: at shutdown, before the database closes.
   */
  async drain(): Promise<void> {
    if (this.inFlight === 0 && this.waiting.length === 0) return;
    await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  private scheduleFlush(): void {
    // A group serves many requests: its log lines carry no one request's id.
    if (currentRequestId() !== undefined) return runOutsideRequest(() => this.scheduleFlush());
    // A new group waits for a free writer; meanwhile more callbacks gather into it. It starts on
    // the next turn of the event loop, after the requests already read have been accepted.
    while (this.inFlight < this.writers && this.starting < this.waiting.length) {
      if (this.inFlight > 0) {
        const wait = this.lastStartAt + SPARE_WRITER_AFTER_MS - performance.now();
        if (wait > 0) {
          this.spareTimer ??= setTimeout(() => {
            this.spareTimer = undefined;
            this.scheduleFlush();
          }, wait);
          return;
        }
      }
      this.inFlight += 1;
      this.starting += 1;
      this.lastStartAt = performance.now();
      setImmediate(() => void this.flush());
    }
  }

  private async flush(): Promise<void> {
    // Everything waiting (up to a full group): a group scheduled beside it may find nothing left,
    // and frees its writer at once.
    this.starting -= 1;
    const group = this.waiting.splice(0, MAX_GROUP);
    try {
      if (group.length > 0) await this.commitGroup(group);
    } finally {
      this.inFlight -= 1;
      this.scheduleFlush();
      if (this.inFlight === 0 && this.waiting.length === 0) for (const wake of this.drained.splice(0)) wake();
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
      await this.storeEach(group);
    }
  }

  /** Each callback in its own transaction, `writers` at a time: a slow or bad one holds up no more than its own. */
  private async storeEach(group: Waiting[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < group.length) {
        const w = group[next++];
        try {
          w.resolve(await this.deps.transactor.runRetrying((m) => this.deps.interactions.recordInteraction(m, w.draft)));
        } catch (single) {
          w.reject(single);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.writers, group.length) }, worker));
  }
}
