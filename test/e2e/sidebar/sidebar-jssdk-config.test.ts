import { createHash } from 'node:crypto';
import request from 'supertest';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

interface JssdkConfig {
  corpId: string;
  agentId: string;
  timestamp: number;
  nonceStr: string;
  signature: string;
  agentSignature: string;
}

/** The documented string1, hashed here independently of server/wechat/jssdk-signature.ts. */
const codeOf = (res: request.Response): string | undefined => (res.body as { error?: { code?: string } }).error?.code;

const sha1Of = (ticket: string, c: JssdkConfig, url: string): string =>
  createHash('sha1').update(`jsapi_ticket=${ticket}&noncestr=${c.nonceStr}&timestamp=${c.timestamp}&url=${url}`).digest('hex');

describeEachDatabase('GET /api/sidebar/jssdk-config signs the sidebar page with the shared tickets', (db) => {
  let stack: TestStack;
  let token: string;
  const lines: string[] = [];

  beforeEach(async () => {
    lines.length = 0;
    stack = await startTestStack(db(), { LOG_LEVEL: 'info' }, { logWrite: (line) => lines.push(line) });
    const created = await stack.services.operators.createOperator({
      username: 'rep-li',
      password: 'rep-password-123',
      role: 'sales',
      wecomUserId: 'LiLei',
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username: 'rep-li', password: 'rep-password-123', ip: null });
    if (!login.ok) throw new Error(login.reason);
    token = login.token;
  });
  afterEach(async () => {
    await stack.close();
  });
  jest.setTimeout(60_000);

  const sign = (url: string | null, bearer: string | null = token) => {
    const call = request(stack.app.callback())
      .get('/api/sidebar/jssdk-config')
      .query(url === null ? {} : { url });
    return bearer === null ? call : call.set('authorization', `Bearer ${bearer}`);
  };

  it('answers both signatures, which verify against the tickets the sandbox issued; the # part is not signed', async () => {
    const page = `${stack.config.publicBaseUrl}/sidebar/?entry=contact_profile&x=中文`;
    const res = await sign(`${page}#/tab`).expect(200);
    const config = res.body as JssdkConfig;
    expect(res.headers['cache-control']).toBe('no-store');
    expect(config.corpId).toBe(stack.config.wecom.corpId);
    expect(config.agentId).toBe(stack.config.wecom.agentId);
    expect(Math.abs(config.timestamp - Date.now() / 1000)).toBeLessThan(60);
    expect(config.nonceStr).toMatch(/^[A-Za-z0-9]{16}$/);
    const [corpTicket] = stack.sandbox.state.liveTickets('wecom-jsapi');
    const [agentTicket] = stack.sandbox.state.liveTickets('wecom-agent-config');
    expect(config.signature).toBe(sha1Of(corpTicket, config, page));
    expect(config.agentSignature).toBe(sha1Of(agentTicket, config, page));

    // Logged: what was signed and with which kinds of ticket, never the tickets.
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'sidebar JS-SDK page signed');
    expect(logged).toMatchObject({ url: page, timestamp: config.timestamp, nonceStr: config.nonceStr });
    expect(lines.some((l) => l.includes('# part'))).toBe(true);
    expect(lines.join('\n')).not.toContain(corpTicket);
    expect(lines.join('\n')).not.toContain(agentTicket);
  });

  it('a second call within the tickets’ 7,200 s fetches neither ticket again (the shared store)', async () => {
    const page = `${stack.config.publicBaseUrl}/sidebar/`;
    const first = (await sign(page).expect(200)).body as JssdkConfig;
    stack.clock.advance(60 * 60 * 1000);
    const second = (await sign(page).expect(200)).body as JssdkConfig;
    expect(stack.sandbox.state.callsTo('get_jsapi_ticket')).toHaveLength(1);
    expect(stack.sandbox.state.callsTo('ticket/get')).toHaveLength(1);
    const [corpTicket] = stack.sandbox.state.liveTickets('wecom-jsapi');
    expect(second.signature).toBe(sha1Of(corpTicket, second, page));
    expect(first.nonceStr).not.toBe(second.nonceStr);
  });

  it('401 without a session; 400 sidebar_url_not_ours for another origin or a page outside /sidebar', async () => {
    expect(codeOf(await sign(`${stack.config.publicBaseUrl}/sidebar/`, null).expect(401))).toBe('unauthorized');
    for (const url of [
      'https://evil.example/sidebar/',
      `${stack.config.publicBaseUrl.replace('http:', 'https:')}/sidebar/`,
      `${stack.config.publicBaseUrl}/admin/`,
      `${stack.config.publicBaseUrl}/sidebarx`,
      '/sidebar/',
    ]) {
      const res = await sign(url).expect(400);
      expect(codeOf(res)).toBe('sidebar_url_not_ours');
    }
    expect(codeOf(await sign(null).expect(400))).toBe('bad_request');
    expect(stack.sandbox.state.callsTo('get_jsapi_ticket')).toHaveLength(0);
  });
});
