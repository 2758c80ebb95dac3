import request from 'supertest';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** The sidebar's tag picker reads the catalogue: every role may, a sales rep too (the admin's list is for editors). */
describeEachDatabase('sidebar API: the tags a rep may add', (db) => {
  let stack: TestStack;
  const actor = { operatorId: null, ip: null };
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  it('answers the names only, to a sales rep; 401 without a session', async () => {
    const group = await stack.services.tagCatalog.createTagGroup({ name: '意向', syncWecom: true, actor });
    if (!group.ok) throw new Error(group.reason);
    const tag = await stack.services.tagCatalog.createTag({ groupId: group.value.id, name: '高意向', actor });
    if (!tag.ok) throw new Error(tag.reason);
    const created = await stack.services.operators.createOperator({
      username: 'rep-li',
      password: 'rep-li-password-1',
      role: 'sales',
      wecomUserId: 'LiLei',
      actor,
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await request(stack.baseUrl)
      .post('/api/admin/login')
      .send({ username: 'rep-li', password: 'rep-li-password-1' })
      .expect(200);
    const token = (login.body as { token: string }).token;

    await request(stack.baseUrl).get('/api/sidebar/tags').expect(401);
    // The admin's list stays with the roles that edit the catalogue.
    await request(stack.baseUrl).get('/api/admin/tags').set('Authorization', `Bearer ${token}`).expect(403);
    const answer = await request(stack.baseUrl).get('/api/sidebar/tags').set('Authorization', `Bearer ${token}`).expect(200);
    expect(answer.body).toEqual({ items: [{ id: tag.value.id, group: '意向', name: '高意向' }] });
  });
});
