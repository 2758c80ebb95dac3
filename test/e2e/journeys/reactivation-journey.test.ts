import request from 'supertest';
import { describeEachDatabase } from '../../support/database';
import { SANDBOX_TEMPLATE_IDS } from '../../../server/adapters/sandbox/sandbox-messages';
import { startTestStack, type TestStack } from '../../support/test-stack';

const DAY = 86_400;

/**
 * THE reactivation journey end to end, in sandbox mode, as instantiated: enroll two sandbox
 * followers, play the sandbox clock forward, one opens the first push and one never opens
 * anything. The outbox sends the template messages and the SMS as the clock plays them; WeCom
 * messages have no sender yet, so after each skip this test marks what is still pending `sent`, as
 * their sender will (nothing here depends on it but the `sent` figures).
 */
describeEachDatabase('the reactivation journey in the sandbox', (db) => {
  let stack: TestStack;
  let token: string;

  beforeEach(async () => {
    stack = await startTestStack(db());
    await stack.services.operators.createOperator({
      username: 'marketer',
      password: 'marketer-password',
      role: 'operator',
      actor: { operatorId: null, ip: null },
    });
    const login = await request(stack.baseUrl)
      .post('/api/admin/login')
      .send({ username: 'marketer', password: 'marketer-password' })
      .expect(200);
    token = (login.body as { token: string }).token;
  });
  afterEach(async () => {
    await stack.close();
  });

  const api = () => ({
    get: (path: string) => request(stack.baseUrl).get(path).set('Authorization', `Bearer ${token}`),
    post: (path: string, body: object = {}) => request(stack.baseUrl).post(path).set('Authorization', `Bearer ${token}`).send(body),
  });
  const skip = async (seconds: number) => {
    const res = await request(stack.sandboxUrl).post('/sandbox/control/clock').send({ advanceSeconds: seconds }).expect(200);
    await stack.services.reactions.idle();
    await db().dataSource.query("UPDATE outbox_messages SET state = 'sent' WHERE state = 'pending' AND channel = 'wecom_group_msg'");
    return res.body as { now: string; ran: string[]; failed: string[]; steps: number; done: Record<string, number> };
  };
  const contactOf = async (openid: string) => {
    const [row]: { contact_id: number }[] = await db().dataSource.query(
      "SELECT contact_id FROM contact_identities WHERE kind = 'oa_openid' AND value = ?",
      [openid],
    );
    return Number(row.contact_id);
  };
  type OutboxRow = { node_id: string; channel: string; payload: string; source_id: string };
  const outboxOf = (contactId: number) =>
    db().dataSource.query<OutboxRow[]>(
      'SELECT node_id, channel, payload, source_id FROM outbox_messages WHERE contact_id = ? ORDER BY id',
      [contactId],
    );
  const tagsOf = async (contactId: number) =>
    (
      await db().dataSource.query<{ name: string }[]>(
        'SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ?',
        [contactId],
      )
    ).map((r) => r.name);

  it('branches on whether the push was opened, hands the silent one over to 登录促活, and counts it all', async () => {
    const templates = await api().get('/api/admin/journey-templates').expect(200);
    expect((templates.body as { items: { key: string }[] }).items.map((t) => t.key)).toContain('reactivation');
    const created = await api().post('/api/admin/journeys', { name: '沉默用户唤醒', template: 'reactivation' }).expect(201);
    const { id } = created.body as { id: number; version: number; status: string };
    expect(created.body).toEqual({ id, version: 1, status: 'draft' });
    expect((await api().post(`/api/admin/journeys/${id}/publish`).expect(200)).body).toEqual({ id, version: 1, status: 'active' });
    const list = (await api().get('/api/admin/journeys').expect(200)).body as { items: { name: string; status: string }[] };
    expect(list.items.find((j) => j.name === '登录促活')?.status).toBe('active');

    const opener = await contactOf((await stack.player().subscribe({})).openid);
    const silent = await contactOf((await stack.player().subscribe({})).openid);
    // The number an operator typed on the silent one: the journey's SMS reaches it.
    await db().dataSource.query('UPDATE contacts SET phone = ? WHERE id = ?', ['13800000042', silent]);
    await stack.services.reactions.idle();
    expect(
      (
        await api()
          .post(`/api/admin/journeys/${id}/enroll`, { contactIds: [opener, silent, 999_999] })
          .expect(200)
      ).body,
    ).toEqual({ enrolled: 2, skipped: 1 });
    // Re-entry policy after_exit: both are inside, so a second enrollment enters nobody.
    expect(
      (
        await api()
          .post(`/api/admin/journeys/${id}/enroll`, { contactIds: [opener, silent] })
          .expect(200)
      ).body,
    ).toEqual({ enrolled: 0, skipped: 2 });

    const first = await skip(60);
    expect(first.failed).toEqual([]);
    expect(first.done['journeys-advance']).toBeGreaterThanOrEqual(2);
    const pushed = await outboxOf(opener);
    expect(pushed.map((o) => [o.node_id, o.channel])).toEqual([['push1', 'oa_template']]);
    const payload = JSON.parse(pushed[0].payload) as { template_id: string; url: string; data: Record<string, { value: string }> };
    expect(payload.template_id).toBe(SANDBOX_TEMPLATE_IDS.reactivationOffer);
    expect(payload.data.thing1.value).toBe('老朋友回归礼');
    expect(payload).not.toHaveProperty('data.first');
    const link = new URL(payload.url);
    expect(link.pathname).toMatch(/^\/r\/[\w-]+\.[\w-]+$/);

    // A forged code (one character of the payload changed) is refused and redirects nowhere.
    const code = link.pathname.slice(3);
    const forged = `${code.slice(0, 5)}${code[5] === 'A' ? 'B' : 'A'}${code.slice(6)}`;
    const refused = await request(stack.baseUrl).get(`/r/${forged}`).redirects(0);
    expect(refused.status).toBe(404);
    expect(refused.headers.location).toBeUndefined();

    // The opener opens it on WeChat, a day later.
    await skip(DAY);
    const opened = await request(stack.baseUrl).get(link.pathname).redirects(0).expect(302);
    expect(opened.headers.location).toBe('https://example.com/offer/welcome-back');
    await stack.services.reactions.idle();
    const clicks: { detail: string; ref_id: string; direction: string }[] = await db().dataSource.query(
      "SELECT detail, ref_id, direction FROM interactions WHERE type = 'link_clicked' AND contact_id = ?",
      [opener],
    );
    expect(clicks).toHaveLength(1);
    expect(clicks[0]).toMatchObject({ ref_id: String(id), direction: 'in' });
    expect(typeof clicks[0].detail === 'string' ? JSON.parse(clicks[0].detail) : clicks[0].detail).toMatchObject({
      nodeId: 'push1',
      target: 'https://example.com/offer/welcome-back',
    });

    // Two weeks, played moment by moment.
    const played = await skip(14 * DAY);
    expect(played.steps).toBeGreaterThanOrEqual(3);
    expect(await tagsOf(opener)).toContain('微信习惯用户');
    expect(await tagsOf(opener)).not.toContain('流失用户');
    expect((await outboxOf(opener)).map((o) => o.node_id)).toEqual(['push1']);
    const [preference]: { channel: string }[] = await db().dataSource.query(
      'SELECT channel FROM contact_channel_preferences WHERE contact_id = ?',
      [opener],
    );
    expect(preference.channel).toBe('oa_template');

    expect(await tagsOf(silent)).toContain('流失用户');
    expect(await tagsOf(silent)).not.toContain('微信习惯用户');
    const silentSends = await outboxOf(silent);
    expect(silentSends.map((o) => [o.node_id, o.channel])).toEqual([
      ['push1', 'oa_template'],
      ['push2', 'oa_template'],
      ['sms', 'sms'],
      ['wecom', 'wecom_group_msg'],
      ['invite', 'oa_template'],
    ]);
    expect(stack.sandbox.sms.accepted).toEqual([
      expect.objectContaining({
        phone: '+8613800000042',
        templateId: 'SMS_REACTIVATION_001',
        // The offer's name, then the tracked link as the template's last variable.
        params: ['老朋友回归礼', expect.stringMatching(/\/r\/[\w-]+\.[\w-]+$/) as string],
      }),
    ]);
    const loginBoost = list.items.find((j) => j.name === '登录促活') as unknown as { id: number };
    expect(silentSends[4].source_id).toBe(String(loginBoost.id));

    const runs: { contact_id: number; state: string; outcome: string }[] = await db().dataSource.query(
      'SELECT contact_id, state, outcome FROM journey_runs WHERE journey_id = ? ORDER BY contact_id',
      [id],
    );
    expect(runs.map((r) => [Number(r.contact_id), r.state, r.outcome])).toEqual([
      [opener, 'exited', 'exit'],
      [silent, 'exited', 'exit'],
    ]);

    const stats = (await api().get(`/api/admin/journeys/${id}/stats`).expect(200)).body as {
      nodes: Record<string, string | number>[];
      totals: Record<string, number>;
    };
    const node = (nodeId: string) => stats.nodes.find((n) => n.id === nodeId);
    expect(node('push1')).toEqual({
      id: 'push1',
      type: 'send',
      entered: 2,
      waiting: 0,
      completed: 2,
      sent: 2,
      delivered: 0,
      opened: 1,
      converted: 0,
      exited: 0,
    });
    expect(node('push2')).toMatchObject({ entered: 1, sent: 1, opened: 0 });
    expect(node('wechat_habit')).toMatchObject({ entered: 1, completed: 1 });
    expect(node('churned')).toMatchObject({ entered: 1, completed: 1 });
    expect(stats.totals).toEqual({ entered: 2, sent: 5, delivered: 0, opened: 1, converted: 0, exited: 2 });

    // After exit, policy after_exit lets them in again.
    expect(
      (
        await api()
          .post(`/api/admin/journeys/${id}/enroll`, { contactIds: [opener] })
          .expect(200)
      ).body,
    ).toEqual({ enrolled: 1, skipped: 0 });
  });

  it('the admin API: definitions refused naming node and field, versions, pause and resume, roles, audit', async () => {
    const bad = await api()
      .post('/api/admin/journeys', {
        name: '坏旅程',
        definition: { entry: { kind: 'manual' }, start: 'a', nodes: [{ id: 'a', type: 'send', channel: 'sms', next: 'ghost' }] },
      })
      .expect(400);
    const details = (bad.body as { error: { details: { path: string; code: string; params?: { node: string } }[] } }).error.details;
    expect(details.map((d) => [d.path, d.code, d.params?.node])).toEqual([
      ['definition.nodes.0.next', 'journey_unknown_node', 'a'],
      ['definition.nodes.0.templateId', 'journey_template_missing', 'a'],
    ]);
    const { id } = (await api().post('/api/admin/journeys', { name: '唤醒', template: 'reactivation' }).expect(201)).body as { id: number };
    await api().post('/api/admin/journeys', { name: '唤醒', template: 'reactivation' }).expect(409);
    await api().post(`/api/admin/journeys/${id}/pause`).expect(409);
    await api()
      .post(`/api/admin/journeys/${id}/enroll`, { contactIds: [1] })
      .expect(409);
    await api().post(`/api/admin/journeys/${id}/publish`).expect(200);
    const one = (await api().get(`/api/admin/journeys/${id}`).expect(200)).body as {
      versions: { version: number; definition: { nodes: { id: string; position?: object }[] } }[];
    };
    expect(one.versions[0].definition.nodes[0]).toMatchObject({ id: 'push1', position: { x: 0, y: 0 } });
    const put = await request(stack.baseUrl)
      .put(`/api/admin/journeys/${id}`)
      .set('Authorization', `Bearer ${token}`)
      .send({ definition: one.versions[0].definition })
      .expect(200);
    expect(put.body).toEqual({ id, version: 2, status: 'active' });
    expect((await api().post(`/api/admin/journeys/${id}/pause`).expect(200)).body).toEqual({ id, version: 1, status: 'paused' });
    expect((await api().post(`/api/admin/journeys/${id}/resume`).expect(200)).body).toEqual({ id, version: 1, status: 'active' });
    await api().get('/api/admin/journeys/99999/stats').expect(404);

    await stack.services.operators.createOperator({
      username: 'rep',
      password: 'rep-password-1',
      role: 'sales',
      actor: { operatorId: null, ip: null },
    });
    const rep = (await request(stack.baseUrl).post('/api/admin/login').send({ username: 'rep', password: 'rep-password-1' }).expect(200))
      .body as { token: string };
    await request(stack.baseUrl).get('/api/admin/journeys').set('Authorization', `Bearer ${rep.token}`).expect(403);

    const audit: { action: string }[] = await db().dataSource.query(
      "SELECT action FROM audit_log WHERE action LIKE 'journey.%' ORDER BY id",
    );
    expect(audit.map((r) => r.action)).toEqual([
      'journey.create',
      'journey.publish',
      'journey.publish',
      'journey.save_version',
      'journey.pause',
      'journey.resume',
    ]);
  });
  it('a contact the daily job tags 沉默用户 enters the active reactivation journey, once', async () => {
    const quiet = (await stack.player().subscribe({ scene: 'expo2026' })).openid;
    await stack.services.reactions.idle();
    const id = await contactOf(quiet);
    // No reactivation journey active yet: the tag alone.
    stack.clock.advance(31 * DAY * 1000);
    expect(await stack.services.silentCustomers.tagSilentContacts()).toBe(1);
    expect(await db().dataSource.query('SELECT id FROM journey_runs')).toEqual([]);

    const created = (await api().post('/api/admin/journeys', { name: '沉默唤醒', template: 'reactivation' }).expect(201)).body as {
      id: number;
    };
    await api().post(`/api/admin/journeys/${created.id}/publish`).expect(200);
    await db().dataSource.query('DELETE FROM contact_tags');
    expect(await stack.services.silentCustomers.tagSilentContacts()).toBe(1);
    const runs: { contact_id: number | string; journey_id: number | string }[] = await db().dataSource.query(
      'SELECT contact_id, journey_id FROM journey_runs',
    );
    expect(runs.map((r) => [Number(r.contact_id), Number(r.journey_id)])).toEqual([[id, created.id]]);
  });
});
