import mysql from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import { systemClock } from '../server/adapters/clock';
import { createLogger } from '../server/adapters/logger';
import { createDataSource } from '../server/db/data-source';
import { runMigrationsWithLock } from '../server/db/migrate';
import { Transactor } from '../server/db/transaction';
import { AuditService } from '../server/modules/audit/audit.service';
import { ContactsService } from '../server/modules/contacts/contacts.service';
import { InteractionsService } from '../server/modules/interactions/interactions.service';
import { SegmentFilters } from '../server/modules/segments/segment-filters';
import { SegmentMembership } from '../server/modules/segments/segment-membership';
import { SegmentsService } from '../server/modules/segments/segments.service';
import type { FilterNode } from '../web/shared/segment-filter';
import { withIndexesDeferred } from './bench-seeding';

/**
 * `npm run bench:segments`: segment counts on 1,000,000 contacts with tags and 10,000,000
 * interactions on MariaDB/MySQL, through the code the routes call (SegmentFilters for the
 * builder's preview, SegmentsService for a saved segment), beside a plain `SELECT COUNT(*) FROM
 * contacts` measured in the same run. Prints median and p95, the EXPLAIN of each statement and
 * PASS/FAIL against the goals (ad-hoc three-condition count < 500 ms, saved count < 50 ms).
 * Figures and method: docs/BENCHMARKS.md.
 *
 * BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306/flywheel_bench_segments) names a database
 * that is DROPPED and created again. BENCH_CONTACTS / BENCH_INTERACTIONS scale the data;
 * BENCH_KEEP=1 reuses a database generated before; BENCH_BUFFER_POOL_MB sets InnoDB's buffer pool.
 */

const URL_DEFAULT = 'mysql://root@127.0.0.1:3306/flywheel_bench_segments';
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const INTERACTIONS = Number(process.env.BENCH_INTERACTIONS ?? 10_000_000);
const TAGS = 50;
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const WARMUP_RUNS = 3;
const DAY_S = 86_400;
const ADHOC_GOAL_MS = 500;
const SAVED_GOAL_MS = 50;

interface Measured {
  name: string;
  median: number;
  p95: number;
  goal: number | null;
  value: unknown;
}

/**
 * The builder's three-condition example: a tag, "clicked in the last 30 days", a score floor. (The
 * generator's arithmetic leaves no contact with two clicks in 30 days and tag 3: a count of 0
 * measures nothing, so "at least twice" is timed apart, on the whole table.)
 */
const THREE_CONDITIONS: FilterNode = {
  kind: 'and',
  conditions: [
    { kind: 'tags', match: 'any', tagIds: [3] },
    { kind: 'did', type: 'click', atLeast: 1, days: 30 },
    { kind: 'score', min: 50 },
  ],
};

/**
 * Further shapes, printed for information: a negative condition with a stage, and "at least N
 * times". (An OR over semi-joins is left out: MariaDB evaluates a subquery inside OR per contact,
 * a walk of the million, tens of seconds on this machine; see docs/BENCHMARKS.md.)
 */
const OTHER_FILTERS: [string, FilterNode][] = [
  [
    'stage + did not scan in 14 days + tag none',
    {
      kind: 'and',
      conditions: [
        { kind: 'stage', stages: ['retained'] },
        { kind: 'didNot', type: 'scan', days: 14 },
        { kind: 'tags', match: 'none', tagIds: [1, 2] },
      ],
    },
  ],
  [
    'tag + clicked at least twice in 30 days',
    {
      kind: 'and',
      conditions: [
        { kind: 'tags', match: 'any', tagIds: [4] },
        { kind: 'did', type: 'click', atLeast: 2, days: 30 },
      ],
    },
  ],
];

/**
 * BENCH_BUFFER_POOL_MB resizes InnoDB's buffer pool for the run (MariaDB resizes it online, in
 * chunks; the server's default of 128 MiB is a laptop's, a database host gives it most of its
 * memory). The size stays after the run: it is the server's setting, printed above the figures.
 */
async function resizeBufferPool(conn: mysql.Connection, mb: number): Promise<void> {
  await conn.query(`SET GLOBAL innodb_buffer_pool_size = ${Math.floor(mb) * 2 ** 20}`);
  for (let i = 0; i < 600; i++) {
    const [[status]] = await conn.query<mysql.RowDataPacket[]>("SHOW STATUS LIKE 'Innodb_buffer_pool_resize_status'");
    const text = String(status?.Value ?? '');
    if (text === '' || /complete|finished/i.test(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main(): Promise<void> {
  const url = process.env.BENCH_MYSQL_URL ?? URL_DEFAULT;
  const conn = await mysql.createConnection({ uri: url.replace(/\/[^/]*$/, '/') });
  const database = new URL(url).pathname.slice(1);
  if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`unsafe database name ${database}`);
  const keep = process.env.BENCH_KEEP === '1';
  if (!keep) {
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await conn.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  }
  await conn.query(`USE \`${database}\``);
  const poolMb = Number(process.env.BENCH_BUFFER_POOL_MB ?? 0);
  if (poolMb > 0) await resizeBufferPool(conn, poolMb);
  const [[server]] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version, @@innodb_buffer_pool_size AS pool');
  console.log(`server ${String(server.version)}, InnoDB buffer pool ${Math.round(Number(server.pool) / 2 ** 20)} MiB`);

  const dataSource = await createDataSource({ kind: 'mysql', url }, { poolSize: 4 });
  await dataSource.initialize();
  await runMigrationsWithLock({ dataSource, holder: 'bench-segments', logger: createLogger('warn') });
  if (!keep) await generate(conn);
  await conn.query('ANALYZE TABLE contacts, contact_tags, interactions');
  await conn.query('DELETE FROM segment_members');
  await conn.query('DELETE FROM segments');

  const clock = systemClock;
  const transactor = new Transactor(dataSource);
  const filters = new SegmentFilters({ dataSource, clock });
  const interactions = new InteractionsService({ clock, contacts: new ContactsService({ clock }) });
  const membership = new SegmentMembership({ dataSource, transactor, clock, filters, interactions });
  const segments = new SegmentsService({
    dataSource,
    transactor,
    clock,
    audit: new AuditService({ dataSource, clock }),
    filters,
    membership,
  });
  const captured = captureQueries(dataSource);
  const results: Measured[] = [];
  const measure = async (name: string, goal: number | null, run: () => Promise<unknown>): Promise<Measured> => {
    let value: unknown;
    for (let i = 0; i < WARMUP_RUNS; i += 1) value = await run();
    captured.length = 0;
    const times: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const start = process.hrtime.bigint();
      await run();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    const result = { name, median: times[Math.floor(RUNS / 2)], p95: times[Math.ceil(RUNS * 0.95) - 1], goal, value };
    results.push(result);
    const flag = goal !== null && result.median >= goal ? '  OVER GOAL' : '';
    console.log(
      `${name.padEnd(62)} median ${result.median.toFixed(2).padStart(8)} ms   p95 ${result.p95.toFixed(2).padStart(8)} ms   → ${JSON.stringify(value)}${flag}`,
    );
    await explain(conn, [...new Map(captured.map((q) => [q.sql, q] as const)).values()].slice(0, 4));
    return result;
  };

  console.log(`\n${RUNS} runs each after ${WARMUP_RUNS} warm-up runs; times include the round trip and TypeORM`);
  await measure('baseline: SELECT COUNT(*) FROM contacts', null, async () => {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM contacts');
    return Number(rows[0].n);
  });
  await measure('ad-hoc count: tag + clicked in 30 days + score ≥ 50', ADHOC_GOAL_MS, () =>
    filters.countFilter({ filter: THREE_CONDITIONS }),
  );
  for (const [name, filter] of OTHER_FILTERS) await measure(`ad-hoc count: ${name}`, null, () => filters.countFilter({ filter }));

  // Saving fills the members in one INSERT ... SELECT; its count is then read, never recomputed.
  const saveStart = Date.now();
  const created = await segments.createSegment({ name: 'bench', filter: THREE_CONDITIONS, actor: { operatorId: null, ip: null } });
  if (!created.ok) throw new Error(`segment not saved: ${created.reason}`);
  console.log(`saved segment: first fill of ${created.value.count} members ${Date.now() - saveStart} ms`);
  await measure('saved segment: its count (GET /api/admin/segments/:id)', SAVED_GOAL_MS, async () => {
    const segment = await segments.getSegment(created.value.id);
    return segment?.count;
  });
  await measure('saved segment: first page of members (20)', null, async () => {
    const page = await segments.listMembers({ id: created.value.id, limit: 20, scope: { kind: 'all' } });
    return page?.items.length;
  });
  const refreshStart = Date.now();
  const refreshed = await membership.refreshAll();
  console.log(`refresh job over the saved segment (nothing changed): ${Date.now() - refreshStart} ms ${JSON.stringify(refreshed)}`);
  const sample = Array.from({ length: 100 }, (_, i) => 1 + ((i * 104_729) % CONTACTS));
  await measure('journeys: which of 100 contacts match (one query)', null, async () => {
    const matched = await filters.filterContactIds({ filter: THREE_CONDITIONS, contactIds: sample });
    return matched.length;
  });

  console.log('\nPASS/FAIL (median against the goal)');
  let failed = 0;
  for (const r of results.filter((x) => x.goal !== null)) {
    const ok = r.median < (r.goal ?? 0);
    if (!ok) failed += 1;
    console.log(`${ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.median.toFixed(2)} ms < ${r.goal} ms`);
  }
  await dataSource.destroy();
  await conn.end();
  if (failed > 0) process.exitCode = 1;
}

/** One INSERT ... SELECT per table from MariaDB's sequence engine, secondary indexes built after the load. */
async function generate(conn: mysql.Connection): Promise<void> {
  const started = Date.now();
  const step = async (label: string, table: string, sql: string) => {
    const t0 = Date.now();
    await withIndexesDeferred(conn, table, () => conn.query(sql));
    console.log(`  ${label.padEnd(48)} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  const seq = (n: number) => `seq_1_to_${n}`;
  const now = 'UTC_TIMESTAMP(3)';
  console.log(`generating ${CONTACTS} contacts, ${INTERACTIONS} interactions`);
  await conn.query('SET SESSION unique_checks = 0');
  await step(
    'contacts',
    'contacts',
    `INSERT INTO contacts (id, name, phone, score, stage, first_source, last_source, last_interaction_at, created_at, updated_at)
     SELECT seq, CONCAT('客户', seq), IF(seq % 3 = 0, CONCAT('139', LPAD(seq, 8, '0')), NULL), (seq * 7919) % 101,
       ELT(1 + (seq * 31) % 5, 'acquired', 'activated', 'retained', 'revenue', 'referral'),
       ELT(1 + seq % 8, 'qr:expo2026', 'qr:booth-a', 'wecom:way-sales', 'h5:landing', 'mp:card', 'oa:search', 'wecom:way-expo', 'qr:poster'),
       ELT(1 + seq % 5, 'qr:expo2026', 'h5:landing', 'mp:card', 'oa:menu', 'wecom:way-sales'),
       IF(seq % 7 = 0, NULL, ${now} - INTERVAL (seq * 37) % (120 * ${DAY_S}) SECOND),
       ${now} - INTERVAL (${CONTACTS} - seq) * 30 SECOND, ${now}
     FROM ${seq(CONTACTS)}`,
  );
  await step(
    'contact_tags: 1 of 50 tags each, a 2nd for half',
    'contact_tags',
    `INSERT INTO contact_tags (contact_id, tag_id, source, created_at)
     SELECT seq, 1 + seq % ${TAGS}, 'rule:1', ${now} FROM ${seq(CONTACTS)}
     UNION ALL SELECT seq, 1 + (seq * 7 + 3) % ${TAGS}, 'operator:1', ${now} FROM ${seq(CONTACTS)} WHERE seq % 2 = 0`,
  );
  // 7919 is prime to 1,000,000, so contact ids are a permutation: every contact gets the same share.
  await step(
    `interactions: ${INTERACTIONS}, 7 types over 90 days`,
    'interactions',
    `INSERT INTO interactions (contact_id, type, channel, direction, occurred_at, detail, dedupe_key, created_at)
     SELECT 1 + (seq * 7919) % ${CONTACTS}, ELT(1 + (seq * 13) % 7, 'click', 'text', 'scan', 'view_card', 'subscribe', 'message_read', 'register'),
       ELT(1 + seq % 3, 'oa', 'wecom', 'mp'), 'in', ${now} - INTERVAL (seq * 104729) % (90 * ${DAY_S}) SECOND, '{}', CONCAT('bench:', seq), ${now}
     FROM ${seq(INTERACTIONS)}`,
  );
  console.log(`generated in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

interface CapturedQuery {
  sql: string;
  params: unknown[];
}

/** Records the statements the services send through DataSource.query (and its manager), for EXPLAIN. */
function captureQueries(dataSource: DataSource): CapturedQuery[] {
  const captured: CapturedQuery[] = [];
  const original = dataSource.query.bind(dataSource);
  dataSource.query = (async (sql: string, params?: unknown[]) => {
    captured.push({ sql, params: params ?? [] });
    return original(sql, params);
  }) as typeof dataSource.query;
  const manager = dataSource.manager;
  const managerQuery = manager.query.bind(manager);
  manager.query = (async (sql: string, params?: unknown[]) => {
    captured.push({ sql, params: params ?? [] });
    return managerQuery(sql, params);
  }) as typeof manager.query;
  return captured;
}

async function explain(conn: mysql.Connection, queries: CapturedQuery[]): Promise<void> {
  for (const query of queries) {
    if (!/^\s*SELECT/i.test(query.sql)) continue;
    const [rows] = await conn.query<mysql.RowDataPacket[]>(`EXPLAIN ${query.sql}`, query.params);
    const plan = rows
      .map(
        (row) =>
          `${String(row.table)}:${String(row.type)}/${String(row.key ?? '-')}(${String(row.rows)})${row.Extra ? ` ${String(row.Extra)}` : ''}`,
      )
      .join(' → ');
    console.log(`    ${query.sql.replace(/\s+/g, ' ').slice(0, 140)}\n      plan: ${plan}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
