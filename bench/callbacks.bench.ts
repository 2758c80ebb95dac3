import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { SANDBOX_CREDENTIALS } from '../config/config.schema';
import { buildEncryptedSubscribeEvents, buildEncryptedTextMessages, burstOpenid, type PreparedRequest } from './callback-messages';
import { cpuSpent, findProcess, sampleCpu } from './cpu-time';
import { findFreePort, killChildServers, startChildServer, STOP_GRACE_MS, type ChildServer } from './child-server';
import { runClosedLoop, runFixedRate, type PhaseResult } from './load-generator';

/**
 * `npm run bench:callbacks`: distinct encrypted Official Account text messages against
 * Flywheel (SQLite, then MySQL), beside two baselines measured in the same run: a bare Koa
 * route answering `success`, and the `wechat` npm package's middleware. Each server runs in
 * its own child process on loopback. Prints throughput and latency, and PASS/FAIL against the
 * targets: p99 < 50 ms at 1,000 requests/s, and at least 25% of the bare Koa throughput.
 * Flywheel then takes a burst of new followers (distinct openids subscribing with a scene, the
 * exhibition case: each one becomes a contact), with its throughput and after-reply catch-up.
 * Figures and method: docs/BENCHMARKS.md.
 */

const TARGET_NAMES = ['bare-koa', 'wechat-package', 'flywheel-sqlite', 'flywheel-mysql'] as const;
type TargetName = (typeof TARGET_NAMES)[number];

const TARGET_LABELS: Record<TargetName, string> = {
  'bare-koa': 'bare Koa route',
  'wechat-package': 'wechat package 2.1',
  'flywheel-sqlite': 'Flywheel, SQLite',
  'flywheel-mysql': 'Flywheel, MySQL',
};

const P99_TARGET_MS = 50;
const THROUGHPUT_TARGET_SHARE = 0.25;
/**
 * Before measuring: JIT, connection pools, SQLite page cache. 500 left Flywheel's code still
 * being optimised during the fixed-rate phase (TurboFan at 13% of its CPU there); a server runs
 * for days, so compiling is not what the phases should measure.
 */
const WARMUP_REQUESTS = 3000;
const WARMUP_CONCURRENCY = 8;
/** Messages prepared for the closed loop per second of it; it stops early (and says so) if they run out. */
const CLOSED_LOOP_POOL_PER_SECOND = 20_000;
/** A pause before each measured phase, after the previous phase's after-reply work is done (Flywheel). */
const PAUSE_BETWEEN_PHASES_MS = 2000;
/** Above this CPU steal in a closed loop, the report says its figures are not comparable. */
const STEAL_WARNING_SHARE = 0.1;
/** How long the bench waits for the after-reply work to catch up after the closed loop. */
const CATCH_UP_LIMIT_MS = 120_000;
const OPENIDS = 500;
const ORIGINAL_ID = 'gh_bench00000001';
const START_TIMEOUT_MS = 60_000;
const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/flywheel_bench';
/** The new-follower burst: the QR scene of an exhibition stand, and openids no phase used. */
const BURST_SCENE = 'expo2026';
const BURST_OPENID_PREFIX = 'oBurst';
/** The burst is sent as fast as the closed loop allows; this only bounds a stuck run. */
const BURST_TIME_LIMIT_S = 120;

interface BenchOptions {
  seconds: number;
  rate: number;
  concurrency: number;
  /** New followers in the burst (Flywheel targets only). */
  burst: number;
  targets: TargetName[];
  mysqlUrl: string;
}

interface TargetResult {
  name: TargetName;
  warmup: PhaseResult;
  fixedRate: PhaseResult;
  closedLoop: PhaseResult;
  /** Interactions found in the database after the run (Flywheel only). */
  stored: number | null;
  /** Share of CPU time the hypervisor took from this VM during the closed loop (Linux), or null. */
  closedLoopSteal: number | null;
  /** Flywheel only: work rows still pending when the closed loop ended, and how long they took. */
  catchUp: { pending: number; seconds: number | null } | null;
  /** Flywheel only: the new-follower burst, its catch-up, and the contacts it made. */
  burst: BurstResult | null;
}

interface BurstResult {
  phase: PhaseResult;
  catchUp: { pending: number; seconds: number | null };
  /** Contacts holding one of the burst's openids once the after-reply work is done. */
  contacts: number;
}

interface TargetSetup {
  script: string;
  env: NodeJS.ProcessEnv;
  readyPath: string;
  readyStatus: number | null;
  countStored: (() => Promise<number>) | null;
  /** Inbox rows whose after-reply work is not done yet, read while the server runs. */
  countPending: (() => Promise<number>) | null;
  /** Contacts created for the burst's openids. */
  countFollowers: (() => Promise<number>) | null;
  cleanup: () => void;
}

function readOptions(env: NodeJS.ProcessEnv): BenchOptions {
  const positive = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
    return value;
  };
  const rawTargets = env['BENCH_TARGETS'];
  const targets = rawTargets
    ? rawTargets
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '')
    : [...TARGET_NAMES];
  const unknown = targets.filter((t) => !isTargetName(t));
  if (unknown.length > 0) throw new Error(`BENCH_TARGETS: unknown ${unknown.join(', ')}; choose from ${TARGET_NAMES.join(', ')}`);
  return {
    seconds: positive('BENCH_SECONDS', 5),
    rate: positive('BENCH_RATE', 1000),
    concurrency: positive('BENCH_CONCURRENCY', 64),
    burst: positive('BENCH_BURST', 2000),
    targets: TARGET_NAMES.filter((t) => targets.includes(t)),
    mysqlUrl: env['BENCH_MYSQL_URL'] || DEFAULT_MYSQL_URL,
  };
}

function isTargetName(value: string): value is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(value);
}

/** The Flywheel child sees the sandbox credentials only, whatever this shell has set. */
function flywheelEnv(port: number, databaseUrl: string): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([key]) => !/^(WECHAT_|WECOM_|MINIPROGRAM_|ADMIN_|PUBLIC_BASE_URL$)/.test(key));
  return { ...Object.fromEntries(inherited), PORT: String(port), DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', SANDBOX: 'on' };
}

/** The way to start a target, or the reason it cannot run here. */
async function setUpTarget(name: TargetName, port: number, options: BenchOptions): Promise<TargetSetup | string> {
  const nothing = (): void => undefined;
  // A baseline server: nothing stored, nothing to count or clean up.
  const baseline = (script: string): TargetSetup => ({
    script: path.join(__dirname, script),
    env: { ...process.env, PORT: String(port) },
    readyPath: '/',
    readyStatus: null,
    countStored: null,
    countPending: null,
    countFollowers: null,
    cleanup: nothing,
  });
  switch (name) {
    case 'bare-koa':
      return baseline('bare-koa.server.js');
    case 'wechat-package':
      try {
        require.resolve('wechat');
      } catch {
        return 'the `wechat` package is not installed (npm i -D wechat)';
      }
      return baseline('wechat-package.server.js');
    case 'flywheel-sqlite': {
      const script = flywheelScript();
      if (!fs.existsSync(script)) return `${script} is missing (npm run build)`;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-bench-'));
      const file = path.join(dir, 'bench.sqlite');
      return {
        script,
        env: flywheelEnv(port, `sqlite:${file}`),
        readyPath: '/healthz',
        readyStatus: 200,
        countStored: () => countSqlite(file, COUNT_SQL),
        // WAL lets this read beside the running server.
        countPending: () => countSqlite(file, PENDING_SQL),
        countFollowers: () => countSqlite(file, FOLLOWERS_SQL),
        cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    }
    case 'flywheel-mysql': {
      const script = flywheelScript();
      if (!fs.existsSync(script)) return `${script} is missing (npm run build)`;
      try {
        await recreateMysqlDatabase(options.mysqlUrl);
      } catch (error) {
        return `MySQL at ${redact(options.mysqlUrl)} is not usable: ${describe(error)}`;
      }
      return {
        script,
        env: flywheelEnv(port, options.mysqlUrl),
        readyPath: '/healthz',
        readyStatus: 200,
        countStored: () => countMysqlInteractions(options.mysqlUrl),
        countPending: () => countMysql(options.mysqlUrl, PENDING_SQL),
        countFollowers: () => countMysql(options.mysqlUrl, FOLLOWERS_SQL),
        cleanup: nothing,
      };
    }
  }
}

function flywheelScript(): string {
  return path.join(__dirname, '..', 'server', 'main.js');
}

/** Drops and creates the benchmark database so every run starts empty (migrations run at start). */
async function recreateMysqlDatabase(url: string): Promise<void> {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`database name ${JSON.stringify(database)} must be [A-Za-z0-9_]+`);
  parsed.pathname = '/';
  const connection = await mysql.createConnection({ uri: parsed.toString(), connectTimeout: 5000 });
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await connection.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await connection.end();
  }
}

const COUNT_SQL = "SELECT COUNT(*) AS n FROM interactions WHERE channel = 'oa' AND type = 'text'";
/** The after-reply work rows still pending (leased rows stay `pending` too). */
const PENDING_SQL = "SELECT COUNT(*) AS n FROM reaction_work WHERE status = 'pending'";
const FOLLOWERS_SQL = `SELECT COUNT(DISTINCT contact_id) AS n FROM contact_identities WHERE kind = 'oa_openid' AND value LIKE '${BURST_OPENID_PREFIX}%'`;

async function countMysqlInteractions(url: string): Promise<number> {
  return countMysql(url, COUNT_SQL);
}

async function countMysql(url: string, sql: string): Promise<number> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(sql);
    return readCount(rows);
  } finally {
    await connection.end();
  }
}

/**
 * Polls until the after-reply work (tags, score, stage) of every stored callback is done: the
 * answers come first under a burst, and this says how long the rest took to catch up.
 */
async function waitForCatchUp(countPending: () => Promise<number>): Promise<{ pending: number; seconds: number | null }> {
  const start = Date.now();
  const pending = await countPending();
  let left = pending;
  while (left > 0) {
    if (Date.now() - start > CATCH_UP_LIMIT_MS) return { pending, seconds: null };
    await delay(100);
    left = await countPending();
  }
  return { pending, seconds: (Date.now() - start) / 1000 };
}

function describeCpu(spent: ReturnType<typeof cpuSpent>, answered: number): string {
  const per = (ms: number | null): string => (ms === null || answered === 0 ? 'n/a' : `${((1000 * ms) / answered).toFixed(0)} µs`);
  const [server, database, generator] = spent.processes;
  const parts = [`server ${per(server)}`, ...(database === null ? [] : [`database ${per(database)}`]), `load generator ${per(generator)}`];
  return `${parts.join(', ')}; everything else on the machine ${per(spent.others)}`;
}

/** CPU time counters from /proc/stat (Linux), to report steal: time the hypervisor gave others. */
function readCpuTimes(): { steal: number; total: number } | null {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal (guest time is already counted in user).
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return fields.length >= 8 ? { steal: fields[7] ?? 0, total } : null;
  } catch {
    return null;
  }
}

function stealShare(before: ReturnType<typeof readCpuTimes>, after: ReturnType<typeof readCpuTimes>): number | null {
  if (!before || !after || after.total <= before.total) return null;
  return (after.steal - before.steal) / (after.total - before.total);
}

/** Through TypeORM's better-sqlite3 driver, a connection of its own for each count. */
async function countSqlite(file: string, sql: string): Promise<number> {
  const dataSource = new DataSource({ type: 'better-sqlite3', database: file });
  await dataSource.initialize();
  try {
    const rows: unknown = await dataSource.query(sql);
    return readCount(rows);
  } finally {
    await dataSource.destroy();
  }
}

function readCount(rows: unknown): number {
  const first: unknown = Array.isArray(rows) ? rows[0] : undefined;
  const n: unknown = typeof first === 'object' && first !== null && 'n' in first ? first.n : undefined;
  const count = typeof n === 'number' || typeof n === 'string' || typeof n === 'bigint' ? Number(n) : NaN;
  if (!Number.isInteger(count)) throw new Error(`unexpected COUNT(*) result: ${JSON.stringify(rows)}`);
  return count;
}

async function benchTarget(name: TargetName, options: BenchOptions): Promise<TargetResult | string> {
  const port = await findFreePort();
  const setup = await setUpTarget(name, port, options);
  if (typeof setup === 'string') return setup;
  let server: ChildServer | null = null;
  try {
    log(`${TARGET_LABELS[name]}: starting ${path.relative(process.cwd(), setup.script)} on port ${port}`);
    server = await startChildServer({
      script: setup.script,
      port,
      env: setup.env,
      readyPath: setup.readyPath,
      readyStatus: setup.readyStatus,
      timeoutMs: START_TIMEOUT_MS,
    });

    const fixedCount = options.rate * options.seconds;
    const closedCount = CLOSED_LOOP_POOL_PER_SECOND * options.seconds;
    const messages = buildEncryptedTextMessages({
      credentials: {
        appId: SANDBOX_CREDENTIALS.wechatAppId,
        token: SANDBOX_CREDENTIALS.wechatToken,
        aesKey: SANDBOX_CREDENTIALS.wechatAesKey,
      },
      count: WARMUP_REQUESTS + fixedCount + closedCount,
      openidCount: OPENIDS,
      originalId: ORIGINAL_ID,
    });
    const take = sequence(messages);
    const followers = setup.countFollowers
      ? buildEncryptedSubscribeEvents({
          credentials: {
            appId: SANDBOX_CREDENTIALS.wechatAppId,
            token: SANDBOX_CREDENTIALS.wechatToken,
            aesKey: SANDBOX_CREDENTIALS.wechatAesKey,
          },
          count: options.burst,
          originalId: ORIGINAL_ID,
          scene: BURST_SCENE,
          openidPrefix: BURST_OPENID_PREFIX,
        })
      : [];

    const warmup = await runClosedLoop({ port, requests: take(WARMUP_REQUESTS), concurrency: WARMUP_CONCURRENCY, seconds: 60 });
    log(`  warm-up: ${warmup.ok}/${warmup.sent} ok`);
    // Each measured phase starts from a settled server: the warm-up's after-reply work done.
    if (setup.countPending) await waitForCatchUp(setup.countPending);
    await delay(PAUSE_BETWEEN_PHASES_MS);
    const fixedRate = await runFixedRate({ port, requests: take(fixedCount), rate: options.rate });
    log(`  fixed rate ${options.rate}/s: ${describePhase(fixedRate)}`);
    if (setup.countPending) await waitForCatchUp(setup.countPending);
    await delay(PAUSE_BETWEEN_PHASES_MS);
    const cpuBefore = readCpuTimes();
    // Where the closed loop's CPU went: the server, the database (MySQL target), this process.
    const watched = [server.pid, name === 'flywheel-mysql' ? findProcess(['mariadbd', 'mysqld']) : undefined, process.pid];
    const spentBefore = sampleCpu(watched);
    const closedLoop = await runClosedLoop({
      port,
      requests: take(closedCount),
      concurrency: options.concurrency,
      seconds: options.seconds,
    });
    const spent = cpuSpent(spentBefore, sampleCpu(watched));
    const closedLoopSteal = stealShare(cpuBefore, readCpuTimes());
    log(
      `  closed loop ×${options.concurrency}: ${describePhase(closedLoop)}${closedLoop.exhausted ? ' (ran out of prepared messages)' : ''}`,
    );
    log(`  CPU per answered request in the closed loop: ${describeCpu(spent, closedLoop.ok)}`);
    const catchUp = setup.countPending ? await waitForCatchUp(setup.countPending) : null;
    if (catchUp)
      log(
        `  after-reply work: ${catchUp.pending} rows pending at the end of the loop, ${catchUp.seconds === null ? 'not done' : `all done ${catchUp.seconds.toFixed(1)} s`} later`,
      );

    let burst: BurstResult | null = null;
    if (setup.countPending && setup.countFollowers) {
      // The crowd follows the account on the platform, as a real one would (user/info knows them).
      await seedSandboxFollowers(
        port,
        Array.from({ length: options.burst }, (_v, i) => burstOpenid(BURST_OPENID_PREFIX, i)),
      );
      await delay(PAUSE_BETWEEN_PHASES_MS);
      const phase = await runClosedLoop({ port, requests: followers, concurrency: options.concurrency, seconds: BURST_TIME_LIMIT_S });
      log(`  new-follower burst of ${options.burst} ×${options.concurrency}: ${describePhase(phase)}`);
      const burstCatchUp = await waitForCatchUp(setup.countPending);
      const contacts = await setup.countFollowers();
      burst = { phase, catchUp: burstCatchUp, contacts };
      log(
        `  after-reply work: ${burstCatchUp.pending} rows pending at the end of the burst, ${burstCatchUp.seconds === null ? 'not done' : `all done ${burstCatchUp.seconds.toFixed(1)} s`} later; ${contacts} contacts made`,
      );
    }

    const stopStart = Date.now();
    const ended = await server.stop();
    server = null;
    log(
      ended === 'exited'
        ? `  server exited ${((Date.now() - stopStart) / 1000).toFixed(1)} s after SIGTERM`
        : `  server still running ${STOP_GRACE_MS / 1000} s after SIGTERM (after-reply backlog?); killed`,
    );
    const stored = setup.countStored ? await setup.countStored() : null;
    return { name, warmup, fixedRate, closedLoop, stored, closedLoopSteal, catchUp, burst };
  } finally {
    if (server) {
      const tail = server.outputTail().trim();
      await server.stop();
      if (tail) log(`  server output (last lines):\n${indent(tail.split('\n').slice(-15).join('\n'))}`);
    }
    setup.cleanup();
  }
}

/** Hands out consecutive slices, so no message is sent twice within a target. */
function sequence(messages: PreparedRequest[]): (n: number) => PreparedRequest[] {
  let offset = 0;
  return (n) => {
    const slice = messages.slice(offset, offset + n);
    offset += n;
    return slice;
  };
}

function describePhase(r: PhaseResult): string {
  const l = r.latencyMs;
  const errors = r.errors === 0 ? '0 errors' : `${r.errors} errors (${r.errorSamples.join('; ')})`;
  return `${r.ok}/${r.sent} ok, ${r.okPerSecond.toFixed(0)} req/s, p50 ${ms(l.p50)} p90 ${ms(l.p90)} p99 ${ms(l.p99)} max ${ms(l.max)} ms, ${errors}`;
}

function percent(share: number | null): string {
  return share === null ? 'n/a' : `${(100 * share).toFixed(0)}%`;
}

function describeCatchUp(catchUp: TargetResult['catchUp']): string {
  if (!catchUp) return '-';
  if (catchUp.seconds === null) return `not within ${CATCH_UP_LIMIT_MS / 1000} s`;
  return catchUp.pending === 0 ? 'kept up' : `${catchUp.seconds.toFixed(1)} s after the loop`;
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function indent(text: string): string {
  return text.replace(/^/gm, '    ');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function printReport(options: BenchOptions, results: TargetResult[], skipped: Map<TargetName, string>): void {
  const bare = results.find((r) => r.name === 'bare-koa');
  const share = (r: TargetResult): string =>
    bare && bare.closedLoop.okPerSecond > 0 ? `${((100 * r.closedLoop.okPerSecond) / bare.closedLoop.okPerSecond).toFixed(0)}%` : 'n/a';

  log('');
  log(
    `| target | ${options.rate} req/s: achieved | p50 ms | p90 ms | p99 ms | max ms | errors | closed loop ×${options.concurrency}: req/s | p50 ms | p99 ms | errors | % of bare Koa | CPU steal | after-reply work done |`,
  );
  log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const f = r.fixedRate;
    const c = r.closedLoop;
    log(
      `| ${TARGET_LABELS[r.name]} | ${f.okPerSecond.toFixed(0)} | ${ms(f.latencyMs.p50)} | ${ms(f.latencyMs.p90)} | ${ms(f.latencyMs.p99)} | ${ms(f.latencyMs.max)} | ${f.errors} | ` +
        `${c.okPerSecond.toFixed(0)}${c.exhausted ? '*' : ''} | ${ms(c.latencyMs.p50)} | ${ms(c.latencyMs.p99)} | ${c.errors} | ${share(r)} | ${percent(r.closedLoopSteal)} | ${describeCatchUp(r.catchUp)} |`,
    );
  }
  for (const [name, reason] of skipped) log(`| ${TARGET_LABELS[name]} | skipped: ${reason} |`);
  if (results.some((r) => r.closedLoop.exhausted)) log('* the closed loop used up its prepared messages before the time was up');
  // On a shared VM the hypervisor may take a large share of the CPU for a while; figures taken
  // then are not comparable with the others of the run.
  const disturbed = results.filter((r) => (r.closedLoopSteal ?? 0) > STEAL_WARNING_SHARE);
  if (disturbed.length > 0) {
    log(
      `warning: CPU steal above ${STEAL_WARNING_SHARE * 100}% during the closed loop of ${disturbed.map((r) => TARGET_LABELS[r.name]).join(', ')}: not comparable, run again`,
    );
  }

  const bursts = results.filter((r) => r.burst !== null);
  if (bursts.length > 0) {
    log('');
    log(
      `| target | new followers | burst ×${options.concurrency}: req/s | p50 ms | p99 ms | max ms | errors | pending at the end | after-reply work done | contacts made |`,
    );
    log('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of bursts) {
      const b = r.burst;
      if (!b) continue;
      const l = b.phase.latencyMs;
      log(
        `| ${TARGET_LABELS[r.name]} | ${b.phase.sent} | ${b.phase.okPerSecond.toFixed(0)} | ${ms(l.p50)} | ${ms(l.p99)} | ${ms(l.max)} | ${b.phase.errors} | ${b.catchUp.pending} | ` +
          `${describeCatchUp(b.catchUp).replace('the loop', 'the burst')} | ${b.contacts}${b.contacts === b.phase.ok ? '' : ` (expected ${b.phase.ok})`} |`,
      );
    }
  }

  log('');
  for (const r of results.filter((x) => x.stored !== null)) {
    const okTotal = r.warmup.ok + r.fixedRate.ok + r.closedLoop.ok;
    const sentTotal = r.warmup.sent + r.fixedRate.sent + r.closedLoop.sent;
    const stored = r.stored ?? 0;
    // Every distinct message answered `success` must be stored once. One the client gave up on
    // may still have been committed, so with errors the count may lie between the two.
    const verdict =
      stored === okTotal
        ? 'OK'
        : stored > okTotal && stored <= sentTotal
          ? `OK (${stored - okTotal} stored after the client gave up)`
          : 'MISMATCH';
    log(
      `${TARGET_LABELS[r.name]}: ${stored} text interactions stored; ${okTotal} distinct messages answered \`success\`, ${sentTotal} sent: ${verdict}`,
    );
  }

  log('');
  for (const r of results.filter((x) => x.name !== 'bare-koa')) {
    const f = r.fixedRate;
    const latencyPass = f.latencyMs.p99 < P99_TARGET_MS && f.errors === 0;
    log(
      `${TARGET_LABELS[r.name]}: p99 < ${P99_TARGET_MS} ms at ${options.rate} req/s with no errors: ${latencyPass ? 'PASS' : 'FAIL'} (p99 ${ms(f.latencyMs.p99)} ms, ${f.errors} errors)`,
    );
    if (bare) {
      const ratio = bare.closedLoop.okPerSecond > 0 ? r.closedLoop.okPerSecond / bare.closedLoop.okPerSecond : 0;
      const throughputPass = ratio >= THROUGHPUT_TARGET_SHARE && r.closedLoop.errors === 0;
      log(
        `${TARGET_LABELS[r.name]}: throughput >= ${THROUGHPUT_TARGET_SHARE * 100}% of bare Koa with no errors: ${throughputPass ? 'PASS' : 'FAIL'} (${(100 * ratio).toFixed(0)}%, ${r.closedLoop.errors} errors)`,
      );
    }
  }
}

async function main(): Promise<void> {
  const options = readOptions(process.env);
  const cpus = os.cpus();
  log(
    `callback benchmark: ${options.seconds} s per phase, fixed rate ${options.rate} req/s, closed loop ${options.concurrency} concurrent`,
  );
  log(
    `machine: ${cpus.length} CPUs (${cpus[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`,
  );
  log('load generator and server share the machine; each server runs in its own process on 127.0.0.1\n');

  const results: TargetResult[] = [];
  const skipped = new Map<TargetName, string>();
  for (const name of options.targets) {
    try {
      const result = await benchTarget(name, options);
      if (typeof result === 'string') {
        skipped.set(name, result);
        log(`${TARGET_LABELS[name]}: skipped, ${result}`);
      } else {
        results.push(result);
      }
    } catch (error) {
      skipped.set(name, `failed: ${describe(error).split('\n')[0] ?? ''}`);
      log(`${TARGET_LABELS[name]}: failed: ${describe(error)}`);
    }
  }
  printReport(options, results, skipped);
  if (skipped.size > 0) process.exitCode = 1;
}

process.on('exit', killChildServers);
process.on('SIGINT', () => {
  killChildServers();
  process.exit(130);
});

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  killChildServers();
  process.exit(1);
});

/** Registers followers with the server's sandbox platform (POST /sandbox/control/followers). */
async function seedSandboxFollowers(port: number, openids: string[]): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/sandbox/control/followers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ openids, scene: BURST_SCENE }),
  });
  if (!response.ok) throw new Error(`seeding sandbox followers failed: HTTP ${response.status}`);
}
