import request from 'supertest';
import { ERROR_CODES, FIELD_RULE_CODES, ZOD_ISSUE_CODES } from '../../../server/http/error-codes';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const known = new Set<string>(ERROR_CODES);
const knownRules = new Set<string>([...FIELD_RULE_CODES, ...ZOD_ISSUE_CODES]);

/**
 * The error codes the API really answers with are the listed ones (server/http/error-codes.ts),
 * each of which has a sentence in both locales (test/unit/web/error-codes.test.ts): 400, 401,
 * 404, 409, 413 and 415 bodies, and the rule codes of their details.
 */
describeEachDatabase('admin API errors answer listed codes', (db) => {
  let t: AdminTestApp;
  let token: string;

  beforeEach(async () => {
    t = buildAdminTestApp(db().dataSource);
    token = await t.signIn({ username: 'olga', role: 'operator' });
  });

  const authed = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);

  function expectListed(body: unknown, code: string): void {
    const error = (body as ErrorBody).error;
    expect(error.code).toBe(code);
    expect(known.has(error.code)).toBe(true);
    if (Array.isArray(error.details))
      for (const detail of error.details as { code?: string }[]) expect(knownRules.has(detail.code ?? '')).toBe(true);
  }

  it('answers each refusal with a listed code, and each refused field with a listed rule', async () => {
    const server = t.server;
    expectListed((await request(server).get('/api/admin/tag-groups').expect(401)).body, 'unauthorized');
    expectListed((await authed(request(server).get('/api/admin/no-such-route')).expect(404)).body, 'not_found');
    expectListed((await authed(request(server).get('/api/admin/tag-rules/999')).expect(404)).body, 'not_found');
    const group = await authed(request(server).post('/api/admin/tag-groups')).send({ name: '兴趣' }).expect(201);
    expectListed((await authed(request(server).post('/api/admin/tag-groups')).send({ name: '兴趣' }).expect(409)).body, 'conflict');
    await authed(request(server).post('/api/admin/tags'))
      .send({ groupId: (group.body as { id: number }).id, name: '咖啡' })
      .expect(201);
    expectListed(
      (await authed(request(server).delete(`/api/admin/tag-groups/${(group.body as { id: number }).id}`)).expect(409)).body,
      'group_not_empty',
    );
    const invalidRule = { name: '', interactionType: 'text', matchKind: 'keyword_exact', priority: 'high', addTags: [{ group: '兴趣' }] };
    expectListed((await authed(request(server).post('/api/admin/tag-rules')).send(invalidRule).expect(400)).body, 'bad_request');
    const noValue = { name: 'r', interactionType: 'text', matchKind: 'keyword_exact' };
    expectListed((await authed(request(server).post('/api/admin/tag-rules')).send(noValue).expect(400)).body, 'bad_request');
    const json = authed(request(server).post('/api/admin/tag-groups')).set('Content-Type', 'application/json');
    expectListed((await json.send('{"name":').expect(400)).body, 'bad_json');
    const text = authed(request(server).post('/api/admin/tag-groups')).set('Content-Type', 'text/plain');
    expectListed((await text.send('name').expect(415)).body, 'unsupported_media_type');
    const huge = { name: 'x'.repeat(200 * 1024) };
    expectListed((await authed(request(server).post('/api/admin/tag-groups')).send(huge).expect(413)).body, 'payload_too_large');
  });
});
