import request from 'supertest';
import { AuditLog } from '../../../entities/audit-log.entity';
import { Operator } from '../../../entities/operator.entity';
import { OperatorSession } from '../../../entities/operator-session.entity';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

const MINUTE = 60_000;

describeEachDatabase('admin API: login, sessions, throttling', (db) => {
  let t: AdminTestApp;

  beforeEach(async () => {
    t = buildAdminTestApp(db().dataSource);
    await t.operators.createOperator({
      username: 'alice',
      password: 'correct horse',
      role: 'admin',
      actor: { operatorId: null, ip: null },
    });
  });

  const login = (username: string, password: string) => request(t.server).post('/api/admin/login').send({ username, password });

  it('logs in with the right password and answers a token that works as a bearer', async () => {
    const res = await login('alice', 'correct horse').expect(200);
    const body = res.body as { token: string; expiresAt: string; operator: { id: number } };
    const alice = await db().dataSource.getRepository(Operator).findOneByOrFail({ username: 'alice' });
    expect(body).toEqual({
      token: body.token,
      expiresAt: '2026-11-23T20:00:00.000Z',
      operator: { id: alice.id, username: 'alice', role: 'admin', mustChangePassword: false },
    });
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await request(t.server).get('/api/admin/me').set('Authorization', `Bearer ${body.token}`).expect(200);
    expect(me.body).toMatchObject({ username: 'alice', role: 'admin' });
  });

  it('stores the password as scrypt and only the sha256 of the token', async () => {
    const res = await login('alice', 'correct horse').expect(200);
    const token = (res.body as { token: string }).token;
    const operator = await db().dataSource.getRepository(Operator).findOneByOrFail({ username: 'alice' });
    // The test app hashes at the least cost (MIN_SCRYPT_N, 2^10); production's 2^14 is checked in operators.service.test.ts.
    expect(operator.passwordHash).toMatch(/^scrypt\$1024\$8\$5\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{86}==$/);
    expect(operator.passwordHash).not.toContain('correct horse');
    const [session] = await db().dataSource.getRepository(OperatorSession).find();
    expect(session.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(session.tokenHash).not.toBe(token);
  });

  it('answers 401 invalid_credentials for a wrong password and the same body for an unknown user', async () => {
    const wrong = await login('alice', 'wrong password').expect(401);
    const unknown = await login('nobody', 'whatever').expect(401);
    expect(wrong.body).toEqual({ error: { code: 'invalid_credentials', message: 'Wrong username or password' } });
    expect(unknown.body).toEqual(wrong.body);
  });

  it('audits logins and failures without the password', async () => {
    await login('alice', 'correct horse').expect(200);
    await login('alice', 'hunter2-secret').expect(401);
    await login('mallory', 'hunter3-secret').expect(401);
    const rows = await db()
      .dataSource.getRepository(AuditLog)
      .find({ where: [{ action: 'login' }, { action: 'login_failed' }], order: { id: 'ASC' } });
    expect(rows.map((row) => [row.action, row.detail.reason ?? null])).toEqual([
      ['login', null],
      ['login_failed', 'wrong_password'],
      ['login_failed', 'unknown_user'],
    ]);
    expect(rows.every((row) => row.ip?.includes('127.0.0.1'))).toBe(true);
    expect(JSON.stringify(rows)).not.toMatch(/hunter|correct horse/);
  });

  it('after 5 wrong passwords answers 429 login_throttled with Retry-After, without checking the password, and lets it in after the wait', async () => {
    for (let i = 1; i <= 5; i += 1) await login('alice', `wrong-${i}`).expect(401);
    const throttled = await login('alice', 'correct horse').expect(429);
    expect(throttled.body).toEqual({
      error: {
        code: 'login_throttled',
        message: 'Too many failed logins; wait 1 seconds before trying again',
        details: { retryAfterSeconds: 1 },
      },
    });
    expect(throttled.headers['retry-after']).toBe('1');

    t.clock.advance(1000);
    await login('alice', 'wrong-6').expect(401);
    const longer = await login('alice', 'correct horse').expect(429);
    expect(longer.headers['retry-after']).toBe('2');
    expect((longer.body as { error: { details: unknown } }).error.details).toEqual({ retryAfterSeconds: 2 });

    t.clock.advance(2000);
    await login('alice', 'correct horse').expect(200);
    const rows = await db()
      .dataSource.getRepository(AuditLog)
      .find({ where: { action: 'login_failed' }, order: { id: 'ASC' } });
    expect(rows.map((row) => row.detail.reason)).toEqual([
      ...Array.from({ length: 5 }, () => 'wrong_password'),
      'throttled_account',
      'wrong_password',
      'throttled_account',
    ]);
  });

  it('resets the failure count on success, so only consecutive failures are delayed', async () => {
    for (let i = 0; i < 4; i += 1) await login('alice', 'wrong').expect(401);
    await login('alice', 'correct horse').expect(200);
    for (let i = 0; i < 4; i += 1) await login('alice', 'wrong').expect(401);
    await login('alice', 'correct horse').expect(200);
  });

  it('rejects a missing, malformed, expired or logged-out token with 401 unauthorized', async () => {
    const token = ((await login('alice', 'correct horse').expect(200)).body as { token: string }).token;
    const me = (value?: string) => {
      const req = request(t.server).get('/api/admin/me');
      return value === undefined ? req : req.set('Authorization', value);
    };
    expect((await me().expect(401)).body).toEqual({ error: { code: 'unauthorized', message: 'Authentication required' } });
    await me('Bearer not-a-token').expect(401);
    await me(`Basic ${token}`).expect(401);

    t.clock.advance(12 * 60 * MINUTE - 1);
    await me(`Bearer ${token}`).expect(200);
    t.clock.advance(1);
    await me(`Bearer ${token}`).expect(401);

    const fresh = ((await login('alice', 'correct horse').expect(200)).body as { token: string }).token;
    await request(t.server).post('/api/admin/logout').set('Authorization', `Bearer ${fresh}`).expect(204);
    await me(`Bearer ${fresh}`).expect(401);
  });

  it('answers 400 for a body of the wrong shape, naming the field, and 415 for a form post', async () => {
    const res = await request(t.server).post('/api/admin/login').send({ username: 'alice', password: 42 }).expect(400);
    expect(res.body).toMatchObject({ error: { code: 'bad_request', details: [{ path: 'password' }] } });
    await request(t.server).post('/api/admin/login').type('form').send('username=alice&password=x').expect(415);
    await request(t.server).post('/api/admin/login').set('Content-Type', 'application/json').send('{"username":').expect(400);
  });

  it('refuses a disabled operator with the same 401 and ends their sessions', async () => {
    const token = await t.signIn({ username: 'bob', role: 'operator' });
    const alice = await db().dataSource.getRepository(Operator).findOneByOrFail({ username: 'alice' });
    const bob = await db().dataSource.getRepository(Operator).findOneByOrFail({ username: 'bob' });
    await t.operators.updateOperator({ id: bob.id, disabled: true, actor: { operatorId: alice.id, ip: null } });
    await request(t.server).get('/api/admin/me').set('Authorization', `Bearer ${token}`).expect(401);
    const res = await login('bob', 'bob-password').expect(401);
    expect((res.body as { error: { code: string } }).error.code).toBe('invalid_credentials');
  });
});
