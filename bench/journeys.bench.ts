import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import { loadConfig, type DatabaseConfig } from '../config/config.schema';
import { ManualClock } from '../server/adapters/clock';
import { createLogger } from '../server/adapters/logger';
import { composeServices } from '../server/compose';
import { createDataSource } from '../server/db/data-source';
import { runMigrationsWithLock } from '../server/db/migrate';
import { toSqlDate } from '../server/db/sql';
import type { JourneyDefinition } from '../server/modules/journeys/journey-definition';
import { enterRuns } from '../server/modules/journeys/journey-runs';

/**
 * `npm run bench:journeys`: BENCH_CONTACTS (100,000) contacts enter a three-step journey (push,
 * wait a day, push again); the engine advances every due run twice (before and after the day),
 * writing every outbox row and step, on SQLite and on MariaDB. Beside it, in the same run, a
 * raw-SQL baseline writes the same rows (outbox rows, step rows, the runs' new places) with
 * multi-row INSERTs of 500 and one UPDATE per 1,000 runs, and nothing else. Prints runs advanced
 * per second for both. BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306/flywheel_bench_journeys)
 * names a database that is DROPPED and created again; BENCH_SKIP_SQLITE=1 / BENCH_SKIP_MYSQL=1 skip one.
 */
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 100_000);
const MYSQL_URL = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/flywheel_bench_journeys';
const DAY_MS = 86_400_000;

const definition: JourneyDefinition = {
  entry: { kind: 'manual' },
  reentry: 'after_exit',
  start: 'push1',
  goal: null,
  nodes: [
    {
      id: 'push1',
      type: 'send',
      channel: 'oa_template',
      templateId: 'sbx_tpl_coupon_issued_0001',
      data: { thing1: '老朋友回归礼' },
      url: 'https://example.com/o',
      purpose: 'marketing',
      next: 'wait',
    },
    { id: 'wait', type: 'wait', mode: 'duration', seconds: 86_400, next: 'push2' },
    {
      id: 'push2',
      type: 'send',
      channel: 'oa_template',
      templateId: 'sbx_tpl_coupon_issued_0001',
      data: { thing1: '老朋友回归礼' },
      url: 'https://example.com/o',
      purpose: 'marketing',
      next: 'end',
    },
    { id: 'end', type: 'exit' },
  ],
};

async function main(): Promise<void> {
  console.log(`bench:journeys: ${CONTACTS} contacts, a three-step journey (push, wait 1 day, push), ${os.cpus().length} cores`);
  if (process.env.BENCH_SKIP_SQLITE !== '1') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-bench-journeys-'));
    await benchOne({ kind: 'sqlite', path: path.join(dir, 'bench.sqlite') });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (process.env.BENCH_SKIP_MYSQL === '1') return;
  const url = new URL(MYSQL_URL);
  const name = url.pathname.slice(1);
  const server = new URL(MYSQL_URL);
  server.pathname = '/';
  const admin = await mysql.createConnection(server.toString());
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  await benchOne({ kind: 'mysql', url: MYSQL_URL });
}

async function benchOne(config: DatabaseConfig): Promise<void> {
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
  const contactIds = await seedContacts(dataSource, CONTACTS);
  const created = await services.journeys.createJourney({ name: 'bench', definition, actor: { operatorId: null, ip: null } });
  if (!created.ok) throw new Error(JSON.stringify(created));
  await services.journeys.publish({ id: created.value.id, actor: { operatorId: null, ip: null } });
  const journey = { id: created.value.id, name: 'bench', version: 1, definition };
  let t = performance.now();
  for (let i = 0; i < contactIds.length; i += 5_000)
    await services.transactor.run((m) =>
      enterRuns({
        manager: m,
        journey,
        entries: contactIds.slice(i, i + 5_000).map((contactId) => ({ contactId, cause: 'bench' })),
        now: clock.now(),
      }),
    );
  const enterS = (performance.now() - t) / 1000;

  t = performance.now();
  const first = await services.journeyEngine.advanceDue();
  clock.advance(DAY_MS);
  const second = await services.journeyEngine.advanceDue();
  const engineS = (performance.now() - t) / 1000;
  const [outbox]: { n: number }[] = await dataSource.query('SELECT COUNT(*) AS n FROM outbox_messages');
  const [steps]: { n: number }[] = await dataSource.query('SELECT COUNT(*) AS n FROM journey_steps');
  const advanced = first + second;

  const baselineS = await rawBaseline(dataSource, created.value.id, contactIds, clock.now());
  const engineRate = advanced / engineS;
  const baseRate = advanced / baselineS;
  console.log(
    `${config.kind.padEnd(6)} enter ${CONTACTS} runs: ${enterS.toFixed(2)} s (${Math.round(CONTACTS / enterS)}/s)\n` +
      `${config.kind.padEnd(6)} engine: ${advanced} run advances, ${Number(outbox.n)} outbox rows, ${Number(steps.n)} steps in ${engineS.toFixed(2)} s ` +
      `= ${Math.round(engineRate)} runs/s\n` +
      `${config.kind.padEnd(6)} raw-SQL baseline (same rows): ${baselineS.toFixed(2)} s = ${Math.round(baseRate)} runs/s; ` +
      `engine at ${((engineRate / baseRate) * 100).toFixed(0)}% of it`,
  );
  await dataSource.destroy();
}

async function seedContacts(dataSource: DataSource, n: number): Promise<number[]> {
  const now = toSqlDate(new Date('2026-11-01T00:00:00Z'));
  for (let i = 0; i < n; i += 1_000) {
    const rows = Math.min(1_000, n - i);
    await dataSource.query(
      `INSERT INTO contacts (score, stage, created_at, updated_at) VALUES ${Array.from({ length: rows }, () => "(0, 'acquired', ?, ?)").join(',')}`,
      Array.from({ length: rows }, () => [now, now]).flat(),
    );
  }
  const ids: { id: number }[] = await dataSource.query('SELECT id FROM contacts ORDER BY id');
  return ids.map((r) => Number(r.id));
}

/** The floor: the same outbox rows, step rows and run updates, written by plain statements in batches of 1,000 runs. */
async function rawBaseline(dataSource: DataSource, journeyId: number, contactIds: number[], at: Date): Promise<number> {
  const runs: { id: number; contact_id: number }[] = await dataSource.query('SELECT id, contact_id FROM journey_runs ORDER BY id');
  await dataSource.query('DELETE FROM outbox_messages');
  await dataSource.query('DELETE FROM journey_steps');
  const now = toSqlDate(at);
  const payload = JSON.stringify({
    template_id: 'sbx_tpl_coupon_issued_0001',
    url: 'https://example.com/r/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.yyyyyyyyyyyyyyyyyyyyyy',
    data: { thing1: { value: '老朋友回归礼' } },
  });
  const t = performance.now();
  for (const pass of [0, 1]) {
    for (let i = 0; i < runs.length; i += 1_000) {
      const batch = runs.slice(i, i + 1_000);
      await dataSource.transaction(async (m) => {
        for (let j = 0; j < batch.length; j += 500) {
          const chunk = batch.slice(j, j + 500);
          const node = pass === 0 ? 'push1' : 'push2';
          await m.query(
            'INSERT INTO outbox_messages (dedupe_key, contact_id, channel, purpose, source_type, source_id, run_id, node_id, payload, state, attempts, not_before, created_at, updated_at) VALUES ' +
              chunk.map(() => "(?, ?, 'oa_template', 'marketing', 'journey', ?, ?, ?, ?, 'pending', 0, ?, ?, ?)").join(','),
            chunk.flatMap((r) => [`journey:${r.id}:${node}`, r.contact_id, String(journeyId), r.id, node, payload, now, now, now]),
          );
          const stepRows =
            pass === 0
              ? [
                  ['push1', now],
                  ['wait', null],
                ]
              : [
                  ['push2', now],
                  ['end', now],
                ];
          await m.query(
            'INSERT INTO journey_steps (journey_id, run_id, seq, node_id, entered_at, left_at, outcome) VALUES ' +
              chunk.flatMap(() => stepRows.map(() => '(?, ?, ?, ?, ?, ?, ?)')).join(','),
            chunk.flatMap((r) => stepRows.flatMap(([node, left], k) => [journeyId, r.id, 100 + pass * 2 + k, node, now, left, 'x'])),
          );
        }
        await m.query(`UPDATE journey_runs SET step_seq = step_seq + 2, next_due_at = ? WHERE id IN (${batch.map(() => '?').join(',')})`, [
          now,
          ...batch.map((r) => r.id),
        ]);
      });
    }
  }
  void contactIds;
  return (performance.now() - t) / 1000;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
