import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import mysql from 'mysql2/promise';
import { loadConfig, type DatabaseConfig } from '../config/config.schema';
import { ManualClock } from '../server/adapters/clock';
import { createLogger } from '../server/adapters/logger';
import { composeServices } from '../server/compose';
import { createDataSource } from '../server/db/data-source';
import { runMigrationsWithLock } from '../server/db/migrate';
import { findProcess, sampleCpu } from './cpu-time';

/**
 * `npm run bench:import`: a lead CSV of BENCH_ROWS (100,000) rows, UTF-8 with a BOM as Excel's
 * "CSV UTF-8" saves it (phone, 姓名, 公司, 职位, 邮箱; 1 row in 200 with a bad phone, 1 in 500
 * repeating the row before it), imported through ImportsService (the code POST /api/admin/imports
 * calls) into a database already holding BENCH_EXISTING (10,000) contacts whose phones are the
 * file's first ones: those are updated, the rest created, all tagged and each given its
 * `imported` interaction. Beside it, in the same run, a raw-SQL baseline writes the same rows into
 * a bare table with multi-row INSERTs of 1,000 in one transaction, and nothing else. Prints the
 * stage and apply times, rows per second for both, and PASS/FAIL against the goal (under 30 s).
 * BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306/flywheel_bench_import) names a database
 * that is DROPPED and created again; BENCH_SKIP_SQLITE=1 / BENCH_SKIP_MYSQL=1 skip one.
 */
const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const EXISTING = Number(process.env.BENCH_EXISTING ?? 10_000);
const MYSQL_URL = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/flywheel_bench_import';
const GOAL_S = 30;
const CHUNK_BYTES = 64 * 1024;

interface Lead {
  phone: string;
  name: string;
  company: string;
  title: string;
  email: string;
}

async function main(): Promise<void> {
  const leads = makeLeads(ROWS);
  const file = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(toCsv(leads))]);
  console.log(
    `bench:import: ${ROWS} rows (${(file.length / 2 ** 20).toFixed(1)} MiB), ${EXISTING} of them existing contacts, ${os.cpus().length} cores`,
  );
  if (process.env.BENCH_SKIP_SQLITE !== '1') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-bench-import-'));
    await benchOne({ kind: 'sqlite', path: path.join(dir, 'bench.sqlite') }, file, leads);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (process.env.BENCH_SKIP_MYSQL === '1') return;
  const url = new URL(MYSQL_URL);
  const name = url.pathname.slice(1);
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`unsafe database name ${name}`);
  const server = new URL(MYSQL_URL);
  server.pathname = '/';
  const admin = await mysql.createConnection(server.toString());
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  await benchOne({ kind: 'mysql', url: MYSQL_URL }, file, leads);
}

async function benchOne(config: DatabaseConfig, file: Buffer, leads: Lead[]): Promise<void> {
  const dataSource = await createDataSource(config, { poolSize: 10 });
  await dataSource.initialize();
  const logger = createLogger('warn');
  await runMigrationsWithLock({ dataSource, holder: 'bench', logger });
  const clock = new ManualClock(new Date('2026-12-01T02:00:00.000Z'));
  const services = composeServices({
    config: loadConfig({ SANDBOX: 'on', LOG_LEVEL: 'warn' }),
    dataSource,
    clock,
    logger,
    holder: 'bench',
    apiBases: { wechat: 'http://127.0.0.1:9', wecom: 'http://127.0.0.1:9' },
  });
  // The contacts already there: the file's first EXISTING phones, made as a callback makes them.
  for (let i = 0; i < EXISTING; i += 1_000) {
    const refs = leads
      .slice(i, Math.min(i + 1_000, EXISTING))
      .map((lead) => ({ kind: 'phone' as const, appId: '', value: `+86${lead.phone}` }));
    await services.transactor.run((m) => services.contacts.resolveContacts(m, refs));
  }
  const contactsBefore = await count(dataSource, 'contacts');

  const actor = { operatorId: null, ip: null };
  // CPU spent by this process and by the database server (which also serves whoever else uses it).
  const pids = [process.pid, config.kind === 'mysql' ? findProcess(['mariadbd', 'mysqld']) : undefined];
  const cpu0 = sampleCpu(pids);
  const t0 = performance.now();
  const id = await services.imports.stageImport({
    input: Readable.from(chunksOf(file)),
    fileName: 'bench.csv',
    tags: [{ group: '展会', name: '2026上海工业展' }],
    eventId: 1,
    overwrite: false,
    actor,
  });
  const t1 = performance.now();
  const report = await services.imports.applyImport(id, actor);
  const t2 = performance.now();
  const cpu1 = sampleCpu(pids);
  // The search terms, written after the commit by the queued task (the `import-search-terms` job's run).
  for (;;) {
    const outcome = await services.queue.runOnce({ handlers: services.imports.handlers(), batchSize: 1 });
    if (outcome.done + outcome.retried + outcome.failed === 0) break;
  }
  const t3 = performance.now();
  const [stageS, applyS, totalS, termsS] = [(t1 - t0) / 1000, (t2 - t1) / 1000, (t2 - t0) / 1000, (t3 - t2) / 1000];
  const terms = await count(dataSource, 'contact_search_terms');
  const created = (await count(dataSource, 'contacts')) - contactsBefore;
  if (created !== report.created) throw new Error(`the report says ${report.created} created, the table ${created}`);

  const baselineS = await rawBaseline(dataSource, leads);
  const rate = ROWS / totalS;
  const baseRate = ROWS / baselineS;
  const kind = config.kind.padEnd(6);
  console.log(
    `${kind} import: ${report.total} rows (${report.created} created, ${report.updated} updated, ${report.refusedCount} refused, ` +
      `${report.duplicates} duplicates) in ${totalS.toFixed(2)} s = ${Math.round(rate)} rows/s ` +
      `(stage ${stageS.toFixed(2)} s, apply ${applyS.toFixed(2)} s)\n` +
      `${kind} CPU during the import: node ${cpuS(cpu0.processes[0], cpu1.processes[0])}, database server ${cpuS(cpu0.processes[1], cpu1.processes[1])}, ` +
      `whole machine ${cpuS(cpu0.machine, cpu1.machine)} of ${(totalS * os.cpus().length).toFixed(1)} s available\n` +
      `${kind} then the search terms in the background: ${terms} terms in ${termsS.toFixed(2)} s\n` +
      `${kind} raw multi-row INSERT baseline (same rows, one table, 1,000 per INSERT): ${baselineS.toFixed(2)} s = ${Math.round(baseRate)} rows/s; ` +
      `import at ${((rate / baseRate) * 100).toFixed(0)}% of it\n` +
      `${kind} goal: ${ROWS} rows under ${GOAL_S} s: ${totalS < GOAL_S ? 'PASS' : 'FAIL'}`,
  );
  await dataSource.destroy();
}

/** The floor: the file's rows, already parsed, written to a bare table in one transaction and nothing else. */
async function rawBaseline(dataSource: Awaited<ReturnType<typeof createDataSource>>, leads: Lead[]): Promise<number> {
  await dataSource.query('DROP TABLE IF EXISTS bench_raw_leads');
  await dataSource.query(
    'CREATE TABLE bench_raw_leads (phone varchar(20) NOT NULL, name varchar(128), company varchar(128), title varchar(64), email varchar(254))',
  );
  const t = performance.now();
  await dataSource.transaction(async (m) => {
    for (let i = 0; i < leads.length; i += 1_000) {
      const chunk = leads.slice(i, i + 1_000);
      await m.query(
        `INSERT INTO bench_raw_leads (phone, name, company, title, email) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(',')}`,
        chunk.flatMap((l) => [l.phone, l.name, l.company, l.title, l.email]),
      );
    }
  });
  const seconds = (performance.now() - t) / 1000;
  await dataSource.query('DROP TABLE bench_raw_leads');
  return seconds;
}

function makeLeads(n: number): Lead[] {
  const titles = ['采购经理', '总经理', '工程师', '销售总监', '技术主管'];
  return Array.from({ length: n }, (_, i) => {
    // 1 in 500 repeats the row before it (a duplicate within the file); 1 in 200 has a bad phone.
    const k = i % 500 === 499 ? i - 1 : i;
    const phone = i % 200 === 199 ? `1${String(k).padStart(4, '0')}` : `159${String(k).padStart(8, '0')}`;
    return {
      phone,
      name: `客户${k}`,
      company: `上海工业${k % 500}有限公司`,
      title: titles[k % titles.length],
      email: `lead${k}@example.com`,
    };
  });
}

function cpuS(before: number | null | undefined, after: number | null | undefined): string {
  return before == null || after == null ? 'n/a' : `${((after - before) / 1000).toFixed(1)} s`;
}

function toCsv(leads: Lead[]): string {
  return ['手机号,姓名,公司,职位,邮箱', ...leads.map((l) => `${l.phone},${l.name},${l.company},${l.title},${l.email}`)].join('\r\n');
}

function* chunksOf(file: Buffer): Generator<Buffer> {
  for (let i = 0; i < file.length; i += CHUNK_BYTES) yield file.subarray(i, i + CHUNK_BYTES);
}

async function count(dataSource: Awaited<ReturnType<typeof createDataSource>>, table: string): Promise<number> {
  const [row]: { n: number | string }[] = await dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(row.n);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
