import fs from 'node:fs';
import os from 'node:os';
import mysql from 'mysql2/promise';
import { withIndexesDeferred } from './bench-seeding';
import type { DataSource } from 'typeorm';
import { systemClock } from '../server/adapters/clock';
import { createLogger } from '../server/adapters/logger';
import { createDataSource } from '../server/db/data-source';
import { isTransientConflict } from '../server/db/errors';
import { type ClaimMethod, type Statement } from '../server/db/lease-queue';
import { runMigrationsWithLock } from '../server/db/migrate';
import { TaskQueue } from '../server/modules/tasks/task-queue.service';

/**
 * `npm run bench:queue`: how fast the task queue hands out work on MariaDB/MySQL with a backlog of
 * BENCH_PENDING pending tasks (the older half of another kind) beside 8 days of BENCH_DONE done
 * tasks (what the prune job keeps). Each phase takes BENCH_PHASE_ROWS tasks of the backlog, in
 * batches of BENCH_BATCH, claiming and completing them as a worker does (TaskQueue.claim reads
 * the tasks' rows too), with one instance and with two instances at once (two DataSources), on
 * each claim method; beside the floor, a raw `UPDATE ... ORDER BY run_at LIMIT n` that takes and
 * finishes a batch in one statement, measured in the same run. Prints rows/s, claims/s, the
 * median claim, lost claims (empty while work was left: a race lost, a deadlock), duplicates
 * (must be 0), and the EXPLAIN of the claim's statements. BENCH_ROUNDS (2) rounds of all phases,
 * one after the other, so that a change in the shared machine's load shows between rounds instead
 * of favouring one phase. Figures and method: docs/BENCHMARKS.md.
 *
 * BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306/flywheel_bench_queue) names a database that
 * is DROPPED and created again; BENCH_KEEP=1 keeps its done rows and makes the backlog again.
 */

const URL_DEFAULT = 'mysql://root@127.0.0.1:3306/flywheel_bench_queue';
const DONE = Number(process.env.BENCH_DONE ?? 1_000_000);
const PENDING = Number(process.env.BENCH_PENDING ?? 100_000);
const PHASE_ROWS = Number(process.env.BENCH_PHASE_ROWS ?? 4_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const KIND = 'oa-tag-sync';
const OTHER_KIND = 'wecom-tag-sync';
const DAY_S = 86_400;
/**
 * The floor: one statement takes and finishes a batch. The index is forced so the floor does not
 * depend on the optimizer: on a 50,000-row table MariaDB 10.11 read all due tasks of the kind
 * through the `kind` index and sorted them (the plan without the hint is printed too).
 */
const RAW_UPDATE =
  "UPDATE tasks FORCE INDEX (IDX_tasks_claim) SET status = 'done', lease_holder = 'raw', updated_at = UTC_TIMESTAMP(3) WHERE status = 'pending' AND kind = ? AND run_at <= UTC_TIMESTAMP(3) ORDER BY run_at, id LIMIT ?";

interface PhaseResult {
  name: string;
  rows: number;
  claims: number;
  seconds: number;
  claimMs: number[];
  empty: number;
  duplicates: number;
  busy: number | null;
  steal: number | null;
}

async function main(): Promise<void> {
  const url = process.env.BENCH_MYSQL_URL ?? URL_DEFAULT;
  const database = new URL(url).pathname.slice(1);
  if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`unsafe database name ${database}`);
  const conn = await mysql.createConnection({ uri: url.replace(/\/[^/]*$/, '/') });
  const keep = process.env.BENCH_KEEP === '1';
  if (!keep) {
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await conn.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  }
  await conn.query(`USE \`${database}\``);
  await conn.query("SET time_zone = '+00:00'");
  const [[server]] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version, @@innodb_buffer_pool_size AS pool');
  const cpus = os.cpus();
  console.log(
    `server ${String(server.version)}, InnoDB buffer pool ${Math.round(Number(server.pool) / 2 ** 20)} MiB; ` +
      `machine ${cpus.length} CPUs (${cpus[0]?.model ?? 'unknown'}), load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );

  const dataSources: DataSource[] = [];
  const open = async (): Promise<DataSource> => {
    const dataSource = await createDataSource({ kind: 'mysql', url }, { poolSize: 4 });
    await dataSource.initialize();
    dataSources.push(dataSource);
    return dataSource;
  };
  const first = await open();
  const second = await open();
  await runMigrationsWithLock({ dataSource: first, holder: 'bench-queue', logger: createLogger('warn') });
  await seed(conn, keep);
  await conn.query('ANALYZE TABLE tasks');

  const logger = createLogger('silent');
  const queue = (dataSource: DataSource, holder: string, claimMethod?: ClaimMethod) =>
    new TaskQueue({ dataSource, clock: systemClock, holder, logger, claimMethod });
  const detected = await queue(first, 'bench-plan').leases.claimMethod();
  console.log(`claim method detected on this server: ${detected}\n`);
  await printPlans(conn, queue(first, 'bench-plan'));

  const results: PhaseResult[] = [];
  // Every worker of a phase adds its rows here, so two stop together once the phase has its rows.
  const shared = { rows: 0 };
  const phase = async (name: string, workers: (() => Promise<WorkerTally>)[]): Promise<void> => {
    shared.rows = 0;
    const cpuBefore = readCpuTimes();
    const start = process.hrtime.bigint();
    const tallies = await Promise.all(workers.map((worker) => worker()));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = cpuShares(cpuBefore, readCpuTimes());
    const ids = tallies.flatMap((t) => t.ids);
    const result: PhaseResult = {
      name,
      rows: tallies.reduce((n, t) => n + t.rows, 0),
      claims: tallies.reduce((n, t) => n + t.claims, 0),
      seconds,
      claimMs: tallies.flatMap((t) => t.claimMs).sort((a, b) => a - b),
      empty: tallies.reduce((n, t) => n + t.empty, 0),
      duplicates: ids.length - new Set(ids).size,
      busy: cpu?.busy ?? null,
      steal: cpu?.steal ?? null,
    };
    results.push(result);
    printResult(result);
  };

  const raw = async (): Promise<mysql.Connection> => {
    const c = await mysql.createConnection({ uri: url });
    await c.query("SET time_zone = '+00:00'");
    return c;
  };
  const rawA = await raw();
  const rawB = await raw();
  console.log(
    `each phase takes ${PHASE_ROWS.toLocaleString('en')} tasks of kind ${KIND} in batches of ${BATCH}; TaskQueue lease 60 s; ` +
      `${ROUNDS} rounds of every phase, so that a change in the machine's load shows as a difference between rounds\n`,
  );
  for (let round = 1; round <= ROUNDS; round += 1) {
    console.log(`round ${round}`);
    printHeader();
    await phase('baseline: raw UPDATE ... LIMIT, 1 connection', [() => rawWorker(rawA, shared)]);
    await phase('baseline: raw UPDATE ... LIMIT, 2 connections', [() => rawWorker(rawA, shared), () => rawWorker(rawB, shared)]);
    for (const method of ['skip-locked', 'guarded-update'] as ClaimMethod[]) {
      const a = queue(first, 'bench-a', method);
      const b = queue(second, 'bench-b', method);
      await phase(`queue (${method}), 1 instance`, [() => queueWorker(a, shared, conn)]);
      await phase(`queue (${method}), 2 instances`, [() => queueWorker(a, shared, conn), () => queueWorker(b, shared, conn)]);
    }
    console.log('');
  }

  // What every claim paid before: the read-back by lease_holder, which no index serves.
  const oldReadBack: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const t0 = process.hrtime.bigint();
    await conn.query('SELECT id FROM tasks WHERE lease_holder = ? ORDER BY run_at, id', [`bench-old#${i}`]);
    oldReadBack.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  oldReadBack.sort((x, y) => x - y);
  const [[size]] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM tasks');
  console.log(
    `\nbefore this change each claim also ran SELECT id FROM tasks WHERE lease_holder = ?: median ${oldReadBack[2].toFixed(1)} ms ` +
      `over ${Number(size.n).toLocaleString('en')} rows (5 runs), i.e. at most ${(1000 / oldReadBack[2]).toFixed(1)} claims/s per instance for that statement alone`,
  );

  await rawA.end();
  await rawB.end();
  await Promise.all(dataSources.map((d) => d.destroy()));
  await conn.end();
  if (results.some((r) => r.duplicates > 0)) {
    console.error('FAIL: a task was claimed twice');
    process.exitCode = 1;
  }
}

interface WorkerTally {
  rows: number;
  claims: number;
  claimMs: number[];
  empty: number;
  ids: number[];
}

/** Claims and completes batches, as a worker does (without the handler), until the phase has its rows. */
async function queueWorker(queue: TaskQueue, shared: { rows: number }, conn: mysql.Connection): Promise<WorkerTally> {
  const tally: WorkerTally = { rows: 0, claims: 0, claimMs: [], empty: 0, ids: [] };
  while (shared.rows < PHASE_ROWS) {
    const t0 = process.hrtime.bigint();
    const claimed = await queue.claim({ kinds: [KIND], limit: Math.min(BATCH, PHASE_ROWS - shared.rows) });
    tally.claimMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!claimed) {
      const [[left]] = await conn.query<mysql.RowDataPacket[]>(
        "SELECT COUNT(*) AS n FROM tasks WHERE status = 'pending' AND kind = ? AND lease_until IS NULL",
        [KIND],
      );
      if (Number(left.n) === 0) throw new Error('the backlog ran out: raise BENCH_PENDING or lower BENCH_PHASE_ROWS');
      tally.empty += 1;
      continue;
    }
    const ids = claimed.tasks.map((t) => t.id);
    const done = await queue.complete(claimed.claim, ids);
    if (done !== ids.length) throw new Error(`a claim lost ${ids.length - done} of its tasks`);
    tally.claims += 1;
    tally.rows += done;
    shared.rows += done;
    tally.ids.push(...ids);
  }
  return tally;
}

/** The floor: RAW_UPDATE until the phase has its rows (no token kept, no rows read back). */
async function rawWorker(conn: mysql.Connection, shared: { rows: number }): Promise<WorkerTally> {
  const tally: WorkerTally = { rows: 0, claims: 0, claimMs: [], empty: 0, ids: [] };
  while (shared.rows < PHASE_ROWS) {
    const t0 = process.hrtime.bigint();
    let result: mysql.ResultSetHeader;
    try {
      [result] = await conn.query<mysql.ResultSetHeader>(RAW_UPDATE, [KIND, Math.min(BATCH, PHASE_ROWS - shared.rows)]);
    } catch (error) {
      // Two connections updating the same oldest rows deadlock now and then; InnoDB rolled this one back.
      if (!isTransientConflict(error)) throw error;
      tally.empty += 1;
      continue;
    } finally {
      tally.claimMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    if (result.affectedRows === 0) throw new Error('the backlog ran out: raise BENCH_PENDING or lower BENCH_PHASE_ROWS');
    tally.claims += 1;
    tally.rows += result.affectedRows;
    shared.rows += result.affectedRows;
  }
  return tally;
}

/**
 * BENCH_DONE done tasks over the last 8 days (three kinds), then the backlog: BENCH_PENDING pending
 * tasks due in the last hour, alternating the claimed kind and another, so a claim of one kind has
 * the other's due rows beside its own. One INSERT ... SELECT from MariaDB's sequence engine each;
 * the done rows with the secondary indexes dropped and built again afterwards.
 */
async function seed(conn: mysql.Connection, keep: boolean): Promise<void> {
  const started = Date.now();
  const now = 'UTC_TIMESTAMP(3)';
  if (!keep) {
    const t0 = Date.now();
    await withIndexesDeferred(conn, 'tasks', () =>
      conn.query(
        `INSERT INTO tasks (kind, dedupe_key, payload, status, attempts, run_at, created_at, updated_at)
         SELECT ELT(1 + seq % 3, '${KIND}', '${OTHER_KIND}', 'bulk_tag'), CONCAT('done:', seq), '{"contactId":1,"openids":["o1"]}', 'done', 0,
           ${now} - INTERVAL 1 HOUR - INTERVAL FLOOR(seq * ${(8 * DAY_S) / DONE}) SECOND,
           ${now} - INTERVAL 1 HOUR - INTERVAL FLOOR(seq * ${(8 * DAY_S) / DONE}) SECOND, ${now}
         FROM seq_1_to_${DONE}`,
      ),
    );
    console.log(`  ${DONE.toLocaleString('en')} done tasks over 8 days: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const t1 = Date.now();
  await conn.query("DELETE FROM tasks WHERE dedupe_key LIKE 'backlog:%'");
  await conn.query(
    `INSERT INTO tasks (kind, dedupe_key, payload, status, attempts, run_at, created_at, updated_at)
     SELECT IF(seq <= ${PENDING / 2}, '${OTHER_KIND}', '${KIND}'), CONCAT('backlog:', seq), '{"contactId":1,"openids":["o1"]}', 'pending', 0,
       ${now} - INTERVAL 2 HOUR + INTERVAL seq * 10000 MICROSECOND, ${now}, ${now}
     FROM seq_1_to_${PENDING}`,
  );
  console.log(
    `  ${PENDING.toLocaleString('en')} pending tasks (the older half ${OTHER_KIND}): ${((Date.now() - t1) / 1000).toFixed(1)} s; seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

async function printPlans(conn: mysql.Connection, queue: TaskQueue): Promise<void> {
  const show = async (label: string, statement: Statement): Promise<void> => {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(`EXPLAIN ${statement.sql}`, statement.params);
    const plan = rows
      .map(
        (row) =>
          `${String(row.table)}: type=${String(row.type)} key=${String(row.key ?? '-')} rows=${String(row.rows)}${row.Extra ? ` ${String(row.Extra)}` : ''}`,
      )
      .join(' → ');
    console.log(`${label}\n  ${statement.sql.replace(/\s+/g, ' ')}\n  plan: ${plan}`);
  };
  await show('claim, skip-locked (MySQL 8, MariaDB 10.6+):', await queue.claimStatement({ kinds: [KIND], limit: BATCH }));
  await show(
    'claim, guarded-update (SQLite, TiDB): candidates',
    queue.leases.candidateStatement({ limit: BATCH, where: { sql: 'kind IN (?)', params: [KIND] } }, 'guarded-update'),
  );
  const ids = Array.from({ length: BATCH }, (_, i) => i + 1);
  await show('claim, guarded-update: read-back when a race took some candidates', queue.leases.readBackStatement('bench#0', ids));
  await show('before this change, every claim: read-back by token', {
    sql: 'SELECT id FROM tasks WHERE lease_holder = ? ORDER BY run_at, id',
    params: ['bench#0'],
  });
  await show('baseline: raw UPDATE ... LIMIT', { sql: RAW_UPDATE, params: [KIND, BATCH] });
  await show('the same without FORCE INDEX', { sql: RAW_UPDATE.replace(' FORCE INDEX (IDX_tasks_claim)', ''), params: [KIND, BATCH] });
  console.log('');
}

function printHeader(): void {
  console.log(
    `${'phase'.padEnd(48)} ${'rows/s'.padStart(8)} ${'claims/s'.padStart(9)} ${'claim p50 ms'.padStart(13)} ${'p95 ms'.padStart(8)} ${'lost'.padStart(6)} ${'dup'.padStart(4)} ${'CPU busy'.padStart(9)} ${'steal'.padStart(6)}`,
  );
}

function printResult(r: PhaseResult): void {
  const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(0)}%`);
  const at = (q: number) => r.claimMs[Math.min(r.claimMs.length - 1, Math.floor(r.claimMs.length * q))] ?? 0;
  console.log(
    `${r.name.padEnd(48)} ${Math.round(r.rows / r.seconds)
      .toLocaleString('en')
      .padStart(8)} ${Math.round(r.claims / r.seconds)
      .toLocaleString('en')
      .padStart(
        9,
      )} ${at(0.5).toFixed(2).padStart(13)} ${at(0.95).toFixed(2).padStart(8)} ${String(r.empty).padStart(6)} ${String(r.duplicates).padStart(4)} ${pct(r.busy).padStart(9)} ${pct(r.steal).padStart(6)}`,
  );
}

/** CPU time counters from /proc/stat (Linux): how busy the whole machine was, and the steal. */
function readCpuTimes(): { idle: number; steal: number; total: number } | null {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal
    if (fields.length < 8) return null;
    return { idle: (fields[3] ?? 0) + (fields[4] ?? 0), steal: fields[7] ?? 0, total: fields.slice(0, 8).reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

function cpuShares(
  before: ReturnType<typeof readCpuTimes>,
  after: ReturnType<typeof readCpuTimes>,
): { busy: number; steal: number } | null {
  if (!before || !after || after.total <= before.total) return null;
  const total = after.total - before.total;
  return { busy: 1 - (after.idle - before.idle) / total, steal: (after.steal - before.steal) / total };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
