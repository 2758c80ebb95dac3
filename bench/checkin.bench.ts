import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import { signTicket, newTicketKey } from '../server/modules/exhibitions/ticket-token';
import { findFreePort, killChildServers, startChildServer, type ChildServer } from './child-server';

/**
 * `npm run bench:checkin`: BENCH_SCANNERS (50) scanners at four gates check in BENCH_TICKETS
 * (5,000) tickets of one event on MariaDB, through the real server (a child process: routes,
 * session auth, the check-in transaction with its nonce, interaction and outbox rows). Every
 * ticket is scanned twice, by two scanners at different gates at nearly the same moment (it
 * sits twice in a row in the shared queue), so half the scans race for a ticket another gate is
 * checking in. Beside it, in the same run, a bare Koa route gets the same requests with the
 * same concurrency. Prints check-ins per second and latency (p50/p99) for both, then checks the
 * database: each ticket checked in exactly once, every losing scan answered 409
 * already_checked_in, no other answer. Exits 1 on a double check-in or any other answer.
 * BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306/flywheel_bench_checkin) names a database
 * that is DROPPED and created again.
 */
const TICKETS = positive('BENCH_TICKETS', 5_000);
const SCANNERS = positive('BENCH_SCANNERS', 50);
/** The paced run: each scanner scans once per BENCH_PACE_MS (a person reaches the gate, shows the phone, is read). */
const PACE_MS = positive('BENCH_PACE_MS', 1_000);
const PACED_TICKETS = positive('BENCH_PACED_TICKETS', 500);
const GATES = ['east', 'west', 'north', 'south'];
const MYSQL_URL = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/flywheel_bench_checkin';
/** The child signs with it too (TICKET_SECRET), so this process can make the tickets. */
const TICKET_SECRET = 'bench-checkin-ticket-secret-0123456789';
const ADMIN = { username: 'bench', password: 'bench-password-1' };
const SEED_CHUNK = 1_000;

interface Scan {
  path: string;
  body: string;
  headers: Record<string, string>;
}

interface Answer {
  status: number;
  code: string | null;
  latencyMs: number;
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

async function main(): Promise<void> {
  console.log(
    `bench:checkin: ${TICKETS} tickets, each scanned twice, ${SCANNERS} scanners at ${GATES.length} gates, MariaDB, ${os.cpus().length} cores`,
  );
  const url = new URL(MYSQL_URL);
  const database = url.pathname.slice(1);
  const server = new URL(MYSQL_URL);
  server.pathname = '/';
  const admin = await mysql.createConnection(server.toString());
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();

  const bareScans = Array.from({ length: TICKETS * 2 }, (_v, i) => ({
    path: '/api/admin/events/1/checkins',
    body: JSON.stringify({ token: `bare-${i}`, gate: GATES[i % GATES.length], nonce: `bare-nonce-${i}` }),
    headers: { 'content-type': 'application/json' },
  }));
  const barePort = await findFreePort();
  const bare = await startChildServer({
    script: path.join(__dirname, 'bare-koa.server.js'),
    port: barePort,
    env: { ...process.env, PORT: String(barePort) },
    readyPath: '/',
    readyStatus: null,
    timeoutMs: 20_000,
  });
  let bareResult: Answer[];
  let bareMs: number;
  try {
    await runScans(barePort, bareScans.slice(0, 500), SCANNERS);
    const t = performance.now();
    bareResult = await runScans(barePort, bareScans, SCANNERS);
    bareMs = performance.now() - t;
  } finally {
    await bare.stop();
  }

  const port = await findFreePort();
  const inherited = Object.entries(process.env).filter(
    ([key]) => !/^(WECHAT_|WECOM_|MINIPROGRAM_|ADMIN_|PUBLIC_BASE_URL$|TICKET_SECRET$)/.test(key),
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
        TICKET_SECRET,
        ADMIN_USERNAME: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
      },
      readyPath: '/readyz',
      readyStatus: 200,
      timeoutMs: 120_000,
    });
    const token = await login(port);
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const eventId = await createEvent(port, auth, TICKETS);
    const tickets = await seedRegistrations(eventId, TICKETS);
    // Each ticket twice in a row: two scanners take it at almost the same moment, each at its own gate.
    const scansOf = (event: number, list: string[]): Scan[] =>
      list.flatMap((ticket, i) =>
        [0, 1].map((k) => ({
          path: `/api/admin/events/${event}/checkins`,
          body: JSON.stringify({ token: ticket, gate: GATES[(i * 2 + k) % GATES.length], nonce: `scan-${event}-${i}-${k}` }),
          headers: auth,
        })),
      );
    const scans = scansOf(eventId, tickets);
    const t = performance.now();
    const answers = await runScans(port, scans, SCANNERS);
    const flywheelMs = performance.now() - t;

    const checkedIn = answers.filter((a) => a.status === 200);
    const losers = answers.filter((a) => a.status === 409 && a.code === 'already_checked_in');
    const others = answers.filter((a) => !(a.status === 200 || (a.status === 409 && a.code === 'already_checked_in')));
    // Then at a gate's pace: the same scanners, each scanning once per PACE_MS, on a second event.
    const pacedEvent = await createEvent(port, auth, PACED_TICKETS);
    const pacedScans = scansOf(pacedEvent, await seedRegistrations(pacedEvent, PACED_TICKETS));
    const tp = performance.now();
    const paced = await runScans(port, pacedScans, SCANNERS, PACE_MS);
    const pacedMs = performance.now() - tp;

    const conn = await mysql.createConnection(MYSQL_URL);
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT registration_id) AS people FROM event_checkins WHERE event_id = ?',
      [eventId],
    );
    const [gates] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT gate, COUNT(*) AS n FROM event_checkins WHERE event_id = ? GROUP BY gate',
      [eventId],
    );
    await conn.end();

    console.log('');
    console.log('target           requests  answered/s  check-ins/s   p50 ms   p99 ms   max ms');
    line('bare Koa', bareResult, bareMs, bareResult.length);
    line('Flywheel check-in', answers, flywheelMs, checkedIn.length);
    line(`paced, 1 per ${PACE_MS} ms`, paced, pacedMs, paced.filter((a) => a.status === 200).length);
    console.log('');
    console.log(`answers: ${checkedIn.length} × 200 checked_in, ${losers.length} × 409 already_checked_in, ${others.length} other`);
    console.log(
      `database: ${Number(rows[0].n)} check-ins of ${Number(rows[0].people)} registrations; by gate ${gates.map((g) => `${String(g.gate)} ${Number(g.n)}`).join(', ')}`,
    );
    const p99 = summary(answers).p99;
    console.log(`p99 ${p99.toFixed(1)} ms with every scanner scanning back to back (saturation)`);
    console.log(`p99 ${summary(paced).p99.toFixed(1)} ms with ${SCANNERS} scanners at one scan per ${PACE_MS} ms each (goal: under 50 ms)`);
    const problems: string[] = [];
    if (Number(rows[0].n) !== TICKETS || Number(rows[0].people) !== TICKETS)
      problems.push(`${Number(rows[0].n)} check-ins for ${TICKETS} tickets`);
    if (checkedIn.length !== TICKETS)
      problems.push(`${checkedIn.length} scans answered checked_in for ${TICKETS} tickets (a double check-in)`);
    const pacedOk =
      paced.filter((a) => a.status === 200).length === PACED_TICKETS && paced.every((a) => a.status === 200 || a.status === 409);
    if (!pacedOk) problems.push('the paced run did not check each of its tickets in exactly once');
    if (others.length > 0)
      problems.push(
        `${others.length} other answers, e.g. ${others
          .slice(0, 3)
          .map((a) => `${a.status} ${a.code ?? ''}`)
          .join('; ')}`,
      );
    if (problems.length > 0) {
      console.error(`FAILED: ${problems.join('; ')}`);
      process.exitCode = 1;
    } else {
      console.log('OK: every ticket checked in exactly once; every second scan refused with already_checked_in');
    }
  } finally {
    await flywheel?.stop();
  }
}

function line(name: string, answers: Answer[], ms: number, checkIns: number): void {
  const s = summary(answers);
  const rate = (n: number) => ((n * 1000) / ms).toFixed(0).padStart(10);
  console.log(
    `${name.padEnd(16)} ${String(answers.length).padStart(9)}  ${rate(answers.length)}  ${rate(checkIns)}  ${s.p50.toFixed(1).padStart(7)}  ${s.p99
      .toFixed(1)
      .padStart(7)}  ${s.max.toFixed(1).padStart(7)}`,
  );
}

function summary(answers: Answer[]): { p50: number; p99: number; max: number } {
  const sorted = answers.map((a) => a.latencyMs).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}

/**
 * `concurrency` scanners each take the next scan from the shared queue when their last one
 * answered: back to back (a closed loop, the saturation figure), or, with `paceMs`, no sooner than
 * `paceMs` after their last scan began (a gate's pace; the scanners start spread over one period).
 */
async function runScans(port: number, scans: Scan[], concurrency: number, paceMs = 0): Promise<Answer[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const answers: Answer[] = new Array<Answer>(scans.length);
  let next = 0;
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
  const scanner = async (_: unknown, index: number) => {
    if (paceMs > 0) await pause((index / concurrency) * paceMs);
    while (next < scans.length) {
      const i = next;
      next += 1;
      const began = performance.now();
      answers[i] = await post(agent, port, scans[i]);
      if (paceMs > 0) await pause(began + paceMs - performance.now());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, scanner));
  agent.destroy();
  return answers;
}

function post(agent: http.Agent, port: number, scan: Scan): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const request = http.request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: scan.path,
        headers: { ...scan.headers, 'content-length': Buffer.byteLength(scan.body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, code: errorCodeOf(text), latencyMs: performance.now() - started });
        });
      },
    );
    request.setTimeout(10_000, () => request.destroy(new Error('no answer in 10 s')));
    request.on('error', (error) => resolve({ status: 0, code: error.message, latencyMs: performance.now() - started }));
    request.end(scan.body);
  });
}

/** `error.code` of a JSON error body, else null. */
function errorCodeOf(text: string): string | null {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    return null;
  }
}

async function login(port: number): Promise<string> {
  const agent = new http.Agent();
  const answer = await postJson(agent, port, '/api/admin/login', ADMIN, { 'content-type': 'application/json' });
  const token = (answer.body as { token?: string }).token;
  if (answer.status !== 200 || !token) throw new Error(`login: ${answer.status} ${JSON.stringify(answer.body)}`);
  return token;
}

async function createEvent(port: number, auth: Record<string, string>, capacity: number): Promise<number> {
  const now = Date.now();
  const answer = await postJson(
    new http.Agent(),
    port,
    '/api/admin/events',
    {
      name: 'bench:checkin',
      venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号' },
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 8 * 3_600_000).toISOString(),
      capacity,
      registrationDeadline: new Date(now + 3_600_000).toISOString(),
      fields: [],
      benefit: { kind: 'gift', description: '帆布袋' },
    },
    auth,
  );
  if (answer.status !== 201) throw new Error(`create event: ${answer.status} ${JSON.stringify(answer.body)}`);
  return (answer.body as { id: number }).id;
}

/** Contacts and registrations written directly (the registration path is not what is measured); tickets signed here. */
async function seedRegistrations(eventId: number, count: number): Promise<string[]> {
  const conn = await mysql.createConnection(MYSQL_URL);
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const tickets: string[] = [];
  try {
    for (let start = 0; start < count; start += SEED_CHUNK) {
      const n = Math.min(SEED_CHUNK, count - start);
      const [inserted] = await conn.query<mysql.ResultSetHeader>(
        `INSERT INTO contacts (stage, score, phone, name, created_at, updated_at) VALUES ${Array.from({ length: n }, () => "('acquired', 0, ?, ?, ?, ?)").join(',')}`,
        Array.from({ length: n }, (_v, i) => [`+861380000${String(start + i).padStart(4, '0')}`, `访客${start + i}`, now, now]).flat(),
      );
      const firstContact = inserted.insertId;
      const keys = Array.from({ length: n }, () => newTicketKey());
      const [registered] = await conn.query<mysql.ResultSetHeader>(
        'INSERT INTO event_registrations (event_id, contact_id, phone, name, answers, status, ticket_key, source, channel_id, consent_at, consent_ip, ' +
          `cancelled_at, queued_at, created_at, updated_at) VALUES ${Array.from({ length: n }, () => "(?, ?, ?, ?, '{}', 'registered', ?, 'h5', NULL, ?, NULL, NULL, ?, ?, ?)").join(',')}`,
        Array.from({ length: n }, (_v, i) => [
          eventId,
          firstContact + i,
          `+861380000${String(start + i).padStart(4, '0')}`,
          `访客${start + i}`,
          keys[i],
          now,
          now,
          now,
          now,
        ]).flat(),
      );
      for (let i = 0; i < n; i += 1)
        tickets.push(signTicket(Buffer.from(TICKET_SECRET, 'utf8'), { eventId, registrationId: registered.insertId + i, key: keys[i] }));
    }
    await conn.query('UPDATE events SET registered = ? WHERE id = ?', [count, eventId]);
  } finally {
    await conn.end();
  }
  return tickets;
}

function postJson(
  agent: http.Agent,
  port: number,
  pathname: string,
  body: object,
  headers: Record<string, string>,
): Promise<{ status: number; body: unknown }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: pathname,
        headers: { ...headers, 'content-length': Buffer.byteLength(text) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = raw;
          try {
            parsed = JSON.parse(raw) as unknown;
          } catch {
            // Not JSON: kept as text for the error message.
          }
          resolve({ status: response.statusCode ?? 0, body: parsed });
        });
      },
    );
    request.on('error', reject);
    request.end(text);
  });
}

main().catch((error: unknown) => {
  killChildServers();
  console.error(error);
  process.exit(1);
});
