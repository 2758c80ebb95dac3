import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { PreparedRequest } from './callback-messages';
import { findFreePort, killChildServers, startChildServer, type ChildServer } from './child-server';
import { cpuSpent, findProcess, sampleCpu } from './cpu-time';
import { runClosedLoop, runFixedRate, type PhaseResult } from './load-generator';

/**
 * `npm run bench:mp`: the mini-program's event API on MariaDB (issue 17, Benchmark), through the
 * real server in a child process (routes, the bearer session, its per-session and per-IP rate
 * limits in login_throttles, the exhibitions' services): the event list, an event's detail (which
 * records the visit) and a registration (a new phone each time: the seat, the contact, the
 * registration, its interaction). Each at BENCH_RATE (200) requests/s for BENCH_SECONDS (20), open
 * loop (latency from each request's due time), then closed loop with BENCH_CONCURRENCY (16) for the
 * most it answers per second; beside it, in the same run, a bare Koa route the same way. Goal: p99
 * under 50 ms at 200 requests/s. BENCH_MYSQL_URL (default
 * mysql://root@127.0.0.1:3306/flywheel_bench_mp) names a database that is DROPPED and created again.
 */
const RATE = positive('BENCH_RATE', 200);
const SECONDS = positive('BENCH_SECONDS', 20);
const CONCURRENCY = positive('BENCH_CONCURRENCY', 16);
const CLOSED_SECONDS = positive('BENCH_CLOSED_SECONDS', 10);
const SESSIONS = positive('BENCH_SESSIONS', 200);
const EVENTS = positive('BENCH_EVENTS', 20);
/** Events the registrations rotate over: neighbours in flight register for different ones. */
const REGISTRATION_EVENTS = 64;
const WARM_UP_REQUESTS = 1_000;
/** Registrations prepared per closed-loop sender and second: above what one sender can get answered. */
const REGISTRATIONS_PER_SENDER_SECOND = 50;
const MYSQL_URL = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/flywheel_bench_mp';
const ADMIN = { username: 'bench', password: 'bench-password-1' };
const HOUR = 3_600_000;

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

interface Row {
  name: string;
  fixed: PhaseResult;
  closed: PhaseResult;
  /** CPU ms per answer of the closed loop (with the reactions it left, until drained): Flywheel's process, the database's. */
  cpu?: { server: number | null; database: number | null };
}

async function main(): Promise<void> {
  console.log(
    `bench:mp: ${RATE} requests/s for ${SECONDS} s per API, then ${CONCURRENCY} at a time for ${CLOSED_SECONDS} s; ${SESSIONS} sessions, ` +
      `${EVENTS} events; MariaDB; ${os.cpus().length} cores`,
  );
  const url = new URL(MYSQL_URL);
  const database = url.pathname.slice(1);
  const server = new URL(MYSQL_URL);
  server.pathname = '/';
  const admin = await mysql.createConnection(server.toString());
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();

  const rows: Row[] = [];
  const fixedCount = RATE * SECONDS;

  // The baseline: the bare Koa route (bench/bare-koa.server.ts reads the body and answers `success`).
  const barePort = await findFreePort();
  const bare = await startChildServer({
    script: path.join(__dirname, 'bare-koa.server.js'),
    port: barePort,
    env: { ...process.env, PORT: String(barePort) },
    readyPath: '/',
    readyStatus: null,
    timeoutMs: 20_000,
  });
  try {
    const bareRequest: PreparedRequest = { path: '/', body: Buffer.from('{}'), headers: { 'content-type': 'application/json' } };
    const many = (n: number) => Array.from({ length: n }, () => bareRequest);
    await runClosedLoop({ port: barePort, requests: many(2_000), concurrency: 8, seconds: 5 });
    const fixed = await runFixedRate({ port: barePort, requests: many(fixedCount), rate: RATE });
    const closed = await runClosedLoop({ port: barePort, requests: many(1_000_000), concurrency: CONCURRENCY, seconds: CLOSED_SECONDS });
    rows.push({ name: 'bare Koa route', fixed, closed });
  } finally {
    await bare.stop();
  }

  const port = await findFreePort();
  const inherited = Object.entries(process.env).filter(
    ([key]) => !/^(WECHAT_|WECOM_|MINIPROGRAM_|MP_|EVENT_RATE_|ADMIN_|PUBLIC_BASE_URL$|TICKET_SECRET$)/.test(key),
  );
  let flywheel: ChildServer | null = null;
  try {
    flywheel = await startChildServer({
      script: path.join(__dirname, '..', 'server', 'main.js'),
      port,
      env: {
        ...Object.fromEntries(inherited),
        PORT: String(port),
        DATABASE_URL: MYSQL_URL,
        LOG_LEVEL: 'warn',
        SANDBOX: 'on',
        ADMIN_USERNAME: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
        // Every request comes from 127.0.0.1 and each session makes hundreds: the limits are still
        // counted (one upsert per counter), never reached.
        MP_RATE_PER_SESSION: '1000000',
        MP_RATE_PER_IP: '1000000',
        EVENT_RATE_PER_IP: '100000',
      },
      readyPath: '/readyz',
      readyStatus: 200,
      timeoutMs: 120_000,
    });
    const base = `http://127.0.0.1:${port}`;
    const database = findProcess(['mariadbd', 'mysqld']);
    const adminToken = await adminLogin(base);
    const eventIds: number[] = [];
    for (let i = 0; i < EVENTS; i += 1) eventIds.push(await createEvent(base, adminToken, i));
    // The sandbox takes a wx.login code it never issued as a new user's: each is a new mini-program user.
    const tokens: string[] = [];
    for (let i = 0; i < SESSIONS; i += 1) tokens.push(await mpLogin(base, `bench-code-${i}-${randomBytes(6).toString('hex')}`));
    const auth = (i: number) => ({ authorization: `Bearer ${tokens[i % tokens.length]}` });

    const list = (n: number): PreparedRequest[] =>
      Array.from({ length: n }, (_v, i) => ({
        path: '/api/mp/events',
        body: Buffer.alloc(0),
        method: 'GET',
        headers: auth(i),
        okStatus: 200,
      }));
    const detail = (n: number): PreparedRequest[] =>
      Array.from({ length: n }, (_v, i) => ({
        path: `/api/mp/events/${eventIds[i % eventIds.length]}`,
        body: Buffer.alloc(0),
        method: 'GET',
        headers: auth(i),
        okStatus: 200,
      }));
    // The registrants: each registration is a new person's first (a crowd at an exhibition),
    // whose phone is linked to their contact and whose name is filled. Neighbours register for
    // different events: 16 in flight on one event would queue on its row (the seat), a case this
    // bench does not measure (docs/BENCHMARKS.md).
    const registrationsPrepared = WARM_UP_REQUESTS + CONCURRENCY * CLOSED_SECONDS * REGISTRATIONS_PER_SENDER_SECOND + fixedCount;
    const registrants = await seedRegistrants(MYSQL_URL, registrationsPrepared);
    const registrationEvents: number[] = [];
    let registered = 0;
    const registration = (n: number): PreparedRequest[] =>
      Array.from({ length: n }, () => {
        const person = registered;
        registered += 1;
        const answers = { name: `参会者${person}`, phone: `138${String(person).padStart(8, '0')}`, company: '飞轮科技' };
        return {
          path: `/api/mp/events/${registrationEvents[person % registrationEvents.length]}/registrations`,
          body: Buffer.from(JSON.stringify({ answers, consent: true })),
          method: 'POST',
          headers: { authorization: `Bearer ${registrants[person]}`, 'content-type': 'application/json' },
          okStatus: 201,
        };
      });

    for (const [name, make, perSenderSecond] of [
      ['GET /api/mp/events', list, 400],
      ['GET /api/mp/events/:id', detail, 400],
      ['POST …/registrations', registration, REGISTRATIONS_PER_SENDER_SECOND],
    ] as const) {
      if (make === registration) {
        for (let i = 0; i < REGISTRATION_EVENTS; i += 1) registrationEvents.push(await createEvent(base, adminToken, EVENTS + i));
      }
      await runClosedLoop({ port, requests: make(WARM_UP_REQUESTS), concurrency: 8, seconds: 5 });
      // The closed loop first: a fixed rate the server cannot keep leaves a queue behind it (the
      // client gives up on a request, the server still runs it), which would be charged to the next phase.
      const before = sampleCpu([flywheel.pid, database]);
      const closed = await runClosedLoop({
        port,
        requests: make(CONCURRENCY * CLOSED_SECONDS * perSenderSecond),
        concurrency: CONCURRENCY,
        seconds: CLOSED_SECONDS,
      });
      await drained(base, tokens[0] ?? '');
      const [serverMs, databaseMs] = cpuSpent(before, sampleCpu([flywheel.pid, database])).processes;
      const perAnswer = (ms: number | null | undefined) => (ms === null || ms === undefined || closed.ok === 0 ? null : ms / closed.ok);
      const fixed = await runFixedRate({ port, requests: make(fixedCount), rate: RATE });
      rows.push({ name, fixed, closed, cpu: { server: perAnswer(serverMs), database: perAnswer(databaseMs) } });
      await drained(base, tokens[0] ?? '');
    }
  } finally {
    await flywheel?.stop();
  }

  console.log('');
  console.log(
    `target                   fixed ${RATE}/s: sent   ok/s   p50 ms   p99 ms   max ms  errors | closed ${CONCURRENCY}: ok/s   p99 ms  errors`,
  );
  for (const row of rows) {
    const f = row.fixed;
    const c = row.closed;
    console.log(
      `${row.name.padEnd(26)} ${String(f.sent).padStart(15)} ${f.okPerSecond.toFixed(0).padStart(6)} ${f.latencyMs.p50.toFixed(1).padStart(8)} ${f.latencyMs.p99
        .toFixed(1)
        .padStart(
          8,
        )} ${f.latencyMs.max.toFixed(1).padStart(8)} ${String(f.errors).padStart(7)} | ${c.okPerSecond.toFixed(0).padStart(15)} ${c.latencyMs.p99
        .toFixed(1)
        .padStart(8)} ${String(c.errors).padStart(7)}`,
    );
    const ms = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(2));
    if (row.cpu) console.log(`  CPU ms per answer (closed loop): server ${ms(row.cpu.server)}, database ${ms(row.cpu.database)}`);
    for (const sample of [...f.errorSamples, ...c.errorSamples]) console.log(`  ${row.name}: ${sample}`);
  }
  const flywheelRows = rows.slice(1);
  const worst = Math.max(...flywheelRows.map((r) => r.fixed.latencyMs.p99));
  const errors = flywheelRows.reduce((sum, r) => sum + r.fixed.errors + r.closed.errors, 0);
  console.log('');
  console.log(`worst p99 at ${RATE} requests/s: ${worst.toFixed(1)} ms (goal: under 50 ms); errors: ${errors}`);
  if (errors > 0) process.exitCode = 1;
}

/**
 * `n` mini-program users as a login leaves them (a contact, its mp_openid identity, a session),
 * written straight into the tables: logging in thousands through POST /api/mp/login would take
 * minutes of the run. The app id is copied from a session a real login made. Returns their tokens.
 */
async function seedRegistrants(url: string, n: number): Promise<string[]> {
  const db = await mysql.createConnection(url);
  try {
    const [[made]] = await db.query<mysql.RowDataPacket[]>('SELECT app_id FROM mp_sessions LIMIT 1');
    const appId = String(made?.app_id);
    const [[max]] = await db.query<mysql.RowDataPacket[]>('SELECT COALESCE(MAX(id), 0) AS id FROM contacts');
    const first = Number(max?.id) + 1;
    // UTC datetime text, as the server writes it (the connection's zone would shift a Date).
    const utc = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '');
    const now = utc(new Date());
    const expires = utc(new Date(Date.now() + 24 * HOUR));
    const tokens = Array.from({ length: n }, () => randomBytes(32).toString('base64url'));
    for (let from = 0; from < n; from += 1_000) {
      const ids = tokens.slice(from, from + 1_000).map((_t, i) => first + from + i);
      const openid = (id: number) => `bench-registrant-${id}`;
      await db.query('INSERT INTO contacts (id, stage, score, created_at, updated_at) VALUES ?', [
        ids.map((id) => [id, 'acquired', 0, now, now]),
      ]);
      await db.query('INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES ?', [
        ids.map((id) => [id, 'mp_openid', appId, openid(id), now]),
      ]);
      await db.query(
        'INSERT INTO mp_sessions (token_hash, contact_id, app_id, openid, unionid, session_key, created_at, expires_at) VALUES ?',
        [
          ids.map((id) => [
            createHash('sha256')
              .update(tokens[id - first], 'utf8')
              .digest('hex'),
            id,
            appId,
            openid(id),
            null,
            'bench',
            now,
            expires,
          ]),
        ],
      );
    }
    return tokens;
  } finally {
    await db.end();
  }
}

/** Waits (at most 3 minutes) until a list request answers within a second again: the last phase's queue is gone. */
async function drained(base: string, token: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const started = Date.now();
    try {
      const res = await fetch(`${base}/api/mp/events`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (Date.now() - started < 1_000) return;
    } catch {
      // Not answered in time: still busy.
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

async function adminLogin(base: string): Promise<string> {
  const res = await fetch(`${base}/api/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  if (res.status !== 200) throw new Error(`admin login: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

async function createEvent(base: string, token: string, i: number): Promise<number> {
  const now = Date.now();
  const res = await fetch(`${base}/api/admin/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      name: `基准测试展会 ${i + 1}`,
      venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
      startsAt: new Date(now + (48 + i) * HOUR).toISOString(),
      endsAt: new Date(now + (56 + i) * HOUR).toISOString(),
      // Room for every registration the run makes.
      capacity: 1_000_000,
      registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
      fields: [{ key: 'company', label: '公司', type: 'text', required: false }],
      benefit: null,
      agenda: [
        { time: '09:00', title: '开幕致辞' },
        { time: '10:00', title: '主题演讲', speaker: '王总' },
      ],
    }),
  });
  if (res.status !== 201) throw new Error(`create event: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: number }).id;
}

async function mpLogin(base: string, code: string): Promise<string> {
  const res = await fetch(`${base}/api/mp/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  if (res.status !== 200) throw new Error(`mp login: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

main().catch((error: unknown) => {
  console.error(error);
  killChildServers();
  process.exitCode = 1;
});
