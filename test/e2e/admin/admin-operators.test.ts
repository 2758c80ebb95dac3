import request from 'supertest';
import { Operator } from '../../../entities/operator.entity';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

describeEachDatabase('admin API: operators and audit log', (db) => {
  let t: AdminTestApp;
  let admin: string;

  beforeEach(async () => {
    t = buildAdminTestApp(db().dataSource);
    admin = await t.signIn({ username: 'root', role: 'admin' });
  });

  const as = (token: string) => ({
    get: (path: string) => request(t.server).get(path).set('Authorization', `Bearer ${token}`),
    post: (path: string, body: object) => request(t.server).post(path).set('Authorization', `Bearer ${token}`).send(body),
    patch: (path: string, body: object) => request(t.server).patch(path).set('Authorization', `Bearer ${token}`).send(body),
  });

  it('lets an admin create operators who can then log in; duplicates 409, short passwords 400', async () => {
    const created = await as(admin)
      .post('/api/admin/operators', { username: 'rep1', password: 'long enough', role: 'sales', wecomUserId: 'zhangsan' })
      .expect(201);
    expect(created.body).toMatchObject({ username: 'rep1', role: 'sales', wecomUserId: 'zhangsan', disabled: false });
    // Never the password or its hash (mustChangePassword is the only field that names one).
    expect(Object.keys(created.body as object).filter((key) => /password/i.test(key))).toEqual(['mustChangePassword']);
    expect(JSON.stringify(created.body)).not.toMatch(/long enough|scrypt/i);

    await as(admin).post('/api/admin/operators', { username: 'rep1', password: 'long enough', role: 'sales' }).expect(409);
    const short = await as(admin).post('/api/admin/operators', { username: 'rep2', password: 'short', role: 'sales' }).expect(400);
    expect(short.body).toMatchObject({ error: { code: 'bad_request', details: [{ path: 'password' }] } });
    await as(admin).post('/api/admin/operators', { username: 'rep2', password: 'long enough', role: 'boss' }).expect(400);

    await request(t.server).post('/api/admin/login').send({ username: 'rep1', password: 'long enough' }).expect(200);
    const list = await as(admin).get('/api/admin/operators').expect(200);
    expect((list.body as { items: { username: string }[] }).items.map((o) => o.username)).toEqual(['root', 'rep1']);
  });

  it('keeps operators and sales reps away from operator management and the audit log', async () => {
    const operator = await t.signIn({ username: 'olga', role: 'operator' });
    await as(operator).get('/api/admin/operators').expect(403);
    await as(operator).post('/api/admin/operators', { username: 'x', password: 'long enough', role: 'admin' }).expect(403);
    await as(operator).get('/api/admin/audit-log').expect(403);
  });

  it('audits operator changes and pages the audit log newest first', async () => {
    const created = (await as(admin).post('/api/admin/operators', { username: 'rep1', password: 'long enough', role: 'sales' }).expect(201))
      .body as { id: number };
    await as(admin).patch(`/api/admin/operators/${created.id}`, { role: 'operator', password: 'another secret' }).expect(200);
    const self = (await db().dataSource.getRepository(Operator).findOneByOrFail({ username: 'root' })).id;
    await as(admin).patch(`/api/admin/operators/${self}`, { role: 'sales' }).expect(409);

    const log = (await as(admin).get('/api/admin/audit-log?limit=2').expect(200)).body as {
      items: { action: string; detail: Record<string, unknown> }[];
      nextBefore: number;
    };
    expect(log.items.map((item) => item.action)).toEqual(['operator.update', 'operator.create']);
    expect(log.items[0].detail).toMatchObject({
      changed: ['role'],
      'before.role': 'sales',
      'after.role': 'operator',
      passwordChanged: true,
    });
    expect(JSON.stringify(log.items)).not.toContain('another secret');
    const older = (await as(admin).get(`/api/admin/audit-log?limit=50&before=${log.nextBefore}`).expect(200)).body as {
      items: { action: string }[];
      nextBefore: number | null;
    };
    expect(older.items.map((item) => item.action)).toEqual(['login', 'operator.create']);
    expect(older.nextBefore).toBeNull();
  });
});
