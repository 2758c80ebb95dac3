import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { loadConfig, MIN_SCRYPT_N, type Config, type OfficialAccountConfig, type WecomConfig } from '../../config/config.schema';
import { ManualClock, systemClock } from '../../server/adapters/clock';
import { createLogger, type LogWriter } from '../../server/adapters/logger';
import { createSandboxPlatform, startSandboxServer } from '../../server/adapters/sandbox/sandbox-platform';
import type { SandboxPlayer } from '../../server/adapters/sandbox/sandbox-player';
import { merchantConfigOfSandbox, processSandboxPayKeys, type SandboxPayKeys } from '../../server/adapters/sandbox/sandbox-pay-keys';
import { buildApp } from '../../server/app';
import type { VisitorIdentifier } from '../../server/http/content.routes';
import { composeServices, type Services } from '../../server/compose';
import { createClockControl } from '../../server/jobs/scheduler';
import type { TestDatabase } from './database';

/** The stack runs in sandbox mode, where both platforms are configured. */
export type StackConfig = Readonly<Config> & { officialAccount: OfficialAccountConfig; wecom: WecomConfig };

export interface TestStack {
  config: StackConfig;
  clock: ManualClock;
  services: Services;
  app: Koa;
  /** The app listening on loopback, for the sandbox player (it posts real HTTP). */
  baseUrl: string;
  /** The server behind baseUrl (the shutdown drain closes it). */
  server: http.Server;
  sandbox: ReturnType<typeof createSandboxPlatform>;
  sandboxUrl: string;
  /** Plays followers and customers into the app, signed and encrypted as the platform does. */
  player(): SandboxPlayer;
  close(): Promise<void>;
}

/**
 * The whole server on a test database, with the sandbox platform on loopback standing in for
 * WeChat and WeCom, and a manual clock set to real time (callbacks carry real timestamps).
 */
export async function startTestStack(
  db: Pick<TestDatabase, 'dataSource'>,
  env: NodeJS.ProcessEnv = {},
  options: {
    holder?: string;
    callbackDeadlineMs?: number;
    callbackQueueLimit?: number;
    adminWebRoot?: string;
    /** The built public pages (dist/web/mobile), served at /e/. */
    mobileWebRoot?: string;
    /** The built WeCom sidebar (dist/web/sidebar), served at /sidebar/ with its WeCom OAuth2 sign-in. */
    sidebarWebRoot?: string;
    /** Collects the log lines (set LOG_LEVEL in env, the stack's default is silent). */
    logWrite?: LogWriter;
    /** How long a platform call may take (2 s unless given). */
    platformTimeoutMs?: number;
    /** WeChat Pay's keys, shared by the sandbox and Flywheel (default: the process's generated ones). */
    payKeys?: SandboxPayKeys;
    /** Who reads a content page (default: nobody is known, as in production until web OAuth). */
    identifyVisitor?: VisitorIdentifier;
  } = {},
): Promise<TestStack> {
  // The content centre's files go to a folder of this stack's own, removed at close.
  const contentDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-content-'));
  // Passwords hashed at the least cost (PASSWORD_SCRYPT_N): the suites sign in thousands of times.
  const loaded = loadConfig({
    LOG_LEVEL: 'silent',
    SANDBOX: 'on',
    CONTENT_DIR: contentDir,
    PASSWORD_SCRYPT_N: String(MIN_SCRYPT_N),
    ...env,
  });
  const { officialAccount, wecom } = loaded;
  if (!officialAccount || !wecom) throw new Error('the test stack needs both platforms configured (sandbox mode)');
  const config: StackConfig = { ...loaded, officialAccount, wecom };
  const clock = new ManualClock(new Date());
  const logger = createLogger(config.logLevel, options.logWrite);

  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const payKeys = options.payKeys ?? processSandboxPayKeys(config.officialAccount.appId);
  const sandbox = createSandboxPlatform({
    officialAccount: config.officialAccount,
    wecom: config.wecom,
    miniprogram: config.miniprogram,
    callbackBaseUrl: baseUrl,
    clock,
    pay: payKeys,
    wecomTrustedDomain: new URL(config.publicBaseUrl).hostname,
  });
  const sandboxServer = await startSandboxServer(sandbox, 0);

  const services = composeServices({
    config,
    dataSource: db.dataSource,
    clock,
    // As main.ts does in sandbox mode: a skip of the sandbox clock leaves the operators' sessions alone.
    operatorClock: systemClock,
    logger,
    holder: options.holder ?? 'test-instance',
    callbackDeadlineMs: options.callbackDeadlineMs,
    callbackQueueLimit: options.callbackQueueLimit,
    apiBases: {
      wechat: `${sandboxServer.url}/sandbox/wechat`,
      wecom: `${sandboxServer.url}/sandbox/wecom`,
      sms: `${sandboxServer.url.replace('127.0.0.1', 'sms.localhost')}/sandbox/sms`,
      pay: `${sandboxServer.url}/sandbox/pay`,
      oauth: `${sandboxServer.url}/sandbox/open`,
    },
    payMerchant: merchantConfigOfSandbox(payKeys),
    platformTimeoutMs: options.platformTimeoutMs ?? 2_000,
    identifyVisitor: options.identifyVisitor,
  });
  // With the admin page or the public pages served, the sandbox is mounted under /sandbox on the
  // same origin too, as main.ts does: the panel posts there, and the offer page loads its bridge.
  const app = buildApp({
    logger,
    routers: services.routers,
    trustProxy: config.trustProxy,
    sandbox: options.adminWebRoot || options.mobileWebRoot || options.sidebarWebRoot ? sandbox.app : null,
    adminWebRoot: options.adminWebRoot ?? null,
    mobileWebRoot: options.mobileWebRoot ?? null,
    mobilePageMiddleware: services.visitorMiddleware,
    sidebarWebRoot: options.sidebarWebRoot ?? null,
    sidebarWeb: services.sidebarWeb,
    adminLocale: config.adminLocale,
  });
  server.on('request', app.callback());
  sandbox.attachClockControl(createClockControl({ clock, jobs: services.jobs, logger }));

  return {
    config,
    clock,
    services,
    app,
    baseUrl,
    server,
    sandbox,
    sandboxUrl: sandboxServer.url,
    player() {
      const player = sandbox.player();
      if (!player) throw new Error('the sandbox has no player (callbackBaseUrl and keys missing)');
      return player;
    },
    async close() {
      await services.reactions.idle();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sandboxServer.close();
      fs.rmSync(contentDir, { recursive: true, force: true });
    },
  };
}

/** A new admin operator on the stack and a bearer token of theirs, for suites driving the admin API. */
export async function signInAdmin(stack: TestStack): Promise<string> {
  const { operators } = stack.services;
  const actor = { operatorId: null, ip: null };
  const created = await operators.createOperator({
    username: 'admin',
    password: 'long-enough-password',
    role: 'admin',
    wecomUserId: null,
    actor,
  });
  if (!created.ok) throw new Error(created.reason);
  const session = await operators.login({ username: 'admin', password: 'long-enough-password', ip: '127.0.0.1' });
  if (!session.ok) throw new Error(session.reason);
  return session.token;
}

/** A new mini-program user: a wx.login code the sandbox redeems, exchanged at POST /api/mp/login. */
export async function loginMiniProgram(stack: TestStack): Promise<{ token: string; openid: string }> {
  const issued = stack.sandbox.state.issueLoginCode({ unionid: null });
  const res = await fetch(`${stack.baseUrl}/api/mp/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: issued.code }),
  });
  if (res.status !== 200) throw new Error(`POST /api/mp/login answered ${res.status}: ${await res.text()}`);
  return { token: ((await res.json()) as { token: string }).token, openid: issued.openid };
}
