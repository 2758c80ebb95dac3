import type { DataSource, EntityManager } from 'typeorm';
import type { LifecycleStage } from '../../../entities/contact.entity';
import { JobCursor } from '../../../entities/job-cursor.entity';
import type { Clock } from '../../adapters/clock';
import type { Transactor } from '../../db/transaction';
import { isMysqlManager, placeholders, toSqlDate } from '../../db/sql';

/**
 * Counters for figures that would otherwise count millions of rows per request (the dashboard:
 * interactions per day and channel, contacts per stage and per tag). A change is counted in the
 * transaction that makes it, by inserting a stat_deltas row: inserts never wait on each other,
 * where two transactions adding to one counter row would (every new follower counts towards the
 * same stage). A job folds the deltas into stat_counts; readers add both in one statement, so a
 * fold between two reads cannot count a change twice or miss it.
 *
 * The writers of the counted tables are few and all call countChanges(): ContactsService
 * (creation, stage, merges), InteractionsService, ContactTagsService and the tag deletions. Rows changed
 * by hand in SQL are not counted: `npm run admin -- recount-stats` counts everything again.
 */
export const STAT_METRICS = {
  /** Interactions per 15-minute UTC bucket of occurred_at, by channel. */
  interactionsByChannel: 'interactions.channel',
  /** Live contacts (not merged away) by stage. */
  contactsByStage: 'contacts.stage',
  /** Contact tags by tag id. */
  contactsByTag: 'contacts.tag',
} as const;
export type StatMetric = (typeof STAT_METRICS)[keyof typeof STAT_METRICS];

export interface StatChange {
  metric: StatMetric;
  /** The time it falls in, for a time series (bucketed to 15 minutes); none for a plain count. */
  at?: Date;
  dim: string;
  n: number;
}

/**
 * 15 minutes: every time zone's offset is a multiple of it (Nepal +5:45, Chatham +12:45), so the
 * buckets add up to whole days in any business time zone; 30 days are 2,880 buckets per channel.
 */
export const BUCKET_MS = 15 * 60_000;
/** The bucket of counts that have no time (a primary key column cannot be NULL). */
export const NO_BUCKET = toSqlDate(new Date(0));

const FOLD_BATCH = 5_000;
const DAY_MS = 86_400_000;
const CURSOR_PREFIX = 'stat-counted:';

export function stageChange(stage: LifecycleStage, n: number): StatChange {
  return { metric: STAT_METRICS.contactsByStage, dim: stage, n };
}

export function tagChange(tagId: number, n: number): StatChange {
  return { metric: STAT_METRICS.contactsByTag, dim: String(tagId), n };
}

/** Counts changes in the caller's transaction: one INSERT, whatever their number. */
export async function countChanges(manager: EntityManager, changes: StatChange[]): Promise<void> {
  const summed = sumByKey(changes.map((c) => ({ metric: c.metric, bucketAt: c.at ? bucketOf(c.at) : NO_BUCKET, dim: c.dim, n: c.n })));
  if (summed.length === 0) return;
  await manager.query(
    `INSERT INTO stat_deltas (metric, bucket_at, dim, n) VALUES ${summed.map(() => '(?, ?, ?, ?)').join(',')}`,
    summed.flatMap((row) => [row.metric, row.bucketAt, row.dim, row.n]),
  );
}

/**
 * A dimension is gone for good (a deleted tag): its counts go with it, in the caller's
 * transaction. Deltas before counts, the order the fold locks them in, so the two never deadlock.
 */
export async function forgetDims(manager: EntityManager, metric: StatMetric, dims: string[]): Promise<void> {
  if (dims.length === 0) return;
  for (const table of ['stat_deltas', 'stat_counts']) {
    await manager.query(`DELETE FROM ${table} WHERE metric = ? AND dim IN (${placeholders(dims.length)})`, [metric, ...dims]);
  }
}

/**
 * The current value of each (bucket, dim) of a metric, counts and unfolded deltas together in
 * one statement. `select` groups the bucket (a business-zone day, say): an SQL expression over
 * `bucket_at`.
 */
export async function readCounts(
  manager: EntityManager,
  metric: StatMetric,
  p: Partial<TimeRange> & { select?: string } = {},
): Promise<{ bucket: string; dim: string; n: number }[]> {
  const range = within('bucket_at', p);
  const params = [metric, ...range.params];
  const bucket = p.select ?? 'bucket_at';
  const rows: { bucket: unknown; dim: string; n: number | string }[] = await manager.query(
    `SELECT ${bucket} AS bucket, dim, SUM(n) AS n FROM (
       SELECT bucket_at, dim, n FROM stat_counts WHERE metric = ?${range.sql}
       UNION ALL SELECT bucket_at, dim, n FROM stat_deltas WHERE metric = ?${range.sql}
     ) s GROUP BY ${bucket}, dim`,
    [...params, ...params],
  );
  return rows.map((row) => ({ bucket: sqlText(row.bucket), dim: row.dim, n: Number(row.n) })).filter((row) => row.n !== 0);
}

/** From (inclusive) and to (exclusive), SQL datetime text; an end left out or null is open. */
interface TimeRange {
  from: string | null;
  to: string | null;
}

/** ` AND column >= ? AND column < ?` for the ends a range has, with their parameters. */
function within(column: string, range: Partial<TimeRange>): { sql: string; params: string[] } {
  const ends = [
    { value: range.from, op: '>=' },
    { value: range.to, op: '<' },
  ].filter((end): end is { value: string; op: string } => end.value != null);
  return { sql: ends.map((end) => ` AND ${column} ${end.op} ?`).join(''), params: ends.map((end) => end.value) };
}

/**
 * How each metric is counted from scratch: the rows of stat_counts, as SELECT metric, bucket_at,
 * dim, n. A time series is counted a slice of occurred_at at a time (`range`: from inclusive, to
 * exclusive, either open).
 */
function recountSql(metric: StatMetric, mysql: boolean, range: TimeRange): { sql: string; params: string[] } {
  switch (metric) {
    case STAT_METRICS.interactionsByChannel: {
      // The 15-minute bucket from the stored UTC text, without the session's time zone.
      const bucket = mysql
        ? "DATE_FORMAT(occurred_at, '%Y-%m-%d %H:00:00.000') + INTERVAL (MINUTE(occurred_at) DIV 15 * 15) MINUTE"
        : "strftime('%Y-%m-%d %H:', occurred_at) || printf('%02d', CAST(strftime('%M', occurred_at) AS INTEGER) / 15 * 15) || ':00.000'";
      const slice = within('occurred_at', range);
      return {
        sql: `SELECT '${metric}', ${bucket} AS b, channel, COUNT(*) FROM interactions WHERE 1 = 1${slice.sql} GROUP BY b, channel`,
        params: slice.params,
      };
    }
    case STAT_METRICS.contactsByStage:
      return {
        sql: `SELECT '${metric}', '${NO_BUCKET}', stage, COUNT(*) FROM contacts WHERE merged_into_id IS NULL GROUP BY stage`,
        params: [],
      };
    case STAT_METRICS.contactsByTag:
      return { sql: `SELECT '${metric}', '${NO_BUCKET}', CAST(tag_id AS CHAR), COUNT(*) FROM contact_tags GROUP BY tag_id`, params: [] };
  }
}

export interface StatCountersDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
}

export class StatCountersService {
  constructor(private readonly deps: StatCountersDeps) {}

  /**
   * The job (every few seconds, one instance at a time): counts from scratch any metric never
   * counted on this database (a new install, a new metric, the upgrade that brought counters),
   * then folds deltas into stat_counts. Returns the number of deltas folded.
   */
  async runOnce(): Promise<number> {
    const counted = await this.deps.dataSource.manager.find(JobCursor);
    const done = new Set(counted.filter((c) => c.name.startsWith(CURSOR_PREFIX)).map((c) => c.name.slice(CURSOR_PREFIX.length)));
    for (const metric of Object.values(STAT_METRICS)) if (!done.has(metric)) await this.recount(metric);
    let folded = 0;
    for (let n = FOLD_BATCH; n === FOLD_BATCH; folded += n) n = await this.fold();
    return folded;
  }

  /**
   * Counts a metric again from its rows. Each slice is one transaction: its deltas go first
   * (their changes are in the rows already, or, in a transaction still open, wait for this one),
   * then its counts are written from the rows. On MySQL the INSERT … SELECT reads with shared
   * locks, so writers of the rows it reads wait for it: the interactions series goes a day of
   * occurred_at at a time (5M interactions took 10 s in one statement, during which no callback
   * could be stored), the two contact counts in one statement each (1M contacts: under a second).
   */
  async recount(metric: StatMetric): Promise<void> {
    for (const range of await this.slicesOf(metric)) {
      await this.deps.transactor.runRetrying(async (manager) => {
        const slice = within('bucket_at', range);
        await manager.query(`DELETE FROM stat_deltas WHERE metric = ?${slice.sql}`, [metric, ...slice.params]);
        await manager.query(`DELETE FROM stat_counts WHERE metric = ?${slice.sql}`, [metric, ...slice.params]);
        const select = recountSql(metric, isMysqlManager(manager), range);
        await manager.query(`INSERT INTO stat_counts (metric, bucket_at, dim, n) ${select.sql}`, select.params);
      });
    }
    const now = this.deps.clock.now();
    await this.deps.dataSource.manager.upsert(JobCursor, { name: `${CURSOR_PREFIX}${metric}`, value: toSqlDate(now), updatedAt: now }, [
      'name',
    ]);
  }

  /** Day-long slices of the interactions (open at both ends, so rows written meanwhile are in one); one slice otherwise. */
  private async slicesOf(metric: StatMetric): Promise<TimeRange[]> {
    const all = [{ from: null, to: null }];
    if (metric !== STAT_METRICS.interactionsByChannel) return all;
    const [row]: { first: unknown; last: unknown }[] = await this.deps.dataSource.query(
      'SELECT MIN(occurred_at) AS first, MAX(occurred_at) AS last FROM interactions',
    );
    if (row?.first == null || row.last == null) return all;
    const first = Math.floor(instantOf(row.first).getTime() / DAY_MS) * DAY_MS;
    const last = instantOf(row.last).getTime();
    const cuts: string[] = [];
    for (let at = first + DAY_MS; at <= last; at += DAY_MS) cuts.push(toSqlDate(new Date(at)));
    return [null, ...cuts].map((from, i) => ({ from, to: cuts[i] ?? null }));
  }

  /**
   * Folds the oldest deltas into stat_counts and deletes exactly those rows. The locking read
   * waits for a transaction that inserted a delta among them and has not committed, so none is
   * summed before it is real. READ COMMITTED: under REPEATABLE READ the read also locks the gap
   * after the newest delta, and every callback inserting one would wait for the fold's commit.
   */
  private async fold(): Promise<number> {
    return this.deps.transactor.runRetrying(
      async (manager) => {
        const mysql = isMysqlManager(manager);
        const rows: { id: number | string; metric: string; bucket_at: unknown; dim: string; n: number | string }[] = await manager.query(
          `SELECT id, metric, bucket_at, dim, n FROM stat_deltas ORDER BY id LIMIT ${FOLD_BATCH}${mysql ? ' FOR UPDATE' : ''}`,
        );
        if (rows.length === 0) return 0;
        const summed = sumByKey(
          rows.map((row) => ({ metric: row.metric, bucketAt: sqlText(row.bucket_at), dim: row.dim, n: Number(row.n) })),
        );
        if (summed.length > 0) {
          const upsert = mysql
            ? 'ON DUPLICATE KEY UPDATE n = n + VALUES(n)'
            : 'ON CONFLICT (metric, bucket_at, dim) DO UPDATE SET n = n + excluded.n';
          await manager.query(
            `INSERT INTO stat_counts (metric, bucket_at, dim, n) VALUES ${summed.map(() => '(?, ?, ?, ?)').join(',')} ${upsert}`,
            summed.flatMap((row) => [row.metric, row.bucketAt, row.dim, row.n]),
          );
        }
        const ids = rows.map((row) => Number(row.id));
        await manager.query(`DELETE FROM stat_deltas WHERE id IN (${placeholders(ids.length)})`, ids);
        return rows.length;
      },
      { readCommitted: true },
    );
  }
}

function bucketOf(at: Date): string {
  return toSqlDate(new Date(Math.floor(at.getTime() / BUCKET_MS) * BUCKET_MS));
}

/** A datetime as the drivers return it (a Date from mysql2, UTC text from better-sqlite3) → SQL text. */
function sqlText(value: unknown): string {
  return value instanceof Date ? toSqlDate(value) : String(value);
}

function instantOf(value: unknown): Date {
  return value instanceof Date ? value : new Date(`${String(value).replace(' ', 'T')}Z`);
}

interface CounterRow {
  metric: string;
  bucketAt: string;
  dim: string;
  n: number;
}

/** One row per key, in key order (writers of the same keys then lock them in the same order); zero sums dropped. */
function sumByKey(rows: CounterRow[]): CounterRow[] {
  const sums = new Map<string, CounterRow>();
  for (const row of rows) {
    const key = `${row.metric}\u0000${row.bucketAt}\u0000${row.dim}`;
    const sum = sums.get(key);
    if (sum) sum.n += row.n;
    else sums.set(key, { ...row });
  }
  return [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, row]) => row)
    .filter((row) => row.n !== 0);
}
