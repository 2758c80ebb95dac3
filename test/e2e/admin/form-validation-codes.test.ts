import request from 'supertest';
import { Operator } from '../../../entities/operator.entity';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

/**
 * A refused form names its field and a rule code the page translates (`{path, code, params}`),
 * for the schema's own rules and for those checked later against the database (a taken name, a
 * tag name too long for the platform its group syncs to).
 */
describeEachDatabase('admin API: validation details name the field and the rule', (db) => {
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
  const login = (username: string, password: string) => request(t.server).post('/api/admin/login').send({ username, password });

  it('accepts 张三 as a username, stores one NFKC spelling, and names the rule a username breaks', async () => {
    const created = await as(admin)
      .post('/api/admin/operators', { username: '张三', password: 'zhang-password', role: 'operator' })
      .expect(201);
    expect(created.body).toMatchObject({ username: '张三' });
    // Full-width Latin (what an IME may type) is the plain spelling: one account, found at login too.
    await as(admin).post('/api/admin/operators', { username: 'ｌｉｓｉ', password: 'lisi-password', role: 'operator' }).expect(201);
    expect(await db().dataSource.getRepository(Operator).existsBy({ username: 'lisi' })).toBe(true);
    await login('ｌｉｓｉ', 'lisi-password').expect(200);

    const bad = await as(admin)
      .post('/api/admin/operators', { username: '张 三!', password: 'zhang-password', role: 'operator' })
      .expect(400);
    expect(bad.body).toMatchObject({ error: { code: 'bad_request', details: [{ path: 'username', code: 'username_chars' }] } });
    // Counted in characters: 64 Chinese characters (192 bytes) fit, 65 do not.
    const long = await as(admin)
      .post('/api/admin/operators', { username: '张'.repeat(65), password: 'zhang-password', role: 'operator' })
      .expect(400);
    expect(long.body).toMatchObject({ error: { details: [{ path: 'username', code: 'username_too_long', params: { max: 64 } }] } });
    await as(admin)
      .post('/api/admin/operators', { username: '张'.repeat(64), password: 'zhang-password', role: 'operator' })
      .expect(201);

    const taken = await as(admin).post('/api/admin/operators', { username: '张三', password: 'zhang-password', role: 'sales' }).expect(409);
    expect(taken.body).toMatchObject({ error: { code: 'conflict', details: [{ path: 'username', code: 'username_taken' }] } });
    const short = await as(admin).post('/api/admin/operators', { username: 'wang', password: 'short', role: 'sales' }).expect(400);
    expect(short.body).toMatchObject({
      error: { details: [{ path: 'password', code: 'too_small', params: { minimum: 8, origin: 'string' } }] },
    });
  });

  it('makes an operator an admin created choose their own password at the first login, as a reset does', async () => {
    const created = (
      await as(admin).post('/api/admin/operators', { username: '张三', password: 'admin-chose-it', role: 'operator' }).expect(201)
    ).body as { id: number; mustChangePassword: boolean };
    expect(created.mustChangePassword).toBe(true);

    const first = await login('张三', 'admin-chose-it').expect(200);
    const token = (first.body as { token: string; operator: { mustChangePassword: boolean } }).token;
    expect((first.body as { operator: { mustChangePassword: boolean } }).operator.mustChangePassword).toBe(true);
    const blocked = await as(token).get('/api/admin/contacts').expect(403);
    expect(blocked.body).toMatchObject({ error: { code: 'password_change_required' } });

    const same = await as(token)
      .post('/api/admin/me/password', { currentPassword: 'admin-chose-it', newPassword: 'admin-chose-it' })
      .expect(400);
    expect(same.body).toMatchObject({ error: { details: [{ path: 'newPassword', code: 'password_same' }] } });
    await as(token).post('/api/admin/me/password', { currentPassword: 'admin-chose-it', newPassword: 'zhang-own-secret' }).expect(204);
    await as(token).get('/api/admin/contacts').expect(200);

    // A password an admin sets later on the edit form is a reset too; an admin's own is not.
    await as(admin).patch(`/api/admin/operators/${created.id}`, { password: 'admin-chose-again' }).expect(200);
    expect((await db().dataSource.getRepository(Operator).findOneByOrFail({ id: created.id })).mustChangePassword).toBe(true);
    const root = await db().dataSource.getRepository(Operator).findOneByOrFail({ username: 'root' });
    await as(admin).patch(`/api/admin/operators/${root.id}`, { password: 'root-new-secret' }).expect(200);
    expect((await db().dataSource.getRepository(Operator).findOneByOrFail({ id: root.id })).mustChangePassword).toBe(false);
  });

  it('refuses a tag name longer than a platform its group syncs to allows, naming the platform and the measure', async () => {
    const both = (await as(admin).post('/api/admin/tag-groups', { name: '意向', syncOa: true, syncWecom: true }).expect(201)).body as {
      id: number;
    };
    const wecomOnly = (await as(admin).post('/api/admin/tag-groups', { name: '企微', syncOa: false, syncWecom: true }).expect(201))
      .body as { id: number };
    const local = (await as(admin).post('/api/admin/tag-groups', { name: '本地', syncOa: false, syncWecom: false }).expect(201)).body as {
      id: number;
    };

    // Eleven Chinese characters: 33 bytes, over the Official Account's 30.
    const eleven = '需要发票的大客户采购经理';
    expect(eleven).toHaveLength(12);
    const oa = await as(admin)
      .post('/api/admin/tags', { groupId: both.id, name: eleven.slice(0, 11) })
      .expect(400);
    expect(oa.body).toMatchObject({
      error: {
        code: 'bad_request',
        details: [{ path: 'name', code: 'tag_name_oa_bytes', params: { platform: 'oa', max: 30, actual: 33 } }],
      },
    });
    // Ten are 30 bytes: accepted.
    await as(admin)
      .post('/api/admin/tags', { groupId: both.id, name: eleven.slice(0, 10) })
      .expect(201);

    // WeCom counts characters: 31 Latin letters are refused there, 33 bytes of Chinese are not.
    const wecom = await as(admin)
      .post('/api/admin/tags', { groupId: wecomOnly.id, name: 'a'.repeat(31) })
      .expect(400);
    expect(wecom.body).toMatchObject({
      error: { details: [{ path: 'name', code: 'tag_name_wecom_chars', params: { platform: 'wecom', max: 30, actual: 31 } }] },
    });
    await as(admin)
      .post('/api/admin/tags', { groupId: wecomOnly.id, name: eleven.slice(0, 11) })
      .expect(201);
    // A group that syncs nowhere keeps Flywheel's own 64 characters.
    await as(admin)
      .post('/api/admin/tags', { groupId: local.id, name: 'b'.repeat(40) })
      .expect(201);
    // A group's name goes to WeCom (the Official Account has no groups).
    const group = await as(admin)
      .post('/api/admin/tag-groups', { name: 'g'.repeat(31) })
      .expect(400);
    expect(group.body).toMatchObject({ error: { details: [{ path: 'name', code: 'tag_name_wecom_chars' }] } });
    const taken = await as(admin).post('/api/admin/tag-groups', { name: '意向' }).expect(409);
    expect(taken.body).toMatchObject({ error: { details: [{ path: 'name', code: 'name_taken' }] } });
  });

  it('refuses a rule that would create a tag a platform refuses, naming the tag line', async () => {
    await as(admin).post('/api/admin/tag-groups', { name: '本地', syncOa: false, syncWecom: false }).expect(201);
    const rule = (addTags: { group: string; name: string }[]) => ({
      name: `规则${addTags.length}${addTags[0]?.name.length ?? 0}`,
      interactionType: 'text',
      matchKind: 'keyword_exact',
      matchValue: '你好',
      addTags,
    });
    // A new group syncs to both platforms: eleven Chinese characters are too long for the Official Account.
    const refused = await as(admin)
      .post(
        '/api/admin/tag-rules',
        rule([
          { group: '意向', name: '好' },
          { group: '意向', name: '需要发票的大客户采购经' },
        ]),
      )
      .expect(400);
    expect(refused.body).toMatchObject({
      error: { details: [{ path: 'addTags.1.name', code: 'tag_name_oa_bytes', params: { max: 30, actual: 33 } }] },
    });
    // In a group that syncs nowhere, and with {scene} (known only when it fires), it is the operator's call.
    await as(admin)
      .post('/api/admin/tag-rules', rule([{ group: '本地', name: '需要发票的大客户采购经' }]))
      .expect(201);
    await as(admin)
      .post(
        '/api/admin/tag-rules',
        rule([
          { group: '渠道', name: '{scene}' },
          { group: '渠道', name: '{scene}' },
        ]),
      )
      .expect(201);
  });

  it('refuses a contacts filter whose lowest score is above its highest, and a too-long search, naming the field', async () => {
    const range = await as(admin).get('/api/admin/contacts?minScore=50&maxScore=10').expect(400);
    expect(range.body).toMatchObject({ error: { details: [{ path: 'maxScore', code: 'score_range', params: { min: 50, max: 10 } }] } });
    await as(admin).get('/api/admin/contacts/count?minScore=50&maxScore=10').expect(400);
    await as(admin).get('/api/admin/contacts?minScore=10&maxScore=10').expect(200);
    const long = await as(admin)
      .get(`/api/admin/contacts?q=${encodeURIComponent('张'.repeat(129))}`)
      .expect(400);
    expect(long.body).toMatchObject({ error: { details: [{ path: 'q', code: 'search_too_long', params: { max: 128, actual: 129 } }] } });
    await as(admin)
      .get(`/api/admin/contacts?q=${encodeURIComponent('张'.repeat(128))}`)
      .expect(200);
    const bulk = await as(admin)
      .post('/api/admin/contacts/bulk-tags', { filter: { minScore: 5, maxScore: 1 }, add: [1], remove: [] })
      .expect(400);
    expect(bulk.body).toMatchObject({ error: { details: [{ path: 'filter.maxScore', code: 'score_range' }] } });
  });
});
