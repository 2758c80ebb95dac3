import request from 'supertest';
import { AuditLog } from '../../../entities/audit-log.entity';
import { ContactStageChange } from '../../../entities/contact-stage-change.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

interface ErrorBody {
  error: { code: string; details?: { path: string; code: string }[] };
}

/** The scoring admin API over HTTP (issue 14 §8): validated, role-checked, audited. */
describeEachDatabase('admin API: score rules, scoring settings, stage rules, a contact’s stage', (db) => {
  let stack: TestStack;
  const tokens: Record<'operator' | 'sales', string> = { operator: '', sales: '' };
  beforeEach(async () => {
    stack = await startTestStack(db());
    for (const role of ['operator', 'sales'] as const) {
      const username = `${role}_user`;
      const password = 'a-password-123';
      const created = await stack.services.operators.createOperator({ username, password, role, actor: { operatorId: null, ip: null } });
      if (!created.ok) throw new Error(`could not create ${username}`);
      const login = await request(stack.baseUrl).post('/api/admin/login').send({ username, password }).expect(200);
      tokens[role] = (login.body as { token: string }).token;
    }
  });
  afterEach(async () => {
    await stack.close();
  });

  const as = (role: 'operator' | 'sales') => ({
    get: (path: string) => request(stack.baseUrl).get(path).set('Authorization', `Bearer ${tokens[role]}`),
    post: (path: string, body: object) => request(stack.baseUrl).post(path).set('Authorization', `Bearer ${tokens[role]}`).send(body),
    patch: (path: string, body: object) => request(stack.baseUrl).patch(path).set('Authorization', `Bearer ${tokens[role]}`).send(body),
    delete: (path: string) => request(stack.baseUrl).delete(path).set('Authorization', `Bearer ${tokens[role]}`),
  });
  const actions = async () => (await db().dataSource.manager.find(AuditLog, { order: { id: 'ASC' } })).map((row) => row.action);

  it('creates, lists, edits and deletes score rules; refuses what a rule cannot mean; 409 on a taken name; all audited', async () => {
    const op = as('operator');
    const created = await op
      .post('/api/admin/score-rules', {
        name: '询价',
        kind: 'behaviour',
        interactionType: 'text',
        matchKind: 'keyword_contains',
        matchValue: '价格',
        points: 5,
        dailyCap: 2,
      })
      .expect(201);
    const id = (created.body as { id: number }).id;
    expect(created.body).toMatchObject({ name: '询价', kind: 'behaviour', dailyCap: 2, attribute: null });
    await op.post('/api/admin/score-rules', { name: '询价', kind: 'attribute', attribute: 'has_phone', points: 1 }).expect(409);
    const refused = (
      await op.post('/api/admin/score-rules', { name: '来源', kind: 'attribute', attribute: 'source_prefix', points: 1 }).expect(400)
    ).body as ErrorBody;
    expect(refused.error.details).toEqual([expect.objectContaining({ path: 'attributeValue', code: 'match_value_required' })]);
    await op.post('/api/admin/score-rules', { name: 'x', kind: 'behaviour', points: 1, dailyCap: 0 }).expect(400);
    await op.patch(`/api/admin/score-rules/${id}`, { points: 9 }).expect(200);
    expect(((await op.get('/api/admin/score-rules').expect(200)).body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ id, points: 9 }),
    ]);
    await op.delete(`/api/admin/score-rules/${id}`).expect(200);
    await op.delete(`/api/admin/score-rules/${id}`).expect(404);
    expect((await actions()).filter((a) => a.startsWith('score_rule.'))).toEqual([
      'score_rule.create',
      'score_rule.update',
      'score_rule.delete',
    ]);
  });

  it('the scoring settings are read and replaced whole, validated and audited', async () => {
    const op = as('operator');
    expect((await op.get('/api/admin/scoring/settings').expect(200)).body).toMatchObject({ mqlThreshold: 100, silentDays: 30 });
    const next = { mqlThreshold: 50, decay: { mode: 'half_life', halfLifeDays: 14, pointsPerIdleWeek: 5 }, silentDays: 21 };
    await op.patch('/api/admin/scoring/settings', next).expect(200);
    expect((await op.get('/api/admin/scoring/settings').expect(200)).body).toEqual(next);
    await op.patch('/api/admin/scoring/settings', { ...next, silentDays: 0 }).expect(400);
    expect(await actions()).toContain('scoring.settings');
  });

  it('stage rules and a contact’s stage: operators only, the stage set back is in the history and the audit log', async () => {
    const op = as('operator');
    const rules = (await op.get('/api/admin/stage-rules').expect(200)).body as { items: { id: number; stage: string }[] };
    expect(rules.items.some((r) => r.stage === 'revenue')).toBe(true);
    const added = (await op.post('/api/admin/stage-rules', { interactionType: 'click', minCount: 3, stage: 'retained' }).expect(201))
      .body as {
      id: number;
    };
    await op.patch(`/api/admin/stage-rules/${added.id}`, { enabled: false }).expect(200);
    await op.delete(`/api/admin/stage-rules/${added.id}`).expect(200);

    const contactId = (
      await stack.services.transactor.run((m) =>
        stack.services.contacts.resolveContact(m, { kind: 'oa_openid', appId: 'wx', value: 'o_stage' }),
      )
    ).contactId;
    await op.post(`/api/admin/contacts/${contactId}/stage`, { stage: 'revenue' }).expect(200);
    await op.post(`/api/admin/contacts/${contactId}/stage`, { stage: 'sideways' }).expect(400);
    await op.post('/api/admin/contacts/999999/stage', { stage: 'revenue' }).expect(404);
    expect(await db().dataSource.manager.find(ContactStageChange, { where: { contactId } })).toMatchObject([
      { fromStage: 'acquired', toStage: 'revenue', actorKind: 'operator' },
    ]);
    expect(await actions()).toEqual(
      expect.arrayContaining(['stage_rule.create', 'stage_rule.update', 'stage_rule.delete', 'contact.set_stage']),
    );

    const sales = as('sales');
    await sales.get('/api/admin/score-rules').expect(403);
    await sales.post(`/api/admin/contacts/${contactId}/stage`, { stage: 'acquired' }).expect(403);
    await sales.patch('/api/admin/scoring/settings', {}).expect(403);
  });
});
