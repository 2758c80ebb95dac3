import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import { loadConfig, type DatabaseConfig } from '../config/config.schema';
import { systemClock } from '../server/adapters/clock';
import { createLogger } from '../server/adapters/logger';
import { OfficialAccountClient } from '../server/adapters/official-account.client';
import { unlimitedRateLimiter } from '../server/adapters/rate-limiter';
import { SANDBOX_TEMPLATE_IDS } from '../server/adapters/sandbox/sandbox-messages';
import { TokenStore } from '../server/adapters/token-store';
import { composeServices } from '../server/compose';
import { createDataSource } from '../server/db/data-source';
import { runMigrationsWithLock } from '../server/db/migrate';
import { toSqlDate } from '../server/db/sql';
import { findFreePort, killChildServers, startChildServer, type ChildServer } from './child-server';

/**
 * `npm run bench:sends`: a BENCH_CONTACTS (100,000) contact template broadcast through the sandbox
 * on loopback, served by a process of its own (bench/sandbox.server.ts) as WeChat's servers are
 * not in Flywheel's: the broadcast's expansion into outbox rows, then the sends (claim,
 * rules, template/send over HTTP, one CASE update, the delivery log and the interactions per
 * batch), in sends per second; afterwards duplicates and missing contacts counted from the
 * sandbox's record of accepted messages (both must be 0). Beside it, in the same run: the floor of
 * the HTTP part (a bare loop of template/send calls through the same client and concurrency, to a
 * second sandbox process) and the floor of the SQL part (a raw multi-row INSERT of the same outbox rows).
 * BENCH_DATABASE=mysql (default; BENCH_MYSQL_URL names a database that is DROPPED and created
 * again) or sqlite (a temporary file). Figures and method: docs/BENCHMARKS.md.
 */
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 100_000);
const BARE_CALLS = Number(process.env.BENCH_BARE_CALLS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const URL_DEFAULT = 'mysql://root@127.0.0.1:3306/flywheel_bench_sends';

function openidOf(n: number): string {
  return `oFW${String(n).padStart(25, '0')}`;
}

const payload = {
  template_id: SANDBOX_TEMPLATE_IDS.reactivationOffer,
  data: {
    thing1: { value: '老朋友回归礼' },
    thing2: { value: '满100减30' },
    time3: { value: '2026年12月31日 23:59' },
    thing4: { value: '点击领取，限时有效' },
  },
  url: 'https://flywheel.example/r/abc123',
};

async function openDatabase(): Promise<{ config: DatabaseConfig; dataSource: DataSource; cleanup: () => Promise<void> }> {
  if ((process.env.BENCH_DATABASE ?? 'mysql') === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-bench-sends-'));
    const config: DatabaseConfig = { kind: 'sqlite', path: path.join(dir, 'bench.sqlite') };
    const dataSource = await createDataSource(config, { poolSize: 10 });
    await dataSource.initialize();
    return { config, dataSource, cleanup: () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true })) };
  }
  const url = new URL(process.env.BENCH_MYSQL_URL ?? URL_DEFAULT);
  const name = url.pathname.slice(1);
  const server = new URL(url.toString());
  server.pathname = '/';
  const admin = await mysql.createConnection(server.toString());
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const config: DatabaseConfig = { kind: 'mysql', url: url.toString() };
  const dataSource = await createDataSource(config, { poolSize: 10 });
  await dataSource.initialize();
  return { config, dataSource, cleanup: () => Promise.resolve() };
}

async function seedContacts(dataSource: DataSource, appId: string): Promise<void> {
  const now = toSqlDate(new Date());
  for (let start = 1; start <= CONTACTS; start += 1000) {
    const numbers = Array.from({ length: Math.min(1000, CONTACTS - start + 1) }, (_, i) => start + i);
    await dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO contacts (id, stage, score, created_at, updated_at) VALUES ${numbers.map(() => "(?, 'acquired', 0, ?, ?)").join(', ')}`,
        numbers.flatMap((n) => [n, now, now]),
      );
      await m.query(
        `INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES ${numbers.map(() => "(?, 'oa_openid', ?, ?, ?)").join(', ')}`,
        numbers.flatMap((n) => [n, appId, openidOf(n), now]),
      );
    });
  }
}

/** A sandbox in its own process, with `followers` openids registered as followers. */
async function startSandbox(followers: number): Promise<{ child: ChildServer; url: string }> {
  const port = await findFreePort();
  const child = await startChildServer({
    script: path.join(__dirname, 'sandbox.server.js'),
    port,
    env: { ...process.env, PORT: String(port) },
    readyPath: '/sandbox/control/mass-sends',
    readyStatus: 200,
    timeoutMs: 30_000,
  });
  const url = `http://127.0.0.1:${port}`;
  for (let start = 1; start <= followers; start += 10_000) {
    const openids = Array.from({ length: Math.min(10_000, followers - start + 1) }, (_, i) => openidOf(start + i));
    const response = await fetch(`${url}/sandbox/control/followers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ openids }),
    });
    if (!response.ok) throw new Error(`the sandbox refused the followers: ${response.status}`);
  }
  return { child, url };
}

async function main(): Promise<void> {
  const config = loadConfig({
    SANDBOX: 'on',
    LOG_LEVEL: 'silent',
    OUTBOX_QUIET_HOURS: 'off',
    OUTBOX_FREQUENCY_CAPS: 'off',
    OUTBOX_RATE_LIMITS: 'oa_template=1000000',
    OUTBOX_BATCH_SIZE: String(BATCH),
    OUTBOX_CONCURRENCY: String(CONCURRENCY),
  });
  const { officialAccount: oa, wecom } = config;
  if (!oa || !wecom) throw new Error('sandbox mode configures both platforms');
  const logger = createLogger('silent');
  const db = await openDatabase();
  await runMigrationsWithLock({ dataSource: db.dataSource, holder: 'bench', logger });
  console.log(
    `bench:sends on ${db.config.kind}, ${CONTACTS} contacts, batch ${BATCH}, concurrency ${CONCURRENCY}, ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );

  let started = Date.now();
  const sandbox = await startSandbox(CONTACTS);
  await seedContacts(db.dataSource, oa.appId);
  console.log(`seeded ${CONTACTS} contacts and followers in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // Floor 1: template/send calls alone, through the same client, concurrency and loopback, to a second sandbox.
  const bare = await startSandbox(BARE_CALLS);
  const bareClient = new OfficialAccountClient({
    baseUrl: `${bare.url}/sandbox/wechat`,
    appId: oa.appId,
    secret: oa.secret,
    tokenStore: new TokenStore({ dataSource: db.dataSource, clock: systemClock, holder: 'bench-bare' }),
    rateLimiter: unlimitedRateLimiter,
    logger,
    timeoutMs: 30_000,
  });
  let next = 1;
  let bareFailed = 0;
  started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next <= BARE_CALLS) {
        const n = next;
        next += 1;
        // A timeout on a loaded machine is counted, not fatal: the floor is the calls that came back.
        await bareClient
          .sendTemplateMessage({ touser: openidOf(n), client_msg_id: `bare${n}`, ...payload })
          .catch(() => void (bareFailed += 1));
      }
    }),
  );
  const bareSeconds = (Date.now() - started) / 1000;
  await bare.child.stop();

  // Floor 2: the same outbox rows written by one raw multi-row INSERT per 500.
  started = Date.now();
  const now = toSqlDate(new Date());
  const body = JSON.stringify(payload);
  for (let start = 1; start <= CONTACTS; start += 500) {
    const numbers = Array.from({ length: Math.min(500, CONTACTS - start + 1) }, (_, i) => start + i);
    await db.dataSource.query(
      `INSERT INTO outbox_messages (dedupe_key, contact_id, channel, purpose, source_type, source_id, payload, state, attempts, not_before, created_at, updated_at)
       VALUES ${numbers.map(() => "(?, ?, 'oa_template', 'marketing', 'raw', '0', ?, 'sent', 1, ?, ?, ?)").join(', ')}`,
      numbers.flatMap((n) => [`raw:${n}`, n, body, now, now, now]),
    );
  }
  const rawSeconds = (Date.now() - started) / 1000;
  await db.dataSource.query("DELETE FROM outbox_messages WHERE source_type = 'raw'");

  const services = composeServices({
    config,
    dataSource: db.dataSource,
    clock: systemClock,
    logger,
    holder: 'bench',
    apiBases: { wechat: `${sandbox.url}/sandbox/wechat`, wecom: `${sandbox.url}/sandbox/wecom` },
    platformTimeoutMs: 30_000,
  });
  const { id } = await services.broadcasts.create({
    name: 'bench',
    segmentId: null,
    message: { channel: 'oa_template', payload },
    actor: { operatorId: null, ip: null },
  });
  // No send loop beside the expansion (its kicks start one): the drain below is what is measured.
  services.outboxSender.stop();
  started = Date.now();
  await services.broadcasts.expandDue(1_000_000);
  const expandSeconds = (Date.now() - started) / 1000;
  started = Date.now();
  const sent = await services.outboxSender.drain();
  const sendSeconds = (Date.now() - started) / 1000;
  await services.broadcasts.runOnce();
  const progress = await services.broadcasts.progress(id);

  const accepted = ((await (await fetch(`${sandbox.url}/sandbox/control/messages`)).json()) as { messages: { openid: string }[] }).messages;
  const perOpenid = new Map<string, number>();
  for (const m of accepted) perOpenid.set(m.openid, (perOpenid.get(m.openid) ?? 0) + 1);
  let duplicates = 0;
  for (const count of perOpenid.values()) duplicates += count - 1;
  let missing = 0;
  for (let n = 1; n <= CONTACTS; n += 1) if (!perOpenid.has(openidOf(n))) missing += 1;

  const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en-US')}/s`;
  console.log('');
  console.log(`| phase | rows | seconds | rate |`);
  console.log(`|---|---|---|---|`);
  console.log(
    `| floor: bare template/send loop (HTTP only) | ${BARE_CALLS} | ${bareSeconds.toFixed(2)} | ${rate(BARE_CALLS, bareSeconds)} |`,
  );
  console.log(`| floor: raw INSERT of the outbox rows | ${CONTACTS} | ${rawSeconds.toFixed(2)} | ${rate(CONTACTS, rawSeconds)} |`);
  console.log(
    `| broadcast expansion (keyset batches of 1,000) | ${progress.total} | ${expandSeconds.toFixed(2)} | ${rate(progress.total, expandSeconds)} |`,
  );
  console.log(
    `| **sends** (claim, rules, HTTP, outcomes, log, interactions) | ${sent} | ${sendSeconds.toFixed(2)} | **${rate(sent, sendSeconds)}** |`,
  );
  console.log('');
  console.log(`sends / bare HTTP loop: ${((sent / sendSeconds / (BARE_CALLS / bareSeconds)) * 100).toFixed(0)}%`);
  console.log(
    `progress: ${JSON.stringify({ status: progress.status, total: progress.total, sent: progress.sent, queued: progress.queued, failed: progress.failed, skipped: progress.skipped, unknown: progress.unknown })}`,
  );
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(`duplicates: ${duplicates}, missing: ${missing} (counted from the sandbox's ${accepted.length} accepted messages)`);

  await sandbox.child.stop();
  await db.dataSource.destroy();
  await db.cleanup();
  if (duplicates > 0 || missing > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  killChildServers();
  process.exit(1);
});
