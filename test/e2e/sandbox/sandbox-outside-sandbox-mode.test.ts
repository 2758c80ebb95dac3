import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../../config/config.schema';
import { Interaction } from '../../../entities/interaction.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { createSandboxFor } from '../../../server/adapters/sandbox/sandbox-platform';
import { buildApp } from '../../../server/app';
import { composeServices, type Services } from '../../../server/compose';
import { describeEachDatabase } from '../../support/database';
import { REAL_WECHAT, REAL_WECOM } from '../../support/platform-credentials';

/** Every kind of sandbox route: control, actions (plays signed callbacks), the fake platform APIs. */
const PROBES: { method: 'get' | 'post'; path: string; body?: object }[] = [
  { method: 'get', path: '/sandbox/control/calls' },
  { method: 'post', path: '/sandbox/control/clock', body: { advanceSeconds: 86_400 } },
  { method: 'post', path: '/sandbox/control/fail', body: { api: 'cgi-bin/stable_token', errcode: -1 } },
  { method: 'post', path: '/sandbox/control/followers', body: { count: 1 } },
  { method: 'post', path: '/sandbox/actions', body: { action: 'subscribe', scene: 'expo2026' } },
  { method: 'get', path: '/sandbox/wechat/cgi-bin/token?grant_type=client_credential&appid=wxreal000000000001&secret=real-secret' },
  { method: 'post', path: '/sandbox/wechat/cgi-bin/stable_token', body: { grant_type: 'client_credential' } },
  { method: 'get', path: '/sandbox/wecom/cgi-bin/gettoken?corpid=x&corpsecret=y' },
];

/**
 * The sandbox's routes take no session: they play callbacks signed with the configured keys and
 * move the clock. Outside sandbox mode the server must not serve them at all, the way main.ts
 * assembles it (createSandboxFor, buildApp with the admin page).
 */
describeEachDatabase('the sandbox outside sandbox mode', (db) => {
  let services: Services | undefined;
  let webRoot: string;
  beforeAll(() => {
    webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-web-'));
    fs.writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>admin</title>');
  });
  afterAll(() => fs.rmSync(webRoot, { recursive: true, force: true }));
  afterEach(async () => {
    await services?.reactions.idle();
    services = undefined;
  });

  /** The server as main.ts builds it from this environment. */
  function serverFor(env: NodeJS.ProcessEnv) {
    const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
    const clock = new ManualClock(new Date());
    const logger = createLogger('silent');
    const callbackBaseUrl = 'http://127.0.0.1:9';
    const sandbox = createSandboxFor(config, { callbackBaseUrl, clock });
    services = composeServices({
      config,
      dataSource: db().dataSource,
      clock,
      logger,
      holder: 'test',
      apiBases: { wechat: `${callbackBaseUrl}/sandbox/wechat`, wecom: `${callbackBaseUrl}/sandbox/wecom` },
      platformTimeoutMs: 500,
    });
    const app = buildApp({
      logger,
      routers: services.routers,
      trustProxy: false,
      sandbox: sandbox?.app ?? null,
      adminWebRoot: webRoot,
    });
    const mountedUnderSandbox = services.routers
      .flatMap((router) => router.stack.map((layer) => String(layer.path)))
      .filter((p) => p.startsWith('/sandbox'));
    return { config, clock, sandbox, app, mountedUnderSandbox };
  }

  it.each([
    ['both platforms configured (SANDBOX=auto)', { ...REAL_WECHAT, ...REAL_WECOM }],
    ['the Official Account configured (SANDBOX=auto)', REAL_WECHAT],
    ['SANDBOX=off with nothing configured', { SANDBOX: 'off' }],
    ['NODE_ENV=production with nothing configured', { NODE_ENV: 'production' }],
  ])('%s: every sandbox route answers 404, and nothing moves', async (_, env) => {
    const server = serverFor(env);
    expect(server.config.sandbox).toBe(false);
    expect(server.sandbox).toBeNull();
    expect(server.mountedUnderSandbox).toEqual([]);
    const before = server.clock.now().getTime();
    for (const probe of PROBES) {
      const req = request(server.app.callback())[probe.method](probe.path);
      const res = await (probe.body ? req.send(probe.body) : req);
      expect(`${probe.method.toUpperCase()} ${probe.path} ${res.status}`).toBe(`${probe.method.toUpperCase()} ${probe.path} 404`);
    }
    expect(server.clock.now().getTime()).toBe(before);
    expect(await db().dataSource.manager.count(Interaction)).toBe(0);
  });

  it('in sandbox mode the same probes reach it (so the 404s above are not a wrong path)', async () => {
    const server = serverFor({});
    expect(server.sandbox).not.toBeNull();
    const calls = await request(server.app.callback()).get('/sandbox/control/calls');
    expect(calls.status).toBe(200);
    expect(server.mountedUnderSandbox).toEqual([]);
  });
});
