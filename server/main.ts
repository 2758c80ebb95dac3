import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../config/config.schema';
import { OffsetClock, systemClock } from './adapters/clock';
import { createLogger } from './adapters/logger';
import { createSandboxFor } from './adapters/sandbox/sandbox-platform';
import { buildApp } from './app';
import { composeServices } from './compose';
import { createDataSource } from './db/data-source';
import { drainAndClose } from './lifecycle';
import { runMigrationsWithLock } from './db/migrate';
import { ensureFirstOperator } from './modules/operators/first-operator';
import { createClockControl, startJobs } from './jobs/scheduler';

/** Process entry: config → DataSource → migrations → HTTP + jobs; graceful shutdown. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  // In sandbox mode the clock can be moved forward (POST /sandbox/control/clock); never otherwise.
  const sandboxClock = config.sandbox ? new OffsetClock(systemClock) : null;
  const clock = sandboxClock ?? systemClock;
  const holder = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  const dataSource = await createDataSource(config.database);
  await dataSource.initialize();
  const applied = await runMigrationsWithLock({ dataSource, holder, logger });
  if (applied.length > 0) logger.info('migrations applied', { applied });

  // In sandbox mode the fake platform is served by this process under /sandbox, and the
  // adapters talk to it over loopback exactly as they would talk to WeChat.
  const loopback = `http://127.0.0.1:${config.port}`;
  const sandbox = createSandboxFor(config, { callbackBaseUrl: loopback, clock });
  const apiBases = {
    wechat: config.wechatApiBase ?? (sandbox ? `${loopback}/sandbox/wechat` : 'https://api.weixin.qq.com'),
    wecom: config.wecomApiBase ?? (sandbox ? `${loopback}/sandbox/wecom` : 'https://qyapi.weixin.qq.com'),
    // The SDK signs for the service its host's first label names: the sandbox is sms.localhost
    // (loopback, RFC 6761). Real SMS_* credentials go to Tencent even in sandbox mode.
    ...(sandbox && config.sms?.sandboxAccount ? { sms: `http://sms.localhost:${config.port}/sandbox/sms` } : {}),
    pay: config.pay.apiBase ?? (sandbox ? `${loopback}/sandbox/pay` : 'https://api.mch.weixin.qq.com'),
    // Web OAuth's authorize page is opened by the visitor's phone, not by this server: the public URL.
    ...(sandbox && !config.visitors.oauthBase ? { oauth: `${config.publicBaseUrl}/sandbox/open` } : {}),
  };

  const services = composeServices({ config, dataSource, clock, operatorClock: systemClock, logger, holder, apiBases });
  if (sandbox && sandboxClock && services.sandboxClockStore) {
    const store = services.sandboxClockStore;
    // A skip made before the last restart still holds: the clock starts where it was left.
    const restoredMs = await store.restoreInto(sandboxClock);
    if (restoredMs > 0) logger.info('sandbox clock restored', { offsetSeconds: Math.floor(restoredMs / 1000) });
    const afterAdvance = () => store.remember(sandboxClock);
    sandbox.attachClockControl(createClockControl({ clock: sandboxClock, jobs: services.jobs, logger, afterAdvance }));
  }
  // Created before the server listens; its password is printed after the banner, last, where
  // a new user sees it.
  const firstRunNotice: string[] = [];
  await ensureFirstOperator({
    operators: services.operators,
    bootstrapAdmin: config.bootstrapAdmin,
    publicBaseUrl: config.publicBaseUrl,
    print: (text) => firstRunNotice.push(text),
  });

  const app = buildApp({
    logger,
    routers: services.routers,
    trustProxy: config.trustProxy,
    sandbox: sandbox?.app ?? null,
    // dist/server/main.js → dist/web/admin, where `npm run build` puts the page.
    adminWebRoot: path.resolve(__dirname, '../web/admin'),
    mobileWebRoot: path.resolve(__dirname, '../web/mobile'),
    // Inside WeChat the invitation page identifies its visitor by web OAuth before its HTML.
    mobilePageMiddleware: services.visitorMiddleware,
    // The WeCom sidebar: its rep signs in by WeCom's OAuth2 before its HTML.
    sidebarWebRoot: path.resolve(__dirname, '../web/sidebar'),
    sidebarWeb: services.sidebarWeb,
    adminLocale: config.adminLocale,
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(config.port, resolve));

  const jobs = startJobs({
    jobs: services.jobs,
    coordinator: services.coordinator,
    logger,
    timezone: config.businessTimeZone,
  });
  // Reactions left by a crash are run now (then by the replay job).
  services.reactions.kick();

  const base = config.publicBaseUrl;
  const lines = [
    `Flywheel listening on port ${config.port} (${config.database.kind}${config.sandbox ? ', sandbox platform' : ''})`,
    `  Official Account callback: ${base}/wechat/callback`,
    `  WeCom callback:            ${base}/wecom/callback`,
    `  Admin page:                ${base}/admin/`,
    `  Admin API:                 ${base}/api/admin (POST /api/admin/login)`,
    `  Health:                    ${base}/healthz (liveness), ${base}/readyz (readiness)`,
  ];
  if (config.sandbox) lines.push(`  Sandbox platform:          ${base}/sandbox (try: npm run sandbox -- subscribe --scene expo2026)`);
  process.stdout.write(`${lines.join('\n')}\n${firstRunNotice.join('')}`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    drainAndClose({
      logger,
      gate: services.drainGate,
      callbackStore: services.callbackStore,
      reactions: services.reactions,
      outboxSender: services.outboxSender,
      queue: services.queue,
      jobs,
      server,
      dataSource,
    })
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error('shutdown failed', { error: error instanceof Error ? error : String(error) });
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`Flywheel failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
