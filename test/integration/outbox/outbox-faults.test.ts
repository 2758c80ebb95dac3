import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../../../config/config.schema';
import { systemClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { createSandboxPlatform, startSandboxServer } from '../../../server/adapters/sandbox/sandbox-platform';
import { composeServices, type Services } from '../../../server/compose';
import { describeEachDatabase } from '../../support/database';
import { countOutboxStates, offerPayload, seedFollowers } from '../../support/outbox-fixtures';

/**
 * The exactly-once fault tests of issue 14: a sender killed with SIGKILL halfway through a
 * 10,000-contact template broadcast and restarted, and two sender instances on one database.
 * Every contact gets exactly one message, counted from the sandbox's record of accepted messages,
 * and the delivery log accounts for every contact.
 */
const CONTACTS = 10_000;
const OUTBOX_ENV = {
  OUTBOX_QUIET_HOURS: 'off',
  OUTBOX_FREQUENCY_CAPS: 'off',
  OUTBOX_BATCH_SIZE: '200',
  OUTBOX_CONCURRENCY: '32',
  OUTBOX_RATE_LIMITS: 'oa_template=2000',
};
const CHILD = path.join(__dirname, '../../support/outbox-sender.child.ts');
const REGISTER = path.join(__dirname, '../../support/ts-register.js');

jest.setTimeout(240_000);

describeEachDatabase('outbox faults', (db) => {
  const config = loadConfig({ SANDBOX: 'on', LOG_LEVEL: 'silent', ...OUTBOX_ENV });
  const { officialAccount: oa, wecom } = config;
  if (!oa || !wecom) throw new Error('sandbox mode configures both platforms');
  let sandbox: ReturnType<typeof createSandboxPlatform>;
  let sandboxServer: { url: string; close(): Promise<void> };

  beforeEach(async () => {
    sandbox = createSandboxPlatform({ officialAccount: oa, wecom, miniprogram: config.miniprogram, clock: systemClock });
    sandboxServer = await startSandboxServer(sandbox, 0);
  });
  afterEach(async () => {
    await sandboxServer.close();
  });

  const compose = (holder: string): Services =>
    composeServices({
      config,
      dataSource: db().dataSource,
      clock: systemClock,
      logger: createLogger('silent'),
      holder,
      apiBases: { wechat: `${sandboxServer.url}/sandbox/wechat`, wecom: `${sandboxServer.url}/sandbox/wecom` },
      platformTimeoutMs: 2_000,
      outboxLeaseMs: 2_000,
    });

  const createBroadcast = async (services: Services): Promise<number> =>
    (
      await services.broadcasts.create({
        name: '老朋友回归礼',
        segmentId: null,
        message: { channel: 'oa_template', payload: offerPayload() },
        actor: { operatorId: null, ip: null },
      })
    ).id;

  /** Every contact exactly once in the sandbox's record, every row sent, every row with a delivery-log line. */
  const expectExactlyOnce = async (count: number): Promise<void> => {
    const perOpenid = sandbox.state.messages.countByOpenid();
    expect(perOpenid.size).toBe(count);
    expect([...perOpenid.values()].filter((n) => n !== 1)).toEqual([]);
    expect(await countOutboxStates(db().dataSource)).toEqual({ sent: count });
    const unlogged: { n: number | string }[] = await db().dataSource.query(
      'SELECT COUNT(*) AS n FROM outbox_messages o WHERE NOT EXISTS (SELECT 1 FROM outbox_attempts a WHERE a.outbox_id = o.id AND a.outcome = ?)',
      ['sent'],
    );
    expect(Number(unlogged[0].n)).toBe(0);
  };

  const startChild = (holder: string): { child: ChildProcess; done: Promise<number | null> } => {
    const child = fork(CHILD, [], {
      execArgv: ['-r', REGISTER],
      env: {
        ...process.env,
        ...OUTBOX_ENV,
        FW_DB: JSON.stringify(db().config),
        FW_SANDBOX_URL: sandboxServer.url,
        FW_HOLDER: holder,
        FW_LEASE_MS: '2000',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (message: { error?: string }) => {
      if (message.error) process.stderr.write(`sender child failed: ${message.error}\n`);
    });
    const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, done };
  };

  it('kill -9 halfway through a 10,000-contact template broadcast, restart: every contact gets exactly one message', async () => {
    const started = Date.now();
    const parent = compose('parent');
    const contactIds = await seedFollowers({ dataSource: db().dataSource, appId: oa.appId, count: CONTACTS, sandbox: sandbox.state });
    const broadcastId = await createBroadcast(parent);

    const first = startChild('sender-a');
    const halfway = Date.now() + 120_000;
    while (sandbox.state.messages.accepted.length < CONTACTS * 0.4 && Date.now() < halfway)
      await new Promise((resolve) => setTimeout(resolve, 20));
    first.child.kill('SIGKILL');
    await first.done;
    const atKill = sandbox.state.messages.accepted.length;
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(CONTACTS);
    const stateAtKill = await countOutboxStates(db().dataSource);

    const restarted = startChild('sender-b');
    expect(await restarted.done).toBe(0);

    await expectExactlyOnce(CONTACTS);
    // The rows the dead sender left in flight were re-sent with their client_msg_id: a retry line, then sent.
    const retried: { n: number | string }[] = await db().dataSource.query(
      "SELECT COUNT(DISTINCT outbox_id) AS n FROM outbox_attempts WHERE outcome = 'retry'",
    );
    // (At least: a send that timed out on a busy machine is retried the same way.)
    expect(Number(retried[0].n)).toBeGreaterThanOrEqual(stateAtKill.sending ?? 0);
    process.stderr.write(`kill test: ${JSON.stringify({ atKill, stateAtKill, retried: Number(retried[0].n), ms: Date.now() - started })}\n`);
    await parent.broadcasts.runOnce();
    expect(await parent.broadcasts.progress(broadcastId)).toMatchObject({
      status: 'done',
      total: CONTACTS,
      sent: CONTACTS,
      queued: 0,
      failed: 0,
      skipped: 0,
      unknown: 0,
    });
    expect(contactIds).toHaveLength(CONTACTS);
  });

  it('two sender processes on one database send each message once', async () => {
    const count = 4_000;
    const parent = compose('parent');
    await seedFollowers({ dataSource: db().dataSource, appId: oa.appId, count, sandbox: sandbox.state });
    const broadcastId = await createBroadcast(parent);
    const senders = [startChild('instance-1'), startChild('instance-2')];
    const claimed = [0, 0];
    senders.forEach((s, i) => s.child.on('message', (m: { claimed?: number }) => void (claimed[i] += m.claimed ?? 0)));
    expect(await Promise.all(senders.map((s) => s.done))).toEqual([0, 0]);
    await expectExactlyOnce(count);
    const lines: { n: number | string }[] = await db().dataSource.query(
      'SELECT COUNT(*) AS n FROM outbox_attempts WHERE outbox_id IN (SELECT id FROM outbox_messages WHERE source_id = ?)',
      [String(broadcastId)],
    );
    expect(Number(lines[0].n)).toBe(count);
    process.stderr.write(`two senders claimed: ${JSON.stringify(claimed)}\n`);
  });
});
