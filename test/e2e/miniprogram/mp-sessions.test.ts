import request from 'supertest';
import { openSessionKey } from '../../../server/modules/miniprogram/session-key-cipher';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** JSON columns come back parsed on MySQL and as text on SQLite. */
const json = (value: unknown): unknown => (typeof value === 'string' ? (JSON.parse(value) as unknown) : value);

/**
 * Issue 17 §2-3: the mini-program's login (wx.login → code2Session through the adapter, against
 * the sandbox's jscode2session), its bearer session, the phone number from getPhoneNumber's code,
 * subscribe-message consent, and the per-session rate limit. The session_key stays on the server:
 * encrypted at rest, in no answer and no log line.
 */
describeEachDatabase('mini-program: login and sessions', (db) => {
  let stack: TestStack;
  let lines: string[];

  beforeEach(async () => {
    lines = [];
    stack = await startTestStack(db(), { LOG_LEVEL: 'debug' }, { logWrite: (line) => lines.push(line) });
  });
  afterEach(async () => {
    await stack.close();
  });
  jest.setTimeout(60_000);

  const api = () => request(stack.baseUrl);
  const errorOf = (res: request.Response) => (res.body as ErrorBody).error;
  const login = async (p: { openid?: string; unionid?: string | null } = {}) => {
    const issued = stack.sandbox.state.issueLoginCode(p);
    const res = await api().post('/api/mp/login').send({ code: issued.code });
    return { res, openid: issued.openid, unionid: issued.unionid, token: (res.body as { token: string }).token };
  };
  const as = (token: string) => ({
    get: (p: string) => api().get(p).set('authorization', `Bearer ${token}`),
    post: (p: string, body: object = {}) => api().post(p).set('authorization', `Bearer ${token}`).send(body),
  });
  const contactOf = async (kind: string, value: string): Promise<number | null> => {
    const [row] = await db().dataSource.query<{ contact_id: number | string }[]>(
      'SELECT contact_id FROM contact_identities WHERE kind = ? AND value = ?',
      [kind, value],
    );
    return row ? Number(row.contact_id) : null;
  };
  const interactionsOf = (contactId: number, type: string) =>
    db().dataSource.query<{ channel: string; detail: unknown; direction: string }[]>(
      'SELECT channel, detail, direction FROM interactions WHERE contact_id = ? AND type = ? ORDER BY id',
      [contactId, type],
    );

  it('a new user logs in: a contact by the mini-program openid, a session token, an mp_login interaction; the same user again finds it', async () => {
    const first = await login({ unionid: null });
    expect(first.res.status).toBe(200);
    expect(first.res.body).toEqual({
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as string,
      expiresAt: expect.any(String) as string,
      created: true,
    });
    const contactId = await contactOf('mp_openid', first.openid);
    expect(contactId).not.toBeNull();
    expect(await interactionsOf(contactId ?? 0, 'mp_login')).toEqual([
      expect.objectContaining({ channel: 'mp', direction: 'in', detail: expect.anything() as unknown }),
    ]);
    // Only the token's SHA-256 is kept.
    const [session] = await db().dataSource.query<{ token_hash: string; contact_id: number | string }[]>(
      'SELECT token_hash, contact_id FROM mp_sessions',
    );
    expect(session.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(session.token_hash).not.toContain(first.token);
    expect((await as(first.token).get('/api/mp/me').expect(200)).body).toEqual({ phoneBound: false, staff: null });

    const again = await login({ openid: first.openid, unionid: null });
    expect(again.res.status).toBe(200);
    expect((again.res.body as { created: boolean }).created).toBe(false);
    expect(await contactOf('mp_openid', first.openid)).toBe(contactId);
    expect(await interactionsOf(contactId ?? 0, 'mp_login')).toHaveLength(2);
    // Both sessions work: a second device does not sign the first out.
    await as(first.token).get('/api/mp/me').expect(200);
    await as(again.token).get('/api/mp/me').expect(200);
  });

  it('the unionid links the mini-program user to the same person already known (an Official Account follower)', async () => {
    const unionid = 'oUnion000000000000000000000001';
    const follower = await stack.services.transactor.run(async (m) => {
      const resolved = await stack.services.contacts.resolveContact(m, {
        kind: 'oa_openid',
        appId: stack.config.officialAccount.appId,
        value: 'oFollower1',
      });
      await stack.services.contacts.linkIdentity(m, resolved.contactId, { kind: 'unionid', appId: '', value: unionid });
      return resolved.contactId;
    });
    const { res, openid } = await login({ unionid });
    expect(res.status).toBe(200);
    expect(await contactOf('mp_openid', openid)).toBe(follower);
    expect(await interactionsOf(follower, 'mp_login')).toHaveLength(1);
  });

  it('the session_key is encrypted at rest and never in an answer or a log line', async () => {
    const { res, token } = await login();
    const [row] = await db().dataSource.query<{ session_key: string }[]>('SELECT session_key FROM mp_sessions');
    const [setting] = await db().dataSource.query<{ value: string }[]>(
      "SELECT value FROM settings WHERE name = 'miniprogram.session_key_secret'",
    );
    const sessionKey = openSessionKey(Buffer.from(setting.value, 'base64url'), row.session_key);
    expect(sessionKey).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    const answers = [JSON.stringify(res.body), JSON.stringify((await as(token).get('/api/mp/me')).body)];
    for (const text of [...answers, ...lines, row.session_key]) expect(text).not.toContain(sessionKey);
    // Nor is the wx.login code recorded by the sandbox's call log, as WeChat's secret is not.
    expect(JSON.stringify(stack.sandbox.state.calls.filter((c) => c.api === 'jscode2session'))).toContain('***');
  });

  it("a bad code is a 4xx naming WeChat's errcode; a used code too; a malformed body is 400", async () => {
    const bad = await api().post('/api/mp/login').send({ code: '' });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).code).toBe('bad_request');
    const empty = await api().post('/api/mp/login').set('content-type', 'application/json').send('{"code":');
    expect(empty.status).toBe(400);
    expect(errorOf(empty).code).toBe('bad_json');
    const extra = await api().post('/api/mp/login').send({ code: 'x', sessionKey: 'y' });
    expect(extra.status).toBe(400);

    // The sandbox takes an unknown code as a new user's (the simulator logs in without seeding), so a refusal is injected.
    await request(stack.sandboxUrl).post('/sandbox/control/fail').send({ api: 'jscode2session', errcode: 40029 }).expect(200);
    const invalid = await api().post('/api/mp/login').send({ code: 'never-issued' });
    expect(invalid.status).toBe(400);
    expect(errorOf(invalid)).toMatchObject({ code: 'mp_code_invalid', details: { errcode: 40029 } });

    const { code } = stack.sandbox.state.issueLoginCode();
    await api().post('/api/mp/login').send({ code }).expect(200);
    const used = await api().post('/api/mp/login').send({ code });
    expect(used.status).toBe(400);
    expect(errorOf(used)).toMatchObject({ code: 'mp_code_used', details: { errcode: 40163 } });

    await request(stack.sandboxUrl).post('/sandbox/control/fail').send({ api: 'jscode2session', errcode: -1 }).expect(200);
    const busy = await api().post('/api/mp/login').send({ code: 'another' });
    expect(busy.status).toBe(502);
    expect(errorOf(busy)).toMatchObject({ code: 'platform_refused', details: { errcode: -1 } });
  });

  it('no token, a forged token or an expired session is 401', async () => {
    const none = await api().get('/api/mp/me');
    expect(none.status).toBe(401);
    expect(errorOf(none).code).toBe('mp_session_required');
    const forged = await as('A'.repeat(43)).get('/api/mp/events');
    expect(forged.status).toBe(401);
    expect(errorOf(forged).code).toBe('mp_session_required');
    const { token } = await login();
    await as(token).get('/api/mp/me').expect(200);
    await db().dataSource.query('UPDATE mp_sessions SET expires_at = ?', ['2020-01-01 00:00:00.000']);
    const expired = await as(token).get('/api/mp/me');
    expect(expired.status).toBe(401);
    expect(errorOf(expired).code).toBe('mp_session_expired');
  });

  it('the phone number is exchanged on the server and becomes the contact’s phone; a bad code is 400 with 40029', async () => {
    const { token, openid } = await login();
    const { code } = stack.sandbox.state.issuePhoneCode({ phoneNumber: '13800138000' });
    const res = await as(token).post('/api/mp/phone', { code });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ phone: '+8613800138000', phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: '86' });
    const contactId = await contactOf('mp_openid', openid);
    expect(await contactOf('phone', '+8613800138000')).toBe(contactId);
    const [contact] = await db().dataSource.query<{ phone: string }[]>('SELECT phone FROM contacts WHERE id = ?', [contactId]);
    expect(contact.phone).toBe('+8613800138000');
    expect(await interactionsOf(contactId ?? 0, 'mp_phone')).toHaveLength(1);
    expect((await as(token).get('/api/mp/me').expect(200)).body).toMatchObject({ phoneBound: true });

    const used = await as(token).post('/api/mp/phone', { code });
    expect(used.status).toBe(400);
    expect(errorOf(used)).toMatchObject({ code: 'mp_phone_code_invalid', details: { errcode: 40029 } });
    const malformed = await as(token).post('/api/mp/phone', { phone: '13800138000' });
    expect(malformed.status).toBe(400);
  });

  it('a phone a registration already holds merges that contact with the mini-program user (WeChat verified it)', async () => {
    const earlier = await stack.services.transactor.run(
      async (m) => (await stack.services.contacts.resolveContact(m, { kind: 'phone', appId: '', value: '+8613900139000' })).contactId,
    );
    const { token, openid } = await login();
    const { code } = stack.sandbox.state.issuePhoneCode({ phoneNumber: '13900139000' });
    await as(token).post('/api/mp/phone', { code }).expect(200);
    // The older contact survives, holding both identities; the session follows the merge.
    expect(await contactOf('mp_openid', openid)).toBe(earlier);
    expect((await as(token).get('/api/mp/me').expect(200)).body).toMatchObject({ phoneBound: true });
  });

  it('subscribe-message consent is recorded as grants, once per report key, with an interaction', async () => {
    const { token, openid } = await login();
    const result = { errMsg: 'requestSubscribeMessage:ok', TPL_A: 'accept', TPL_B: 'reject' };
    const first = await as(token).post('/api/mp/subscribe-consent', { result, reportKey: 'report-0001' });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ applied: 2 });
    expect((await as(token).post('/api/mp/subscribe-consent', { result, reportKey: 'report-0001' }).expect(200)).body).toEqual({
      applied: 0,
    });
    const contactId = await contactOf('mp_openid', openid);
    const grants = await db().dataSource.query<{ template_id: string; remaining: number | string }[]>(
      "SELECT template_id, remaining FROM subscribe_consents WHERE contact_id = ? AND channel = 'mp_subscribe' ORDER BY template_id",
      [contactId],
    );
    expect(grants.map((g) => [g.template_id, Number(g.remaining)])).toEqual([
      ['TPL_A', 1],
      ['TPL_B', 0],
    ]);
    const recorded = await interactionsOf(contactId ?? 0, 'mp_subscribe_consent');
    expect(recorded).toHaveLength(1);
    expect(json(recorded[0].detail)).toEqual({ accepted: ['TPL_A'], templateIds: ['TPL_A', 'TPL_B'] });
    expect((await as(token).post('/api/mp/subscribe-consent', { result: 'accept' })).status).toBe(400);
  });

  it('calls past the per-session limit are 429 rate_limited with retryAfterSeconds, in the project’s error shape', async () => {
    await stack.close();
    stack = await startTestStack(db(), { MP_RATE_PER_SESSION: '3' });
    const { token } = await login();
    for (let i = 0; i < 3; i += 1) await as(token).get('/api/mp/me').expect(200);
    const limited = await as(token).get('/api/mp/me');
    expect(limited.status).toBe(429);
    expect(errorOf(limited)).toEqual({
      code: 'rate_limited',
      message: expect.any(String) as string,
      details: { retryAfterSeconds: expect.any(Number) as number },
    });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another session of the same IP has its own budget.
    const other = await login();
    await as(other.token).get('/api/mp/me').expect(200);
  });
});
