import request from 'supertest';
import { toSqlDate } from '../../../server/db/sql';
import type { OperatorRole } from '../../../entities/operator.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

interface Issue {
  path: string;
  code: string;
}

describeEachDatabase('admin API: segments', (db) => {
  let stack: TestStack;
  let admin: string;
  let tagId: number;

  const signIn = async (username: string, role: OperatorRole, wecomUserId: string | null = null) => {
    const password = `${username}-password-1`;
    const created = await stack.services.operators.createOperator({
      username,
      password,
      role,
      wecomUserId,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username, password, ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    return login.token;
  };
  const api = (token: string) => ({
    get: (path: string) => request(stack.baseUrl).get(path).set('authorization', `Bearer ${token}`),
    post: (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${token}`).send(body),
    put: (path: string, body: object) => request(stack.baseUrl).put(path).set('authorization', `Bearer ${token}`).send(body),
    delete: (path: string) => request(stack.baseUrl).delete(path).set('authorization', `Bearer ${token}`),
  });

  beforeEach(async () => {
    stack = await startTestStack(db());
    admin = await signIn('admin', 'admin');
    const ds = db().dataSource;
    const now = toSqlDate(stack.clock.now());
    const s = stack.services;
    tagId = (await s.transactor.run((m) => s.contactTags.ensureTag(m, { group: '兴趣', name: '咖啡' }))).id;
    for (let i = 1; i <= 5; i += 1) {
      await ds.query('INSERT INTO contacts (id, name, score, stage, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [
        i,
        `客户${i}`,
        i * 10,
        'acquired',
        now,
        now,
      ]);
      if (i % 2 === 1)
        await ds.query('INSERT INTO contact_tags (contact_id, tag_id, source, created_at) VALUES (?, ?, ?, ?)', [i, tagId, 'test', now]);
    }
    await ds.query(
      "INSERT INTO contact_follows (contact_id, user_id, status, created_at, updated_at) VALUES (3, 'rep-1', 'active', ?, ?)",
      [now, now],
    );
  });
  afterEach(async () => {
    await stack.close();
  });

  const coffee = () => ({ kind: 'tags', match: 'any', tagIds: [tagId] });

  it('previews a count, saves a segment with its count, reads, pages its members, edits and deletes it, every change audited', async () => {
    const a = api(admin);
    expect((await a.post('/api/admin/segments/preview', { filter: coffee() }).expect(200)).body).toEqual({ count: 3 });
    const preview = await a
      .post('/api/admin/segments/preview', { filter: { kind: 'and', conditions: [coffee(), { kind: 'score', min: 20 }] } })
      .expect(200);
    expect(preview.body).toEqual({ count: 2 });

    const created = await a.post('/api/admin/segments', { name: '咖啡客', filter: coffee() }).expect(201);
    expect(created.body).toEqual({ id: expect.any(Number) as number, count: 3 });
    const id = (created.body as { id: number }).id;

    const list = await a.get('/api/admin/segments').expect(200);
    expect((list.body as { items: { id: number; name: string; count: number }[] }).items).toEqual([
      expect.objectContaining({ id, name: '咖啡客', count: 3, filter: coffee() }),
    ]);
    expect((await a.get(`/api/admin/segments/${id}`).expect(200)).body).toEqual(expect.objectContaining({ id, count: 3 }));

    const first = await a.get(`/api/admin/segments/${id}/members?limit=2`).expect(200);
    const page1 = first.body as { items: { id: number; enteredAt: string }[]; next: number };
    expect(page1.items.map((item) => item.id)).toEqual([5, 3]);
    expect(page1.next).toBe(3);
    const second = await a.get(`/api/admin/segments/${id}/members?limit=2&after=3`).expect(200);
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: 1, name: '客户1', score: 10 })], next: null });

    const edited = await a
      .put(`/api/admin/segments/${id}`, { name: '高分咖啡客', filter: { kind: 'and', conditions: [coffee(), { kind: 'score', min: 30 }] } })
      .expect(200);
    expect(edited.body).toEqual(expect.objectContaining({ id, name: '高分咖啡客', count: 2 }));
    await a.delete(`/api/admin/segments/${id}`).expect(200, { deleted: true, id });
    await a.get(`/api/admin/segments/${id}`).expect(404);

    const audit = await db().dataSource.query<{ action: string; target_id: string }[]>(
      "SELECT action, target_id FROM audit_log WHERE action LIKE 'segment.%' ORDER BY id",
    );
    expect(audit).toEqual([
      { action: 'segment.create', target_id: String(id) },
      { action: 'segment.update', target_id: String(id) },
      { action: 'segment.delete', target_id: String(id) },
    ]);
  });

  it('names the refused field of a filter, and refuses a taken name, an unknown or cyclic segment, and deleting one another reads', async () => {
    const a = api(admin);
    const bad = await a
      .post('/api/admin/segments', {
        name: '',
        filter: {
          kind: 'and',
          conditions: [
            { kind: 'score', min: 5, max: 1 },
            { kind: 'or', conditions: [{ kind: 'did', type: 'text' }] },
          ],
        },
      })
      .expect(400);
    const issues = (bad.body as { error: { code: string; details: Issue[] } }).error;
    expect(issues.code).toBe('bad_request');
    expect(issues.details.map((issue) => [issue.path, issue.code])).toEqual(
      expect.arrayContaining([
        ['name', 'too_small'],
        ['filter.conditions.1.conditions.0.days', 'invalid_type'],
      ]),
    );
    const range = await a.post('/api/admin/segments/preview', { filter: { kind: 'score', min: 5, max: 1 } }).expect(400);
    expect((range.body as { error: { details: Issue[] } }).error.details).toEqual([
      expect.objectContaining({ path: 'filter.max', code: 'score_range' }),
    ]);

    const first = (await a.post('/api/admin/segments', { name: '甲', filter: coffee() }).expect(201)).body as { id: number };
    const taken = await a.post('/api/admin/segments', { name: '甲', filter: coffee() }).expect(409);
    expect((taken.body as { error: { details: Issue[] } }).error.details).toEqual([
      expect.objectContaining({ path: 'name', code: 'name_taken' }),
    ]);
    const unknown = await a.post('/api/admin/segments', { name: '乙', filter: { kind: 'inSegment', segmentId: 999 } }).expect(400);
    expect((unknown.body as { error: { details: Issue[] } }).error.details).toEqual([
      expect.objectContaining({ path: 'filter.segmentId', code: 'segment_unknown' }),
    ]);
    const reader = (await a.post('/api/admin/segments', { name: '乙', filter: { kind: 'inSegment', segmentId: first.id } }).expect(201))
      .body as {
      id: number;
    };
    const cycle = await a
      .put(`/api/admin/segments/${first.id}`, { filter: { kind: 'or', conditions: [{ kind: 'inSegment', segmentId: reader.id }] } })
      .expect(400);
    expect((cycle.body as { error: { details: Issue[] } }).error.details).toEqual([
      expect.objectContaining({ path: 'filter.conditions.0.segmentId', code: 'segment_cycle' }),
    ]);
    const inUse = await a.delete(`/api/admin/segments/${first.id}`).expect(409);
    expect((inUse.body as { error: { details: Issue[] } }).error.details).toEqual([expect.objectContaining({ code: 'segment_in_use' })]);
  });

  it('lets sales reps read, and only the members they follow; never write', async () => {
    const id = ((await api(admin).post('/api/admin/segments', { name: '咖啡客', filter: coffee() }).expect(201)).body as { id: number }).id;
    const rep = api(await signIn('rep', 'sales', 'rep-1'));
    await rep.get('/api/admin/segments').expect(200);
    await rep.get(`/api/admin/segments/${id}`).expect(200);
    const page = await rep.get(`/api/admin/segments/${id}/members`).expect(200);
    expect((page.body as { items: { id: number }[] }).items.map((item) => item.id)).toEqual([3]);
    await rep.post('/api/admin/segments/preview', { filter: coffee() }).expect(403);
    await rep.post('/api/admin/segments', { name: '销售的', filter: coffee() }).expect(403);
    await rep.put(`/api/admin/segments/${id}`, { name: '改' }).expect(403);
    await rep.delete(`/api/admin/segments/${id}`).expect(403);

    const operator = api(await signIn('marketer', 'operator'));
    await operator.post('/api/admin/segments', { name: '运营的', filter: coffee() }).expect(201);
  });
});
