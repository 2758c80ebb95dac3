import request from 'supertest';
import { SANDBOX_EVENT_REMINDER_TEMPLATE_ID } from '../../../config/config.schema';
import { describeEachDatabase } from '../../support/database';
import { loginMiniProgram, startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 in Shanghai. */
const DAYTIME = new Date('2026-12-07T02:00:00.000Z');
const HOUR = 3_600_000;

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
interface CloudItem {
  code: string;
  title: string;
  kind: string;
  summary: string | null;
  cover: string | null;
}

/**
 * Issue 17, the mini-program's pages after registration: a material for the content page, the
 * ticket's check-in with its benefit (the after-check-in page), the cloud exhibition (items, the
 * visit, the consult handed to the rep), the survey for the session's contact (the H5 answer's
 * rules and effects), and the subscribe templates from the server's config. One stack: one flow.
 */
describeEachDatabase('mini-program: content, after check-in, cloud exhibition, survey, config', (db) => {
  let stack: TestStack;

  afterEach(async () => {
    await stack.close();
  });
  jest.setTimeout(120_000);

  const api = () => request(stack.baseUrl);
  const as = (token: string) => ({
    get: (p: string) => api().get(p).set('authorization', `Bearer ${token}`),
    post: (p: string, body: object = {}) => api().post(p).set('authorization', `Bearer ${token}`).send(body),
    put: (p: string, body: object) => api().put(p).set('authorization', `Bearer ${token}`).send(body),
  });
  const errorOf = (res: request.Response) => (res.body as ErrorBody).error;
  const operatorToken = async (username: string, role: 'admin' | 'sales'): Promise<string> => {
    const s = stack.services;
    const created = await s.operators.createOperator({
      username,
      password: 'long-enough-password',
      role,
      wecomUserId: role === 'sales' ? `rep_${username}` : null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const session = await s.operators.login({ username, password: 'long-enough-password', ip: '127.0.0.1' });
    if (!session.ok) throw new Error(session.reason);
    return session.token;
  };
  const mpLogin = () => loginMiniProgram(stack);
  const contactOf = async (openid: string): Promise<number> => {
    const [row] = await db().dataSource.query<{ contact_id: number | string }[]>(
      "SELECT contact_id FROM contact_identities WHERE kind = 'mp_openid' AND value = ?",
      [openid],
    );
    return Number(row.contact_id);
  };
  const interactionsOf = (contactId: number, type: string) =>
    db().dataSource.query<{ channel: string; ref_id: string }[]>(
      'SELECT channel, ref_id FROM interactions WHERE contact_id = ? AND type = ? ORDER BY id',
      [contactId, type],
    );

  it('serves the pages after registration: material, check-in benefit, cloud, consult, survey and the reminder template', async () => {
    stack = await startTestStack(db());
    stack.clock.set(DAYTIME);
    const admin = await operatorToken('admin', 'admin');
    await operatorToken('li', 'sales');
    const now = DAYTIME.getTime();
    const created = await as(admin)
      .post('/api/admin/events', {
        name: '2026 智能制造展',
        venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
        startsAt: new Date(now + HOUR).toISOString(),
        endsAt: new Date(now + 8 * HOUR).toISOString(),
        capacity: 100,
        registrationDeadline: new Date(now + HOUR / 2).toISOString(),
        fields: [],
        benefit: { kind: 'gift', description: '定制保温杯' },
      })
      .expect(201);
    const eventId = (created.body as { id: number }).id;
    const guide = (
      await as(admin)
        .post('/api/admin/content', {
          kind: 'article',
          title: '选型指南',
          summary: '简介',
          body: '# 第一章\n\n<script>x</script> **要点**\n\n![图](/c/abc/file)',
        })
        .expect(201)
    ).body as { id: number; code: string };
    const video = (await as(admin).post('/api/admin/content', { kind: 'video', title: '产线演示' }).expect(201)).body as {
      id: number;
      code: string;
    };
    await as(admin)
      .put(`/api/admin/events/${eventId}/cloud`, {
        items: [
          { materialId: guide.id, section: 'materials' },
          { materialId: video.id, section: 'cases' },
        ],
      })
      .expect(200);

    const attendee = await mpLogin();
    const me = as(attendee.token);
    const contactId = await contactOf(attendee.openid);

    // The register page's subscribe templates: the reminder's, from the server's config.
    expect((await me.get('/api/mp/config').expect(200)).body).toEqual({ subscribeTemplateIds: [SANDBOX_EVENT_REMINDER_TEMPLATE_ID] });
    await api().get('/api/mp/config').expect(401);

    // The content page: an article's body rendered (escaped) as the /c/<code> page renders it; a file's URL.
    expect((await me.get(`/api/mp/content/${guide.code}`).expect(200)).body).toEqual({
      code: guide.code,
      title: '选型指南',
      kind: 'article',
      summary: '简介',
      body:
        '<h2>第一章</h2>\n<p>&lt;script&gt;x&lt;/script&gt; <strong>要点</strong></p>\n' +
        `<p><img src="${stack.config.publicBaseUrl}/c/abc/file" alt="图" loading="lazy"></p>`,
      fileUrl: null,
    });
    expect((await me.get(`/api/mp/content/${video.code}`).expect(200)).body).toMatchObject({ kind: 'video', body: null, fileUrl: null });
    expect(errorOf(await me.get('/api/mp/content/nope-nope').expect(404)).code).toBe('not_found');
    expect(errorOf(await me.get('/api/mp/content/bad%20code').expect(404)).code).toBe('not_found');

    // The survey before registering: 403; the cloud is open to anyone with a session.
    expect(errorOf(await me.get(`/api/mp/events/${eventId}/survey`).expect(403)).code).toBe('not_registered');

    // Registered and checked in at the gate: the ticket carries the check-in's benefit and the venue's coordinates.
    const registered = await me
      .post(`/api/mp/events/${eventId}/registrations`, { answers: { name: '张三', phone: '13800138000' }, consent: true })
      .expect(201);
    const ticket = (registered.body as { ticket: { token: string } }).ticket.token;
    stack.clock.set(new Date(now + 2 * HOUR));
    await as(admin).post(`/api/admin/events/${eventId}/checkins`, { token: ticket, gate: '东门' }).expect(200);
    const mine = await me.get(`/api/mp/me/tickets?eventId=${eventId}`).expect(200);
    expect((mine.body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({
        eventId,
        status: 'checked_in',
        venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
        checkedIn: { gate: '东门', at: new Date(now + 2 * HOUR).toISOString(), benefit: { kind: 'gift', description: '定制保温杯' } },
      }),
    ]);
    expect((await me.get('/api/mp/me/tickets?eventId=999999').expect(200)).body).toEqual({ items: [] });
    await me.get('/api/mp/me/tickets?eventId=abc').expect(400);

    // The cloud exhibition: its items by section with their codes (the content page opens them), a visit on the timeline.
    const cloud = await me.get(`/api/mp/events/${eventId}/cloud`).expect(200);
    const sections = (cloud.body as { sections: Record<string, CloudItem[]> }).sections;
    expect(sections).toEqual({
      materials: [{ code: guide.code, title: '选型指南', kind: 'article', summary: '简介', cover: null }],
      products: [],
      cases: [{ code: video.code, title: '产线演示', kind: 'video', summary: null, cover: null }],
    });
    await me.get(`/api/mp/events/${eventId}/cloud`).expect(200);
    expect(await interactionsOf(contactId, 'event_cloud_visit')).toEqual([{ channel: 'mp', ref_id: String(eventId) }]);
    const [visits] = await db().dataSource.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM event_cloud_visits WHERE event_id = ?',
      [eventId],
    );
    expect(Number(visits.n)).toBe(1);
    expect(errorOf(await me.get('/api/mp/events/999999/cloud').expect(404)).code).toBe('event_not_found');

    // The consult: the H5 page's rules, the session's contact handed to the rep.
    const empty = errorOf(await me.post(`/api/mp/events/${eventId}/cloud/consult`, { question: '  ' }).expect(400));
    expect([empty.code, (empty.details as { fields: Record<string, string> }).fields]).toEqual([
      'validation_failed',
      { message: '请填写咨询内容' },
    ]);
    const consulted = await me.post(`/api/mp/events/${eventId}/cloud/consult`, { question: '五轴加工中心的交期？' }).expect(201);
    expect(consulted.body).toEqual({ consultId: expect.any(String) as string, assigned: true });
    expect(await interactionsOf(contactId, 'event_consult')).toEqual([{ channel: 'mp', ref_id: String(eventId) }]);
    const assignments = await db().dataSource.query<{ contact_id: number | string; user_id: string; reason: string }[]>(
      'SELECT contact_id, user_id, reason FROM sales_assignments',
    );
    expect(assignments.map((a) => [Number(a.contact_id), a.user_id, a.reason])).toEqual([[contactId, 'rep_li', `consult:${eventId}`]]);
    await me.post(`/api/mp/events/${eventId}/cloud/consult`, { message: '你好' }).expect(400);

    // The survey: none yet (404), then the operator's; answered once with the H5 answer's checks and effects.
    expect(errorOf(await me.get(`/api/mp/events/${eventId}/survey`).expect(404)).code).toBe('survey_not_found');
    await as(admin)
      .put(`/api/admin/events/${eventId}/survey`, {
        title: '展会满意度调查',
        satisfactionLabel: '您对本次展会的整体满意度',
        questions: [{ key: 'q1', kind: 'single', label: '您从哪里得知本次展会？', required: true, options: ['朋友圈', '海报'] }],
      })
      .expect(200);
    await as(admin)
      .post('/api/admin/tag-rules', {
        name: '满意',
        interactionType: 'survey_answer',
        matchKind: 'satisfaction_at_least',
        matchValue: '4',
        addTags: [{ group: '活动', name: '满意客户' }],
      })
      .expect(201);
    expect((await me.get(`/api/mp/events/${eventId}/survey`).expect(200)).body).toMatchObject({
      eventId,
      eventName: '2026 智能制造展',
      title: '展会满意度调查',
      answered: false,
      questions: [expect.objectContaining({ key: 'q1' })],
    });
    const answer = (answers: object) => me.post(`/api/mp/events/${eventId}/survey/answers`, { answers });
    const invalid = errorOf(await answer({ satisfaction: 6 }).expect(400));
    expect([invalid.code, Object.keys(invalid.details?.fields as object).sort()]).toEqual(['validation_failed', ['q1', 'satisfaction']]);
    expect((await answer({ satisfaction: 5, q1: '海报' }).expect(201)).body).toEqual({ status: 'answered' });
    expect(errorOf(await answer({ satisfaction: 1, q1: '朋友圈' }).expect(409)).code).toBe('already_answered');
    expect((await me.get(`/api/mp/events/${eventId}/survey`).expect(200)).body).toMatchObject({ answered: true });
    expect(await interactionsOf(contactId, 'survey_answer')).toEqual([{ channel: 'mp', ref_id: String(eventId) }]);
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    const tags = await db().dataSource.query<{ name: string }[]>(
      'SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ?',
      [contactId],
    );
    expect(tags.map((t) => t.name)).toContain('满意客户');

    // Someone else, not registered: 403 on the survey and its answers.
    const stranger = as((await mpLogin()).token);
    expect(
      errorOf(await stranger.post(`/api/mp/events/${eventId}/survey/answers`, { answers: { satisfaction: 5 } }).expect(403)).code,
    ).toBe('not_registered');
    expect(errorOf(await stranger.get('/api/mp/events/999999/survey').expect(404)).code).toBe('event_not_found');
  });
});
