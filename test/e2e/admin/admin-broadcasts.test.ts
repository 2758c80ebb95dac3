import request from 'supertest';
import { SANDBOX_TEMPLATE_IDS } from '../../../server/adapters/sandbox/sandbox-messages';
import { describeEachDatabase } from '../../support/database';
import { countOutboxStates, seedFollowers } from '../../support/outbox-fixtures';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 in Shanghai: outside the default quiet hours. */
const DAYTIME = new Date('2026-12-07T02:00:00.000Z');

const message = {
  channel: 'oa_template',
  templateId: SANDBOX_TEMPLATE_IDS.reactivationOffer,
  data: { thing1: '老朋友回归礼', thing2: '满100减30', time3: '2026年12月31日 23:59', thing4: '点击领取，限时有效' },
  url: 'https://flywheel.example/r/abc123',
};

describeEachDatabase('admin broadcasts API', (db) => {
  let stack: TestStack;
  let token: string;

  beforeEach(async () => {
    // The passes are counted exactly: a send that outlived the stack's 2 s platform timeout on a busy
    // machine would wait for a retry and leave its pass one short (CI saw 39 of 40).
    stack = await startTestStack(db(), { OUTBOX_BATCH_SIZE: '40' }, { platformTimeoutMs: 15_000 });
    stack.clock.set(DAYTIME);
    // The expansion's kicks would send beside the test's own passes: the test drives the sender.
    stack.services.outboxSender.stop();
    for (const [username, role] of [
      ['marketer', 'operator'],
      ['seller', 'sales'],
    ] as const)
      await stack.services.operators.createOperator({
        username,
        password: `${username}-password`,
        role,
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

  const post = (path: string, body: object = {}) => request(stack.baseUrl).post(path).set('Authorization', `Bearer ${token}`).send(body);
  const get = (path: string) => request(stack.baseUrl).get(path).set('Authorization', `Bearer ${token}`);
  const sendPasses = async (passes: number) => {
    for (let i = 0; i < passes; i += 1) await stack.services.outboxSender.sendDue();
  };

  it('counts every outbox state once (confirming too): the figures add up to the total, and a row waiting for a rep keeps it running', async () => {
    const appId = stack.config.officialAccount.appId;
    await seedFollowers({ dataSource: db().dataSource, appId, count: 8, sandbox: stack.sandbox.state });
    const id = (await post('/api/admin/broadcasts', { name: '全状态', segmentId: null, message }).expect(201)).body as { id: number };
    await stack.services.broadcasts.runOnce();
    // One row in each state a channel can leave it in (wecom_group_msg's rows wait `confirming` for the rep).
    const states = ['pending', 'sending', 'confirming', 'sent', 'failed', 'unknown', 'skipped', 'cancelled'];
    const rows = await db().dataSource.query<{ id: number | string }[]>(
      "SELECT id FROM outbox_messages WHERE source_type = 'broadcast' AND source_id = ? ORDER BY id",
      [String(id.id)],
    );
    expect(rows).toHaveLength(states.length);
    for (const [i, state] of states.entries())
      await db().dataSource.query('UPDATE outbox_messages SET state = ?, last_error = ? WHERE id = ?', [
        state,
        state === 'skipped' ? 'not_following' : null,
        Number(rows[i].id),
      ]);

    const progress = (await get(`/api/admin/broadcasts/${id.id}`).expect(200)).body as Record<string, unknown>;
    expect(progress).toMatchObject({
      total: 8,
      queued: 2,
      confirming: 1,
      sent: 1,
      failed: 1,
      unknown: 1,
      skipped: 1,
      cancelled: 1,
      skippedByReason: { not_following: 1 },
    });
    const buckets = ['queued', 'confirming', 'sent', 'failed', 'unknown', 'skipped', 'cancelled'];
    expect(buckets.reduce((sum, k) => sum + Number(progress[k]), 0)).toBe(progress.total);
    const listed = (await get('/api/admin/broadcasts').expect(200)).body as { items: Record<string, unknown>[] };
    expect(listed.items[0]).toMatchObject({ id: id.id, queued: 2, confirming: 1, sent: 1, cancelled: 1 });

    // Nothing queued but a row still with its rep: not done.
    await db().dataSource.query(
      "UPDATE outbox_messages SET state = 'sent' WHERE source_type = 'broadcast' AND source_id = ? AND state IN ('pending', 'sending')",
      [String(id.id)],
    );
    await stack.services.broadcasts.runOnce();
    expect((await get(`/api/admin/broadcasts/${id.id}`)).body).toMatchObject({ status: 'running', queued: 0, confirming: 1 });
    await db().dataSource.query("UPDATE outbox_messages SET state = 'sent' WHERE state = 'confirming'");
    await stack.services.broadcasts.runOnce();
    expect((await get(`/api/admin/broadcasts/${id.id}`)).body).toMatchObject({ status: 'done', confirming: 0, sent: 4 });
  });

  it('creates a broadcast, reports true progress while it runs, pauses and resumes with nobody twice and nobody left out', async () => {
    const appId = stack.config.officialAccount.appId;
    await seedFollowers({ dataSource: db().dataSource, appId, count: 200, sandbox: stack.sandbox.state });
    stack.sandbox.state.unsubscribeFollower('oFW0000000000000000000000007');

    const created = await post('/api/admin/broadcasts', { name: '老朋友回归礼', segmentId: null, message }).expect(201);
    const id = (created.body as { id: number }).id;
    expect(await get(`/api/admin/broadcasts/${id}`).expect(200)).toMatchObject({
      body: { status: 'scheduled', total: 0, queued: 0, sent: 0, failed: 0, skipped: 0 },
    });

    await stack.services.broadcasts.runOnce();
    expect((await get(`/api/admin/broadcasts/${id}`)).body).toMatchObject({ status: 'running', total: 200, queued: 200, sent: 0 });
    await sendPasses(2);
    const midway = (await get(`/api/admin/broadcasts/${id}`)).body as Record<string, number>;
    expect(midway.sent + midway.skipped).toBe(80);
    expect(midway.queued).toBe(120);

    expect((await post(`/api/admin/broadcasts/${id}/pause`).expect(200)).body).toMatchObject({ status: 'paused', queued: 120 });
    await sendPasses(3);
    expect(stack.sandbox.state.messages.accepted.length).toBe(midway.sent);
    await post(`/api/admin/broadcasts/${id}/pause`).expect(409);

    expect((await post(`/api/admin/broadcasts/${id}/resume`).expect(200)).body).toMatchObject({ status: 'running' });
    await stack.services.outboxSender.drain();
    await stack.services.broadcasts.runOnce();
    expect((await get(`/api/admin/broadcasts/${id}`)).body).toMatchObject({
      status: 'done',
      total: 200,
      queued: 0,
      sent: 199,
      failed: 0,
      skipped: 1,
      unknown: 0,
      skippedByReason: { not_following: 1 },
    });
    const perOpenid = stack.sandbox.state.messages.countByOpenid();
    expect(perOpenid.size).toBe(199);
    expect([...perOpenid.values()].every((n) => n === 1)).toBe(true);

    const audit: { action: string }[] = await db().dataSource.query(
      "SELECT action FROM audit_log WHERE action LIKE 'broadcast.%' ORDER BY id",
    );
    expect(audit.map((a) => a.action)).toEqual(['broadcast.create', 'broadcast.pause', 'broadcast.resume']);
  });

  it('45009 halfway: the broadcast waits for the quota to reset and finishes with no duplicates', async () => {
    const appId = stack.config.officialAccount.appId;
    await seedFollowers({ dataSource: db().dataSource, appId, count: 120, sandbox: stack.sandbox.state });
    stack.sandbox.state.messages.setDailyQuota('template/send', 60);
    const { id } = (await post('/api/admin/broadcasts', { name: '配额测试', segmentId: null, message }).expect(201)).body as { id: number };
    await stack.services.broadcasts.runOnce();
    await stack.services.outboxSender.drain();
    expect((await get(`/api/admin/broadcasts/${id}`)).body).toMatchObject({ status: 'running', sent: 60, queued: 60 });
    stack.clock.set(new Date('2026-12-08T01:00:00.000Z'));
    await stack.services.outboxSender.drain();
    await stack.services.broadcasts.runOnce();
    expect((await get(`/api/admin/broadcasts/${id}`)).body).toMatchObject({ status: 'done', sent: 120, queued: 0 });
    expect(stack.sandbox.state.messages.countByOpenid().size).toBe(120);
    expect(stack.sandbox.state.messages.accepted).toHaveLength(120);
  });

  it('a scheduled broadcast waits for its time; cancel stops what was not sent', async () => {
    const appId = stack.config.officialAccount.appId;
    await seedFollowers({ dataSource: db().dataSource, appId, count: 50, sandbox: stack.sandbox.state });
    const sendAt = new Date(DAYTIME.getTime() + 3_600_000).toISOString();
    const { id } = (await post('/api/admin/broadcasts', { name: '晚点发', segmentId: null, message, sendAt }).expect(201)).body as {
      id: number;
    };
    await stack.services.broadcasts.runOnce();
    expect((await get(`/api/admin/broadcasts/${id}`)).body).toMatchObject({ status: 'scheduled', total: 0 });
    stack.clock.advance(3_600_000);
    await stack.services.broadcasts.runOnce();
    await sendPasses(1);
    expect((await post(`/api/admin/broadcasts/${id}/cancel`).expect(200)).body).toMatchObject({
      status: 'cancelled',
      sent: 40,
      cancelled: 10,
      queued: 0,
    });
    await stack.services.outboxSender.drain();
    expect(await countOutboxStates(db().dataSource)).toEqual({ sent: 40, cancelled: 10 });
    await post(`/api/admin/broadcasts/${id}/resume`).expect(409);
  });

  it('refuses a message that breaks the template rules, names the field, and keeps sales out', async () => {
    const bad = await post('/api/admin/broadcasts', {
      name: '坏消息',
      segmentId: null,
      message: { ...message, data: { first: '您好', thing1: '一'.repeat(21) } },
    }).expect(400);
    const details = (bad.body as { error: { details: { path: string; params?: Record<string, unknown> }[] } }).error.details;
    expect(details.map((d) => [d.path, d.params?.rule])).toEqual([
      ['message.data.first', 'field_removed'],
      ['message.data.thing1', 'too_long'],
    ]);
    await get('/api/admin/broadcasts/999').expect(404);
    const seller = await request(stack.baseUrl)
      .post('/api/admin/login')
      .send({ username: 'seller', password: 'seller-password' })
      .expect(200);
    await request(stack.baseUrl)
      .post('/api/admin/broadcasts')
      .set('Authorization', `Bearer ${(seller.body as { token: string }).token}`)
      .send({ name: 'x', segmentId: null, message })
      .expect(403);
  });
});
