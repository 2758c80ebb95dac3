import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import request from 'supertest';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';
import { officialAccountRequest, wecomRequest } from '../../support/wechat-requests';

const TOKEN = 'metrics-token-0123456789';

/** One sample of the exposition: `name{a="x",b="y"} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and these labels (among others); undefined when none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** An address of this machine that is not loopback: a request to it comes from it, and is no loopback client. */
function externalAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    const found = list?.find((a) => !a.internal && a.family === 'IPv4');
    if (found) return found.address;
  }
  throw new Error('this test needs a network interface other than loopback, to send a request that is not from loopback');
}

describeEachDatabase('GET /metrics', (db) => {
  let stack: TestStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  describe('access', () => {
    it('without METRICS_TOKEN: loopback clients get the exposition; a non-loopback client gets 403', async () => {
      stack = await startTestStack(db());
      const local = await request(stack.baseUrl).get('/metrics').expect(200);
      expect(local.get('Content-Type')).toMatch(/^text\/plain; version=0\.0\.4/);

      // The same app on every interface, asked through this machine's external address.
      const server = http.createServer(stack.app.callback());
      await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
      try {
        const port = (server.address() as AddressInfo).port;
        const res = await request(`http://${externalAddress()}:${port}`).get('/metrics').expect(403);
        expect(res.body).toMatchObject({ error: { code: 'metrics_loopback_only' } });
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it.each([
      ['off', {}],
      ['on', { TRUST_PROXY: 'true' }],
    ])(
      'without METRICS_TOKEN, TRUST_PROXY %s: a request through a proxy on loopback gets 403, whatever address it claims',
      async (_, env) => {
        stack = await startTestStack(db(), env);
        for (const [header, value] of [
          ['X-Forwarded-For', '127.0.0.1'],
          ['Forwarded', 'for=127.0.0.1'],
          ['X-Real-IP', '127.0.0.1'],
        ]) {
          await request(stack.baseUrl).get('/metrics').set(header, value).expect(403);
        }
      },
    );

    it('with METRICS_TOKEN: 401 without the bearer or with a wrong one, from loopback too; 200 with it', async () => {
      stack = await startTestStack(db(), { METRICS_TOKEN: TOKEN });
      const none = await request(stack.baseUrl).get('/metrics').expect(401);
      expect(none.get('WWW-Authenticate')).toBe('Bearer realm="metrics"');
      await request(stack.baseUrl).get('/metrics').set('Authorization', `Bearer ${TOKEN}x`).expect(401);
      await request(stack.baseUrl)
        .get('/metrics')
        .set('Authorization', `Bearer ${TOKEN.slice(0, -1)}`)
        .expect(401);
      await request(stack.baseUrl).get('/metrics').set('Authorization', `Basic ${TOKEN}`).expect(401);
      const ok = await request(stack.baseUrl).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
      expect(ok.text).toContain('flywheel_callbacks_total');
    });
  });

  describe('what it counts', () => {
    const scrape = async (s: TestStack) => parseExposition((await request(s.baseUrl).get('/metrics').expect(200)).text);

    it('callbacks by source and answer, the store latency by outcome, token refreshes, login failures, the process defaults', async () => {
      const s = (stack = await startTestStack(db()));
      const app = s.app.callback();
      const message = officialAccountRequest(s.config, {
        ToUserName: 'gh_sandbox',
        FromUserName: 'o_counted',
        CreateTime: Math.floor(Date.now() / 1000),
        MsgType: 'event',
        Event: 'subscribe',
      });
      await request(app).post(message.url).type('text/xml').send(message.body).expect(200);
      await request(app).post(message.url).type('text/xml').send(message.body).expect(200); // WeChat's retry: a duplicate
      const forged = message.url.replace(/signature=[0-9a-f]+/, `signature=${'0'.repeat(40)}`);
      await request(app).post(forged).type('text/xml').send(message.body).expect(401);
      const wecom = wecomRequest(s.config, {
        ToUserName: s.config.wecom.corpId,
        FromUserName: 'sys',
        CreateTime: Math.floor(Date.now() / 1000),
        MsgType: 'event',
        Event: 'change_external_contact',
        ChangeType: 'del_follow_user',
        UserID: 'rep-1',
        ExternalUserID: 'wm-counted',
      });
      await request(app).post(wecom.url).type('text/xml').send(wecom.body).expect(200);
      await request(app).post('/api/admin/login').send({ username: 'nobody', password: 'wrong-password' }).expect(401);
      // The reactions look the new follower up: the Official Account token is fetched once.
      await s.services.reactions.idle();

      const m = await scrape(s);
      expect(valueOf(m, 'flywheel_callbacks_total', { source: 'oa', status: '200' })).toBe(2);
      expect(valueOf(m, 'flywheel_callbacks_total', { source: 'oa', status: '401' })).toBe(1);
      expect(valueOf(m, 'flywheel_callbacks_total', { source: 'wecom', status: '200' })).toBe(1);
      expect(valueOf(m, 'flywheel_callback_store_seconds_count', { outcome: 'stored' })).toBe(2);
      expect(valueOf(m, 'flywheel_callback_store_seconds_count', { outcome: 'duplicate' })).toBe(1);
      expect(valueOf(m, 'flywheel_callback_store_seconds_bucket', { outcome: 'stored', le: '+Inf' })).toBe(2);
      expect(
        valueOf(m, 'flywheel_token_refreshes_total', { key: `oa:${s.config.officialAccount.appId}:access_token`, outcome: 'ok' }),
      ).toBe(1);
      expect(valueOf(m, 'flywheel_login_failures_total', { reason: 'unknown_user' })).toBe(1);
      expect(valueOf(m, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
      expect(valueOf(m, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    });

    it('queue depth and the oldest due row’s age, read from the tables at scrape time; failed reaction attempts', async () => {
      const s = (stack = await startTestStack(db()));
      const now = s.clock.now();
      const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
      for (const [i, runAt] of [ago(600), ago(30), new Date(now.getTime() + 60_000)].entries()) {
        await s.services.queue.enqueue({ kind: 'oa_tag_sync', dedupeKey: `metrics-${i}`, payload: { contactId: i }, runAt });
      }
      await db().dataSource.query(`UPDATE tasks SET status = 'done' WHERE dedupe_key = 'metrics-1'`);
      // A work row whose interaction is missing: its reactions fail, and it is retried later.
      await db()
        .dataSource.getRepository(ReactionWork)
        .insert({
          dedupeKey: 'oa:missing',
          status: 'pending',
          attempts: 0,
          nextAttemptAt: ago(90),
          createdAt: ago(90),
          updatedAt: ago(90),
        });

      let m = await scrape(s);
      expect(valueOf(m, 'flywheel_queue_depth', { queue: 'tasks' })).toBe(2);
      expect(valueOf(m, 'flywheel_queue_oldest_due_age_seconds', { queue: 'tasks' })).toBe(600);
      expect(valueOf(m, 'flywheel_queue_depth', { queue: 'reaction_work' })).toBe(1);
      expect(valueOf(m, 'flywheel_queue_oldest_due_age_seconds', { queue: 'reaction_work' })).toBe(90);
      expect(valueOf(m, 'flywheel_reactions_failed_total', { outcome: 'retried' })).toBeUndefined();

      await s.services.reactions.processDue();
      // The failed row is due again after its backoff (5 s); 8 s later it is 3 s late.
      s.clock.advance(8_000);
      m = await scrape(s);
      expect(valueOf(m, 'flywheel_reactions_failed_total', { outcome: 'retried' })).toBe(1);
      expect(valueOf(m, 'flywheel_queue_depth', { queue: 'reaction_work' })).toBe(1);
      expect(valueOf(m, 'flywheel_queue_oldest_due_age_seconds', { queue: 'reaction_work' })).toBe(3);
      expect(valueOf(m, 'flywheel_queue_oldest_due_age_seconds', { queue: 'tasks' })).toBe(608);
    });
  });
});
