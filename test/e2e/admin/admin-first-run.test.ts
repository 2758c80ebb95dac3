import { MIN_SCRYPT_N } from '../../../config/config.schema';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { AuditLog } from '../../../entities/audit-log.entity';
import { Operator } from '../../../entities/operator.entity';
import { OperatorSession } from '../../../entities/operator-session.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { runAdminCommand } from '../../../server/cli/admin.cli';
import { composeOperators } from '../../../server/compose';
import { createDataSource } from '../../../server/db/data-source';
import { ensureFirstOperator, type FirstOperatorOutcome } from '../../../server/modules/operators/first-operator';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

const BASE_URL = 'https://crm.example.com';

/** One server instance's start-up: its own DataSource, services, terminal and log. */
interface Instance {
  dataSource: DataSource;
  printed: string[];
  logged: string[];
  start(bootstrapAdmin?: { username: string; password: string } | null): Promise<FirstOperatorOutcome>;
}

function instanceOn(dataSource: DataSource): Instance {
  const printed: string[] = [];
  const logged: string[] = [];
  const { operators } = composeOperators({
    dataSource,
    clock: new ManualClock(),
    logger: createLogger('debug', (line) => logged.push(line)),
    passwordScryptN: MIN_SCRYPT_N,
  });
  return {
    dataSource,
    printed,
    logged,
    start: (bootstrapAdmin = null) =>
      ensureFirstOperator({ operators, bootstrapAdmin, publicBaseUrl: BASE_URL, print: (text) => printed.push(text) }),
  };
}

function passwordIn(printed: string[]): string {
  const match = /Password: +(\S+)/.exec(printed.join(''));
  if (!match) throw new Error(`no password printed: ${printed.join('')}`);
  return match[1];
}

describeEachDatabase('admin: first run, forced password change, reset-password', (db) => {
  let t: AdminTestApp;
  beforeEach(() => {
    t = buildAdminTestApp(db().dataSource);
  });

  const login = (username: string, password: string) => request(t.server).post('/api/admin/login').send({ username, password });

  it('creates `admin` with a generated password printed once with the admin URL, never logged, and not again on the next start', async () => {
    const first = instanceOn(db().dataSource);
    await expect(first.start()).resolves.toBe('generated');
    const password = passwordIn(first.printed);
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(first.printed.join('')).toContain(`${BASE_URL}/admin`);
    expect(first.printed.join('')).toMatch(/Username: +admin\n/);
    expect(first.logged.join('\n')).not.toContain(password);

    const rows = await db().dataSource.getRepository(Operator).find();
    expect(rows.map((o) => [o.username, o.role, o.mustChangePassword])).toEqual([['admin', 'admin', true]]);
    expect(rows[0].passwordHash).not.toContain(password);
    const audit = await db().dataSource.getRepository(AuditLog).findOneByOrFail({ action: 'operator.bootstrap' });
    expect(JSON.stringify(audit)).not.toContain(password);

    const restart = instanceOn(db().dataSource);
    await expect(restart.start()).resolves.toBe('existing');
    expect(restart.printed).toEqual([]);
  });

  it('two instances starting together create one admin, and only the creator prints its password', async () => {
    const second = await createDataSource(db().config, { poolSize: 5 });
    await second.initialize();
    try {
      const a = instanceOn(db().dataSource);
      const b = instanceOn(second);
      const outcomes = await Promise.all([a.start(), b.start()]);
      expect([...outcomes].sort()).toEqual(['existing', 'generated']);
      const creator = outcomes[0] === 'generated' ? a : b;
      const other = creator === a ? b : a;
      expect(other.printed).toEqual([]);
      expect(creator.printed).toHaveLength(1);
      expect(await db().dataSource.getRepository(Operator).count()).toBe(1);
      await login('admin', passwordIn(creator.printed)).expect(200);
    } finally {
      await second.destroy();
    }
  });

  it('ADMIN_USERNAME/ADMIN_PASSWORD create that admin instead, print nothing and force no change', async () => {
    const instance = instanceOn(db().dataSource);
    await expect(instance.start({ username: 'boss', password: 'chosen by me' })).resolves.toBe('configured');
    expect(instance.printed).toEqual([]);
    const res = await login('boss', 'chosen by me').expect(200);
    expect((res.body as { operator: { mustChangePassword: boolean } }).operator.mustChangePassword).toBe(false);
    await request(t.server)
      .get('/api/admin/contacts')
      .set('Authorization', `Bearer ${(res.body as { token: string }).token}`)
      .expect(200);
  });

  it('until the generated password is changed, the session may only see me, log out and change it (cookie or bearer)', async () => {
    const instance = instanceOn(db().dataSource);
    await instance.start();
    const generated = passwordIn(instance.printed);
    const res = await login('admin', generated).expect(200);
    const body = res.body as { token: string; operator: { mustChangePassword: boolean } };
    expect(body.operator.mustChangePassword).toBe(true);
    const bearer = { Authorization: `Bearer ${body.token}` };
    const other = await login('admin', generated).expect(200);
    const otherToken = (other.body as { token: string }).token;

    for (const path of [
      '/api/admin/contacts',
      '/api/admin/config',
      '/api/admin/operators',
      '/api/admin/tag-groups',
      '/api/admin/audit-log',
    ]) {
      const blocked = await request(t.server).get(path).set(bearer).expect(403);
      expect((blocked.body as { error: { code: string } }).error.code).toBe('password_change_required');
    }
    const cookie = await request(t.server).get('/api/admin/contacts').set('Cookie', `fw_session=${body.token}`).expect(403);
    expect(cookie.body).toEqual({
      error: { code: 'password_change_required', message: 'Choose a new password first (POST /api/admin/me/password)' },
    });
    await request(t.server).post('/api/admin/tag-groups').set(bearer).send({ name: 'Nope' }).expect(403);
    const me = await request(t.server).get('/api/admin/me').set(bearer).expect(200);
    expect(me.body).toMatchObject({ username: 'admin', role: 'admin', mustChangePassword: true });

    const change = (currentPassword: string, newPassword: string) =>
      request(t.server).post('/api/admin/me/password').set(bearer).send({ currentPassword, newPassword });
    const wrong = await change('not it', 'my own password').expect(400);
    expect((wrong.body as { error: { code: string } }).error.code).toBe('wrong_password');
    const short = await change(generated, 'short').expect(400);
    expect(short.body).toMatchObject({ error: { code: 'bad_request', details: [{ path: 'newPassword' }] } });
    const same = await change(generated, generated).expect(400);
    expect(same.body).toMatchObject({ error: { code: 'bad_request', details: [{ path: 'newPassword' }] } });
    await request(t.server).get('/api/admin/contacts').set(bearer).expect(403);

    await change(generated, 'my own password').expect(204);
    await request(t.server).get('/api/admin/contacts').set(bearer).expect(200);
    await request(t.server).get('/api/admin/me').set('Authorization', `Bearer ${otherToken}`).expect(401);
    await login('admin', generated).expect(401);
    const fresh = await login('admin', 'my own password').expect(200);
    expect((fresh.body as { operator: { mustChangePassword: boolean } }).operator.mustChangePassword).toBe(false);

    const audit = await db()
      .dataSource.getRepository(AuditLog)
      .find({ where: [{ action: 'operator.change_password' }, { action: 'operator.change_password_failed' }], order: { id: 'ASC' } });
    expect(audit.map((row) => row.action)).toEqual(['operator.change_password_failed', 'operator.change_password']);
    expect(JSON.stringify(audit)).not.toContain('my own password');
  });

  it('a cookie-authenticated password change needs the CSRF token too', async () => {
    await t.operators.createOperator({
      username: 'alice',
      password: 'correct horse',
      role: 'admin',
      actor: { operatorId: null, ip: null },
    });
    const res = await login('alice', 'correct horse').expect(200);
    const token = (res.body as { token: string }).token;
    const changed = await request(t.server)
      .post('/api/admin/me/password')
      .set('Cookie', `fw_session=${token}`)
      .send({ currentPassword: 'correct horse', newPassword: 'battery staple' })
      .expect(403);
    expect((changed.body as { error: { code: string } }).error.code).toBe('csrf_failed');
    await login('alice', 'correct horse').expect(200);
  });

  it('reset-password prints a new one-time password, forces a change, ends every session and is audited without an operator', async () => {
    await t.operators.createOperator({
      username: 'alice',
      password: 'correct horse',
      role: 'admin',
      actor: { operatorId: null, ip: null },
    });
    const before = await login('alice', 'correct horse').expect(200);
    const printed: string[] = [];
    const errors: string[] = [];
    const logged: string[] = [];
    const run = (argv: string[]) =>
      runAdminCommand({
        argv,
        dataSource: db().dataSource,
        clock: t.clock,
        logger: createLogger('debug', (line) => logged.push(line)),
        write: (l) => printed.push(l),
        writeError: (l) => errors.push(l),
        publicBaseUrl: BASE_URL,
        passwordScryptN: MIN_SCRYPT_N,
      });

    await expect(run(['reset-password', 'alice'])).resolves.toBe(0);
    const match = /New one-time password for alice: (\S+)/.exec(printed.join('\n'));
    expect(match).not.toBeNull();
    const password = match?.[1] ?? '';
    expect(printed.join('\n')).toContain(`${BASE_URL}/admin`);
    expect(logged.join('\n')).not.toContain(password);

    await request(t.server)
      .get('/api/admin/me')
      .set('Authorization', `Bearer ${(before.body as { token: string }).token}`)
      .expect(401);
    await login('alice', 'correct horse').expect(401);
    const after = await login('alice', password).expect(200);
    expect((after.body as { operator: { mustChangePassword: boolean } }).operator.mustChangePassword).toBe(true);
    const sessions = await db()
      .dataSource.getRepository(OperatorSession)
      .find({ order: { id: 'ASC' } });
    expect(sessions.map((s) => s.revokedAt !== null)).toEqual([true, false]);
    const audit = await db().dataSource.getRepository(AuditLog).findOneByOrFail({ action: 'operator.reset_password' });
    const alice = await db().dataSource.getRepository(Operator).findOneByOrFail({ username: 'alice' });
    expect(audit).toMatchObject({ operatorId: null, targetType: 'operator', targetId: String(alice.id), detail: { username: 'alice' } });
    expect(JSON.stringify(audit)).not.toContain(password);

    await expect(run(['reset-password', 'nobody'])).resolves.toBe(1);
    expect(errors).toEqual(['no operator named "nobody"']);
    await expect(run(['frobnicate'])).resolves.toBe(2);
  });
});
