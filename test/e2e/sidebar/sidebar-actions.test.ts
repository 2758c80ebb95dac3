import request from 'supertest';
import type { OperatorRole } from '../../../entities/operator.entity';
import { toSqlDate } from '../../../server/db/sql';
import { describeEachDatabase } from '../../support/database';
import { drainTasks } from '../../support/leases';
import { startTestStack, type TestStack } from '../../support/test-stack';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 10:00 in Shanghai. */
const T0 = new Date('2026-12-07T02:00:00.000Z');

interface Profile {
  contact: { id: number; phone: string | null };
  tags: { id: number; name: string; group: string }[];
  score: { value: number; mqlThreshold: number; ledger: { points: number; reason: string }[] };
  stage: string;
  source: { code: string | null; channelName: string | null };
  timeline: { items: { kind: string; type?: string; detail?: Record<string, unknown> }[]; after: string };
  events: { eventId: number; eventName: string; status: string; checkedIn: boolean }[];
  surveys: { eventId: number; rating: number }[];
  followUps: { id: number; eventId: number; mine: boolean }[];
  hints: { code: string; params: Record<string, unknown> }[];
}

/**
 * What the sidebar shows of a customer with a real history (a WeCom add, a registration, a
 * check-in, a survey answer, tags, points) and every hint, and what a rep does from it: tags
 * (synced to WeCom through the sandbox), a note, the stage, a follow-up, a share; each audited as
 * `sidebar.*` and on the timeline. SQLite and MariaDB, against the sandbox platform.
 */
describeEachDatabase('sidebar API: the customer story, hints and actions', (db) => {
  let stack: TestStack;
  let admin: string;
  let repA: { token: string; id: number };
  let repB: { token: string; id: number };
  let customer: { contactId: number; externalUserId: string };
  jest.setTimeout(120_000);

  const signIn = async (username: string, role: OperatorRole, wecomUserId: string | null = null) => {
    const created = await stack.services.operators.createOperator({
      username,
      password: `${username}-password`,
      role,
      wecomUserId,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await request(stack.baseUrl)
      .post('/api/admin/login')
      .send({ username, password: `${username}-password` })
      .expect(200);
    return { token: (login.body as { token: string }).token, id: created.operator.id };
  };
  const as = (token: string) => ({
    get: (path: string) => request(stack.baseUrl).get(path).set('authorization', `Bearer ${token}`),
    post: (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${token}`).send(body),
    put: (path: string, body: object) => request(stack.baseUrl).put(path).set('authorization', `Bearer ${token}`).send(body),
  });
  const profile = async (token = repA.token) =>
    (await as(token).get(`/api/sidebar/contacts/by-external/${customer.externalUserId}`).expect(200)).body as Profile;
  const audits = async (action: string) =>
    db().dataSource.query<{ operator_id: number | string; target_id: string; detail: unknown }[]>(
      'SELECT operator_id, target_id, detail FROM audit_log WHERE action = ? ORDER BY id',
      [action],
    );
  const settle = async () => {
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
  };

  beforeEach(async () => {
    stack = await startTestStack(db(), { LOG_LEVEL: process.env.SB_LOG ?? 'silent' }, { platformTimeoutMs: 15_000 });
    stack.clock.set(T0);
    admin = (await signIn('ada', 'admin')).token;
    repA = await signIn('rep-a', 'sales', 'rep-a');
    repB = await signIn('rep-b', 'sales', 'rep-b');
    const externalUserId = 'wmStoryCustomer01';
    await stack.player().addExternalContact({ userId: 'rep-a', externalUserId, name: '李总' });
    await settle();
    const [row] = await db().dataSource.query<{ contact_id: number | string }[]>(
      "SELECT contact_id FROM contact_identities WHERE kind = 'external_userid' AND value = ?",
      [externalUserId],
    );
    customer = { contactId: Number(row.contact_id), externalUserId };
  });
  afterEach(async () => {
    await stack.close();
  });

  /** An event from T0+1h to T0+5h the customer registers for with their phone (so it is their registration). */
  const registerForEvent = async () => {
    const eventId = (
      (
        await as(admin)
          .post('/api/admin/events', {
            name: '2026 智能制造展',
            venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号' },
            startsAt: new Date(T0.getTime() + HOUR).toISOString(),
            endsAt: new Date(T0.getTime() + 5 * HOUR).toISOString(),
            capacity: 100,
            registrationDeadline: new Date(T0.getTime() + HOUR).toISOString(),
            fields: [],
            benefit: null,
          })
          .expect(201)
      ).body as { id: number }
    ).id;
    // The customer gave their phone in WeCom: the registration with it lands on them.
    await db().dataSource.query(
      "INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES (?, 'phone', '', '+8613800000009', ?)",
      [customer.contactId, toSqlDate(T0)],
    );
    const registration = (
      await request(stack.baseUrl)
        .post(`/api/events/${eventId}/registrations`)
        .send({ answers: { name: '李总', phone: '13800000009' }, consent: true })
        .expect(201)
    ).body as { registrationId: number; ticket: { token: string } };
    return { eventId, registration };
  };

  it('tells the whole story: registration, check-in, survey, tags, points, and each hint as it becomes true', async () => {
    const { eventId, registration } = await registerForEvent();
    await settle();
    let p = await profile();
    // Masked for a sales rep as on the admin page.
    expect(p.contact.phone).toMatch(/^(\+86)?138\*{4}0009$/);
    expect(p.events).toEqual([expect.objectContaining({ eventId, eventName: '2026 智能制造展', status: 'registered', checkedIn: false })]);
    expect(p.hints).toContainEqual({
      code: 'registered_not_checked_in',
      params: expect.objectContaining({ eventId, phase: 'soon' }) as object,
    });
    expect(p.timeline.items.map((item) => item.type ?? item.kind)).toEqual(
      expect.arrayContaining(['registration', 'add_external_contact']),
    );

    // Started, no check-in yet: still the hint, now "started".
    stack.clock.set(new Date(T0.getTime() + 2 * HOUR));
    expect((await profile()).hints).toContainEqual(
      expect.objectContaining({ code: 'registered_not_checked_in', params: expect.objectContaining({ phase: 'started' }) as object }),
    );
    await as(admin).post(`/api/admin/events/${eventId}/checkins`, { token: registration.ticket.token, gate: 'A' }).expect(200);
    await settle();
    p = await profile();
    expect(p.events[0]).toMatchObject({ checkedIn: true });
    expect(p.hints.map((h) => h.code)).not.toContain('registered_not_checked_in');
    expect(p.timeline.items.map((item) => item.type)).toContain('checkin');

    // The survey after the event, answered unhappy.
    stack.clock.set(new Date(T0.getTime() + 6 * HOUR));
    await as(admin)
      .put(`/api/admin/events/${eventId}/survey`, { title: '满意度调查', satisfactionLabel: '整体满意度', questions: [] })
      .expect(200);
    const survey = await stack.services.surveys.getSurvey(eventId);
    const link = await stack.services.surveys.linkFor(survey?.id ?? 0, eventId, registration.registrationId);
    const token = new URL(link).searchParams.get('t') ?? '';
    expect(await stack.services.surveys.answer({ eventId, token, satisfaction: 2, answers: {} })).toMatchObject({ ok: true });
    await settle();
    p = await profile();
    expect(p.surveys).toEqual([expect.objectContaining({ eventId, rating: 2 })]);
    expect(p.hints).toContainEqual(
      expect.objectContaining({ code: 'survey_unhappy', params: expect.objectContaining({ rating: 2 }) as object }),
    );

    // Points with their reasons, and a crossing of the MQL threshold yesterday.
    await db().dataSource.query(
      'INSERT INTO score_ledger (contact_id, points, reason, rule_id, interaction_id, dedupe_key, created_at) VALUES (?, 60, ?, NULL, NULL, ?, ?), (?, 50, ?, NULL, NULL, ?, ?)',
      [
        customer.contactId,
        '活动签到',
        'test:1',
        toSqlDate(stack.clock.now()),
        customer.contactId,
        '阅读内容',
        'test:2',
        toSqlDate(stack.clock.now()),
      ],
    );
    await db().dataSource.query('UPDATE contacts SET score = 110 WHERE id = ?', [customer.contactId]);
    await db().dataSource.query('INSERT INTO contact_mql_states (contact_id, above, crossings, updated_at) VALUES (?, 1, 1, ?)', [
      customer.contactId,
      toSqlDate(new Date(stack.clock.now().getTime() - DAY)),
    ]);
    p = await profile();
    expect(p.score).toMatchObject({ value: 110, mqlThreshold: 100 });
    // Newest first, after the seeded rule's points for the WeCom add.
    expect(p.score.ledger.map((line) => [line.points, line.reason])).toEqual([
      [50, '阅读内容'],
      [60, '活动签到'],
      [10, expect.stringContaining('add_external_contact') as unknown],
    ]);
    expect(p.hints).toContainEqual(
      expect.objectContaining({ code: 'mql_crossed', params: expect.objectContaining({ threshold: 100 }) as object }),
    );

    // The follow-up assigned to rep A: open on the sidebar, a hint, closed by rep A (not rep B).
    const assigned = await stack.services.eventFollowups.assign({
      eventId,
      contactIds: [customer.contactId],
      operatorId: repA.id,
      actor: { operatorId: null, ip: null },
    });
    expect(assigned.ok).toBe(true);
    p = await profile();
    expect(p.followUps).toEqual([expect.objectContaining({ eventId, mine: true })]);
    expect(p.hints).toContainEqual(expect.objectContaining({ code: 'followup_open' }));
    const followUpId = p.followUps[0].id;
    const refused = await as(repB.token).post(`/api/sidebar/follow-ups/${followUpId}/done`, {}).expect(403);
    expect(refused.body).toMatchObject({ error: { code: 'not_your_customer' } });
    await as(repA.token).post('/api/sidebar/follow-ups/999999/done', {}).expect(404);
    await as(repA.token).post('/api/sidebar/follow-ups/x/done', {}).expect(400);
    expect((await as(repA.token).post(`/api/sidebar/follow-ups/${followUpId}/done`, {}).expect(200)).body).toMatchObject({ state: 'done' });
    p = await profile();
    expect(p.followUps).toEqual([]);
    expect(p.hints.map((h) => h.code)).not.toContain('followup_open');
    expect(p.timeline.items.map((item) => item.type)).toContain('followup_done');
    expect(await audits('sidebar.followup_done')).toEqual([
      expect.objectContaining({ operator_id: expect.anything() as unknown, target_id: String(customer.contactId) }),
    ]);

    // Thirty days after their survey answer with nothing from them: silent; the MQL crossing is old news.
    expect(p.hints.map((h) => h.code)).not.toContain('silent');
    stack.clock.set(new Date(T0.getTime() + 31 * DAY));
    p = await profile();
    expect(p.hints).toContainEqual(expect.objectContaining({ code: 'silent', params: expect.objectContaining({ days: 30 }) as object }));
    expect(p.hints.map((h) => h.code)).not.toContain('mql_crossed');
  });

  it('changes tags (synced to WeCom), writes a note, sets the stage: scoped, audited, on the timeline', async () => {
    const group = (await as(admin).post('/api/admin/tag-groups', { name: '意向', syncWecom: true }).expect(201)).body as { id: number };
    const tag = (await as(admin).post('/api/admin/tags', { groupId: group.id, name: '高意向' }).expect(201)).body as { id: number };
    await drainTasks(stack.services.queue, { handlers: stack.services.tagSync.handlers() });
    const path = `/api/sidebar/contacts/${customer.contactId}`;

    await as(repB.token)
      .post(`${path}/tags`, { add: [tag.id] })
      .expect(403);
    await as(repA.token)
      .post(`${path}/tags`, { add: [999_999] })
      .expect(400);
    await as(repA.token)
      .post(`${path}/tags`, { add: ['x'] })
      .expect(400);
    const tagged = await as(repA.token)
      .post(`${path}/tags`, { add: [tag.id] })
      .expect(200);
    expect((tagged.body as { tags: unknown[] }).tags).toContainEqual({ id: tag.id, group: '意向', name: '高意向' });
    await drainTasks(stack.services.queue, { handlers: stack.services.tagSync.handlers() });
    const marks = stack.sandbox.state.callsTo('externalcontact/mark_tag').map((call) => call.body as Record<string, unknown>);
    expect(marks).toContainEqual(
      expect.objectContaining({ userid: 'rep-a', external_userid: customer.externalUserId, add_tag: [expect.any(String)] as unknown }),
    );
    expect(await audits('sidebar.tags')).toEqual([expect.objectContaining({ target_id: String(customer.contactId) })]);
    expect(await audits('contact.tags')).toEqual([]);
    await as(repA.token)
      .post(`${path}/tags`, { remove: [tag.id] })
      .expect(200);
    await drainTasks(stack.services.queue, { handlers: stack.services.tagSync.handlers() });
    expect(stack.sandbox.state.callsTo('externalcontact/mark_tag').map((call) => call.body as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ external_userid: customer.externalUserId, remove_tag: [expect.any(String)] as unknown }),
    );

    // A note: stored as a sales_note interaction, on the timeline with the rep's name.
    await as(repA.token).post(`${path}/notes`, { text: '' }).expect(400);
    const tooLong = await as(repA.token)
      .post(`${path}/notes`, { text: '好'.repeat(1001) })
      .expect(400);
    expect(tooLong.body).toMatchObject({ error: { details: [{ path: 'text', code: 'note_too_long' }] } });
    await as(repA.token)
      .post(`${path}/notes`, { text: '好'.repeat(1000) })
      .expect(201);
    await as(repB.token).post(`${path}/notes`, { text: '不是我的客户' }).expect(403);
    await as(repA.token).post(`${path}/notes`, { text: '周五回电，关注报价' }).expect(201);
    await settle();
    const p = await profile();
    expect(p.timeline.items.find((item) => item.type === 'sales_note')).toMatchObject({
      kind: 'interaction',
      type: 'sales_note',
      channel: 'wecom',
      direction: 'out',
      detail: { text: '周五回电，关注报价', operatorId: repA.id, operatorName: 'rep-a' },
    });
    expect(
      p.timeline.items.filter((item) => item.kind === 'tag_change' && (item as unknown as { cause: string }).cause === 'manual'),
    ).toHaveLength(2);
    expect(await audits('sidebar.note')).toHaveLength(2);

    // The stage.
    await as(repA.token).put(`${path}/stage`, { stage: 'vip' }).expect(400);
    await as(repB.token).put(`${path}/stage`, { stage: 'retained' }).expect(403);
    expect((await as(repA.token).put(`${path}/stage`, { stage: 'retained' }).expect(200)).body).toEqual({
      stage: 'retained',
      changed: true,
    });
    expect((await as(repA.token).put(`${path}/stage`, { stage: 'retained' }).expect(200)).body).toEqual({
      stage: 'retained',
      changed: false,
    });
    const after = await profile();
    expect(after.stage).toBe('retained');
    expect(after.timeline.items.find((item) => item.kind === 'stage_change')).toMatchObject({ from: 'acquired', to: 'retained' });
    expect(await audits('sidebar.set_stage')).toHaveLength(1);

    // A cookie session writes only with its CSRF header, as on the admin page.
    const login = await request(stack.baseUrl).post('/api/admin/login').send({ username: 'rep-a', password: 'rep-a-password' }).expect(200);
    const cookies = ([] as string[]).concat(login.headers['set-cookie'] ?? []).map((cookie) => cookie.split(';')[0]);
    const csrf = cookies.find((cookie) => cookie.startsWith('fw_csrf='))?.slice('fw_csrf='.length) ?? '';
    const noHeader = await request(stack.baseUrl).post(`${path}/notes`).set('Cookie', cookies.join('; ')).send({ text: 'x' }).expect(403);
    expect(noHeader.body).toMatchObject({ error: { code: 'csrf_failed' } });
    await request(stack.baseUrl)
      .post(`${path}/notes`)
      .set('Cookie', cookies.join('; '))
      .set('X-CSRF-Token', decodeURIComponent(csrf))
      .send({ text: 'x' })
      .expect(201);
    await request(stack.baseUrl)
      .get(`/api/sidebar/contacts/by-external/${customer.externalUserId}`)
      .set('Cookie', cookies.join('; '))
      .expect(200);
  });

  it('offers the card and open invitations as sendChatMessage payloads, and records a share on the timeline', async () => {
    const { eventId } = await registerForEvent();
    const channel = await db().dataSource.query<unknown>(
      "INSERT INTO channels (name, kind, status, scene, event_id, tag_ids, options, created_at, updated_at) VALUES ('展会 H5', 'h5', 'active', NULL, ?, '[]', '{}', ?, ?)",
      [eventId, toSqlDate(T0), toSqlDate(T0)],
    );
    expect(channel).toBeDefined();
    const [{ id: channelId }] = await db().dataSource.query<{ id: number | string }[]>('SELECT id FROM channels WHERE event_id = ?', [
      eventId,
    ]);
    await as(repB.token).get(`/api/sidebar/share-items?contactId=${customer.contactId}`).expect(403);
    await as(repA.token).get('/api/sidebar/share-items?contactId=abc').expect(400);
    const items = (await as(repA.token).get(`/api/sidebar/share-items?contactId=${customer.contactId}`).expect(200)).body as {
      items: { kind: string; eventId: number | null; message: Record<string, Record<string, string>> }[];
    };
    const base = stack.config.publicBaseUrl;
    expect(items.items[0]).toEqual({
      kind: 'card',
      eventId: null,
      title: 'rep-a的名片',
      message: {
        msgtype: 'miniprogram',
        miniprogram: {
          appid: stack.config.miniprogram.appId,
          title: 'rep-a的名片',
          imgUrl: `${base}/sidebar/share-card.png`,
          page: `pages/card/index.html?rep=${repA.id}`,
        },
      },
    });
    expect(items.items[1]).toEqual({
      kind: 'invitation',
      eventId,
      title: '2026 智能制造展',
      message: {
        msgtype: 'news',
        news: {
          link: `${base}/e/${eventId}?ch=${Number(channelId)}`,
          title: '邀请您参加：2026 智能制造展',
          desc: '2026-12-07 11:00 · 国家会展中心',
          imgUrl: `${base}/sidebar/share-event.png`,
        },
      },
    });

    const path = `/api/sidebar/contacts/${customer.contactId}/shares`;
    await as(repA.token).post(path, { kind: 'letter' }).expect(400);
    await as(repA.token).post(path, { kind: 'invitation' }).expect(400);
    await as(repB.token).post(path, { kind: 'card' }).expect(403);
    await as(repA.token).post(path, { kind: 'card' }).expect(201);
    await as(repA.token).post(path, { kind: 'invitation', eventId }).expect(201);
    await settle();
    const shares = (await profile()).timeline.items.filter((item) => item.type === 'sidebar_share');
    expect(shares.map((item) => item.detail)).toEqual([
      expect.objectContaining({
        kind: 'invitation',
        eventId,
        title: '2026 智能制造展',
        link: `${base}/e/${eventId}?ch=${Number(channelId)}`,
      }),
      expect.objectContaining({ kind: 'card', title: 'rep-a的名片', operatorId: repA.id }),
    ]);
    expect(await audits('sidebar.share')).toHaveLength(2);

    // Once the event is over it is no longer offered, nor recorded as shared.
    stack.clock.set(new Date(T0.getTime() + 6 * HOUR));
    const later = (await as(repA.token).get(`/api/sidebar/share-items?contactId=${customer.contactId}`).expect(200)).body as {
      items: { kind: string }[];
    };
    expect(later.items.map((item) => item.kind)).toEqual(['card']);
    expect((await as(repA.token).post(path, { kind: 'invitation', eventId }).expect(404)).body).toMatchObject({
      error: { code: 'event_not_found' },
    });
  });

  it("offers the content centre's live materials as news with their tracked links, and records a share of one", async () => {
    const create = async (body: object) =>
      (await as(admin).post('/api/admin/content', body).expect(201)).body as { id: number; code: string };
    const older = await create({ kind: 'pdf', title: '产品手册' });
    const brochure = await create({ kind: 'article', title: '智能产线白皮书', summary: '十分钟读懂柔性产线', body: '# 白皮书' });
    const archived = await create({ kind: 'article', title: '旧版报价', body: '已过期' });
    await as(admin).post(`/api/admin/content/${archived.id}/archive`, {}).expect(200);

    const base = stack.config.publicBaseUrl;
    const items = (await as(repA.token).get(`/api/sidebar/share-items?contactId=${customer.contactId}`).expect(200)).body as {
      items: { kind: string; materialId?: number; title: string; message: unknown }[];
    };
    // Newest first; the archived one (whose link answers 404) is not offered.
    expect(items.items.filter((item) => item.kind === 'material')).toEqual([
      {
        kind: 'material',
        eventId: null,
        materialId: brochure.id,
        title: '智能产线白皮书',
        message: {
          msgtype: 'news',
          news: {
            link: `${base}/c/${brochure.code}`,
            title: '智能产线白皮书',
            desc: '十分钟读懂柔性产线',
            imgUrl: `${base}/sidebar/share-event.png`,
          },
        },
      },
      {
        kind: 'material',
        eventId: null,
        materialId: older.id,
        title: '产品手册',
        message: { msgtype: 'news', news: expect.objectContaining({ link: `${base}/c/${older.code}`, desc: '' }) as unknown },
      },
    ]);

    const path = `/api/sidebar/contacts/${customer.contactId}/shares`;
    await as(repA.token).post(path, { kind: 'material' }).expect(400);
    await as(repB.token).post(path, { kind: 'material', materialId: brochure.id }).expect(403);
    expect((await as(repA.token).post(path, { kind: 'material', materialId: archived.id }).expect(404)).body).toMatchObject({
      error: { code: 'not_found' },
    });
    await as(repA.token).post(path, { kind: 'material', materialId: brochure.id }).expect(201);
    await settle();
    const shares = (await profile()).timeline.items.filter((item) => item.type === 'sidebar_share');
    expect(shares.map((item) => item.detail)).toEqual([
      expect.objectContaining({
        kind: 'material',
        contentId: brochure.id,
        title: '智能产线白皮书',
        operatorId: repA.id,
        link: `${base}/c/${brochure.code}`,
      }),
    ]);
    const audited = await audits('sidebar.share');
    expect(audited).toHaveLength(1);
    expect(audited[0].target_id).toBe(String(customer.contactId));
  });
});
