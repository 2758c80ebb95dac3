import request from 'supertest';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';
import { officialAccountRequest } from '../../support/wechat-requests';

interface LogEntry {
  level: string;
  msg: string;
  requestId?: string;
  api?: string;
  status?: number;
  path?: string;
}

/**
 * Every log line of a request carries the id its response header shows, the platform calls it
 * makes included; the reactions a callback kicks run for many callbacks at once and carry none.
 */
describeEachDatabase('request ids in the logs', (db) => {
  let stack: TestStack;
  let lines: string[];
  const entries = () => lines.map((line) => JSON.parse(line) as LogEntry);
  const linesOf = (requestId: string) => entries().filter((e) => e.requestId === requestId);

  beforeEach(async () => {
    lines = [];
    stack = await startTestStack(db(), { LOG_LEVEL: 'debug' }, { logWrite: (line) => lines.push(line) });
  });
  afterEach(async () => {
    await stack.close();
  });

  it('a callback with a bad signature: its refusal is logged under the id the response names', async () => {
    const r = officialAccountRequest(stack.config, {
      ToUserName: 'gh_sandbox',
      FromUserName: 'o_forger',
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'event',
      Event: 'subscribe',
    });
    const forged = r.url.replace(/signature=[0-9a-f]+/, `signature=${'0'.repeat(40)}`);
    const res = await request(stack.app.callback()).post(forged).type('text/xml').send(r.body).expect(401);
    const id = res.get('X-Request-Id') ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(linesOf(id)).toEqual([expect.objectContaining({ level: 'info', msg: 'request', path: '/wechat/callback', status: 401 })]);
    // Nothing about it was logged without the id.
    expect(entries().filter((e) => e.path === '/wechat/callback' && e.requestId !== id)).toEqual([]);
  });

  it('an admin request that calls the platforms: its own lines and the platform calls carry its id (a proxy-given id is kept)', async () => {
    await stack.services.operators.createOperator({
      username: 'ada',
      password: 'ada-password',
      role: 'admin',
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    const login = await stack.services.operators.login({ username: 'ada', password: 'ada-password', ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    lines.length = 0;

    const res = await request(stack.app.callback())
      .post('/api/admin/setup/check')
      .set('Authorization', `Bearer ${login.token}`)
      .set('X-Request-Id', 'proxy-trace-0001')
      .send({})
      .expect(200);
    expect(res.get('X-Request-Id')).toBe('proxy-trace-0001');
    const mine = linesOf('proxy-trace-0001');
    expect(mine.filter((e) => e.msg === 'platform call').length).toBeGreaterThan(0);
    expect(mine.at(-1)).toMatchObject({ msg: 'request', path: '/api/admin/setup/check', status: 200 });
    // Every line written meanwhile belongs to this request.
    expect(entries().filter((e) => e.requestId !== 'proxy-trace-0001')).toEqual([]);
  });

  it('an unusable incoming id is replaced, and the reactions a callback kicks log without its id', async () => {
    const r = officialAccountRequest(stack.config, {
      ToUserName: 'gh_sandbox',
      FromUserName: 'o_follower',
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'event',
      Event: 'subscribe',
    });
    const res = await request(stack.app.callback()).post(r.url).set('X-Request-Id', 'two words').type('text/xml').send(r.body).expect(200);
    const id = res.get('X-Request-Id') ?? '';
    expect(id).not.toBe('two words');
    expect(linesOf(id).at(-1)).toMatchObject({ msg: 'request', status: 200 });
    await stack.services.reactions.idle();
    // The pass looked the follower up (user/info) outside the callback's context.
    const lookups = entries().filter((e) => e.msg === 'platform call' && e.api?.startsWith('user/info'));
    expect(lookups.length).toBeGreaterThan(0);
    expect(lookups.filter((e) => e.requestId !== undefined)).toEqual([]);
  });
});
