/**
 * A sender process for the fault tests (test/integration/outbox/outbox-faults.test.ts): the
 * outbox worker and the broadcast expansion, composed as the server composes them, against the
 * test's database and the sandbox it serves on loopback. It loops until killed (kill -9 by the
 * test) or until nothing is left, and tells the parent each pass's figures.
 * Run with `node -r test/support/ts-register.js`. Env: FW_DB (a DatabaseConfig as JSON),
 * FW_SANDBOX_URL, FW_HOLDER, FW_LEASE_MS, and the configuration's variables.
 */
import { loadConfig } from '../../config/config.schema';
import type { DatabaseConfig } from '../../config/config.schema';
import { systemClock } from '../../server/adapters/clock';
import { createLogger } from '../../server/adapters/logger';
import { composeServices } from '../../server/compose';
import { createDataSource } from '../../server/db/data-source';

async function runSender(): Promise<void> {
  const database = JSON.parse(process.env.FW_DB ?? '') as DatabaseConfig;
  const sandboxUrl = process.env.FW_SANDBOX_URL ?? '';
  const config = loadConfig({ ...process.env, SANDBOX: 'on', LOG_LEVEL: 'silent' });
  const dataSource = await createDataSource(database, { poolSize: 5 });
  await dataSource.initialize();
  const services = composeServices({
    config,
    dataSource,
    clock: systemClock,
    logger: createLogger('silent'),
    holder: process.env.FW_HOLDER ?? 'child',
    apiBases: { wechat: `${sandboxUrl}/sandbox/wechat`, wecom: `${sandboxUrl}/sandbox/wecom` },
    platformTimeoutMs: 2_000,
    outboxLeaseMs: Number(process.env.FW_LEASE_MS ?? 2_000),
  });
  process.send?.({ ready: true });
  let idle = 0;
  for (;;) {
    await services.broadcasts.runOnce();
    const pass = await services.outboxSender.sendDue();
    process.send?.({ sent: pass.sent, claimed: pass.claimed });
    if (pass.claimed === 0 && !pass.more) {
      idle += 1;
      // Rows another process left `sending` come back after their lease: wait for them a while.
      if (idle > 40) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } else idle = 0;
  }
  await services.broadcasts.runOnce();
  await dataSource.destroy();
  process.send?.({ done: true });
}

runSender().catch((error: unknown) => {
  process.send?.({ error: error instanceof Error ? error.stack : String(error) });
  process.exit(1);
});
