import { loadConfig } from '../config/config.schema';
import { systemClock } from '../server/adapters/clock';
import { createSandboxPlatform, startSandboxServer } from '../server/adapters/sandbox/sandbox-platform';

/**
 * The sandbox platform alone in its own process, listening on PORT: for benches whose platform
 * must not share the measured process's event loop, as WeChat's servers do not. Run as a child
 * process by sends.bench.ts, which plays it through its control routes.
 */
async function main(): Promise<void> {
  const config = loadConfig({ SANDBOX: 'on', LOG_LEVEL: 'silent' });
  const { officialAccount: oa, wecom } = config;
  if (!oa || !wecom) throw new Error('sandbox mode configures both platforms');
  const platform = createSandboxPlatform({ officialAccount: oa, wecom, miniprogram: config.miniprogram, clock: systemClock });
  const server = await startSandboxServer(platform, Number(process.env['PORT'] ?? 0));
  process.stdout.write(`sandbox listening on ${server.url}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
