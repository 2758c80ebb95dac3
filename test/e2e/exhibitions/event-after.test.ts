import request from 'supertest';
import { SANDBOX_EVENT_RECAP_TEMPLATE_ID, SANDBOX_SMS_RECAP_TEMPLATE_ID } from '../../../config/config.schema';
import { OutboxMessage } from '../../../entities/outbox-message.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

const HOUR = 3_600_000;
/** 10:00 in Shanghai: daytime, so no push is held for the quiet hours. */
const T0 = new Date('2026-12-07T02:00:00.000Z');

interface Followup {
  contactId: number;
  name: string;
  phone: string | null;
  score: number;
  checkedIn: boolean;
  rep: { operatorId: number; name: string } | null;
  state: 'open' | 'done';
}

/**
 * After the event (issue 15 §5, §6's satisfaction), on SQLite and MariaDB against the sandbox: the
 * recap by attendance, once however often it is posted and never before the end; the survey
 * (validation, forged links, one answer per person, the interaction and a tag rule on it); the
 * survey invitation to the most active attendees (and its dry run); the follow-up list (hottest
 * first, assigned with the rep's WeCom app message, done, a sales rep's own); the report's
 * satisfaction and its CSV.
 */
describeEachDatabase('after the event', (db) => {
  let stack: TestStack;
  let admin: string;

  const login = async (username: string, role: 'admin' | 'sales', wecomUserId: string | null) => {
    const s = stack.services;
    const created = await s.operators.createOperator({
      username,
      password: `${username}-password-1`,
      role,
      wecomUserId,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const session = await s.operators.login({ username, password: `${username}-password-1`, ip: '127.0.0.1' });
    if (!session.ok) throw new Error(session.reason);
    return { token: session.token, id: created.operator.id };
  };

  beforeEach(async () => {
    stack = await startTestStack(db(), {}, { platformTimeoutMs: 15_000 });
    stack.clock.set(T0);
    admin = (await login('admin', 'admin', null)).token;
  });
  afterEach(async () => {
    await stack.close();
  });
  jest.setTimeout(120_000);

  const as = (token: string) => ({
    post: (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${token}`).send(body),
    put: (path: string, body: object) => request(stack.baseUrl).put(path).set('authorization', `Bearer ${token}`).send(body),
    get: (path: string) => request(stack.baseUrl).get(path).set('authorization', `Bearer ${token}`),
  });
  const register = async (eventId: number, phone: string, name: string) =>
    (
      await request(stack.baseUrl)
        .post(`/api/events/${eventId}/registrations`)
        .send({ answers: { name, phone }, consent: true })
        .expect(201)
    ).body as { registrationId: number; ticket: { token: string } };
  const contactOf = async (registrationId: number) =>
    Number(
      (
        await db().dataSource.query<{ contact_id: number | string }[]>('SELECT contact_id FROM event_registrations WHERE id = ?', [
          registrationId,
        ])
      )[0].contact_id,
    );
  const setScore = (contactId: number, score: number) =>
    db().dataSource.query('UPDATE contacts SET score = ? WHERE id = ?', [score, contactId]);
  const outbox = () =>
    db()
      .dataSource.getRepository(OutboxMessage)
      .find({ order: { id: 'ASC' } });

  /** An event from T0+1h to T0+5h; A and B came, C did not, D cancelled. */
  const setUp = async () => {
    const eventId = (
      (
        await as(admin)
          .post('/api/admin/events', {
            name: '2026 智能制造展',
            venue: { address: '上海市青浦区崧泽大道333号' },
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
    const a = await register(eventId, '13800000001', '李雷');
    const b = await register(eventId, '13800000002', '韩梅梅');
    const c = await register(eventId, '13800000003', '王小明');
    const d = await register(eventId, '13800000004', '赵四');
    await request(stack.baseUrl).post(`/api/events/${eventId}/registrations/cancel`).send({ token: d.ticket.token }).expect(200);
    stack.clock.set(new Date(T0.getTime() + 2 * HOUR));
    await as(admin).post(`/api/admin/events/${eventId}/checkins`, { token: a.ticket.token, gate: 'A' }).expect(200);
    await as(admin).post(`/api/admin/events/${eventId}/checkins`, { token: b.ticket.token, gate: 'A' }).expect(200);
    return { eventId, a, b, c, d };
  };
  const survey = {
    title: '展会满意度调查',
    satisfactionLabel: '您对本次展会的整体满意度',
    questions: [
      { key: 'q1', kind: 'single', label: '您从哪里得知本次展会？', required: true, options: ['朋友圈', '海报', '销售邀请'] },
      { key: 'q2', kind: 'multiple', label: '您感兴趣的展区', required: false, options: ['机器人', '传感器', '软件'] },
      { key: 'q3', kind: 'text', label: '其他建议', required: false },
    ],
  };
  const paramsOf = (row: OutboxMessage) => (JSON.parse(row.payload) as { templateId: string; params: string[] }).params;
  const tokenOf = (link: string) => new URL(link).searchParams.get('t') ?? '';

  it('sends the recap by attendance once, after the end only, with the survey link for attendees and the cloud exhibition for absentees', async () => {
    const { eventId, a, b, c } = await setUp();
    const recap = {
      attendee: { title: '感谢您的到来', text: '精彩回顾已上线，请为我们打分' },
      absentee: { title: '错过了展会？', text: '云展厅资料已为您准备好' },
    };
    expect((await as(admin).post(`/api/admin/events/${eventId}/recap`, recap).expect(409)).body).toMatchObject({
      error: { code: 'event_not_ended' },
    });
    await as(admin).put(`/api/admin/events/${eventId}/survey`, survey).expect(200);
    // B follows the Official Account: theirs goes as a template message, the others' as SMS.
    const { openid } = await stack.player().subscribe();
    await stack.services.reactions.idle();
    await db().dataSource.query("UPDATE contact_identities SET contact_id = ? WHERE kind = 'oa_openid' AND value = ?", [
      await contactOf(b.registrationId),
      openid,
    ]);

    stack.clock.set(new Date(T0.getTime() + 6 * HOUR));
    expect((await as(admin).post(`/api/admin/events/${eventId}/recap`, recap).expect(200)).body).toEqual({
      attendees: 2,
      absentees: 1,
      queued: 3,
      skipped: 0,
    });
    // Posted again: every key is there already, nobody gets a second.
    expect((await as(admin).post(`/api/admin/events/${eventId}/recap`, recap).expect(200)).body).toEqual({
      attendees: 2,
      absentees: 1,
      queued: 0,
      skipped: 3,
    });
    const rows = await outbox();
    expect(rows.map((r) => r.dedupeKey).sort()).toEqual(
      [a.registrationId, b.registrationId, c.registrationId].map((id) => `event-recap:${id}`).sort(),
    );
    // Marketing: nobody asked for it, so quiet hours and the frequency cap apply.
    expect(rows.map((r) => r.purpose)).toEqual(['marketing', 'marketing', 'marketing']);
    const byKey = new Map(rows.map((r) => [r.dedupeKey, r]));
    const attendee = byKey.get(`event-recap:${a.registrationId}`)!;
    const absentee = byKey.get(`event-recap:${c.registrationId}`)!;
    expect(attendee.channel).toBe('sms');
    expect(JSON.parse(attendee.payload)).toMatchObject({
      templateId: SANDBOX_SMS_RECAP_TEMPLATE_ID,
      params: ['感谢您的到来', expect.any(String)],
    });
    const attendeeText = paramsOf(attendee)[1];
    expect(attendeeText).toContain('精彩回顾已上线');
    expect(attendeeText).toMatch(new RegExp(`/e/${eventId}/survey\\?t=\\S+$`));
    // The link signs this registration: the survey page opens with it.
    const link = attendeeText.slice(attendeeText.indexOf('http'));
    await request(stack.baseUrl)
      .get(`/api/events/${eventId}/survey`)
      .query({ t: tokenOf(link) })
      .expect(200);
    expect(paramsOf(absentee)[1]).toMatch(new RegExp(`云展厅资料已为您准备好 \\S+/e/${eventId}/cloud$`));

    const follower = byKey.get(`event-recap:${b.registrationId}`)!;
    expect(follower.channel).toBe('oa_template');
    expect(JSON.parse(follower.payload)).toMatchObject({
      template_id: SANDBOX_EVENT_RECAP_TEMPLATE_ID,
      url: expect.stringMatching(new RegExp(`/e/${eventId}/survey\\?t=`)) as string,
      data: { thing1: { value: '2026 智能制造展' }, thing2: { value: '感谢您的到来' }, thing3: { value: '精彩回顾已上线，请为我们打分' } },
    });

    // Through the sandbox: one each, SMS on the recap template, the follower's template message accepted.
    await stack.services.outboxSender.drain();
    const sms = stack.sandbox.sms.accepted.filter((m) => m.templateId === SANDBOX_SMS_RECAP_TEMPLATE_ID);
    expect(sms.map((m) => m.phone).sort()).toEqual(['+8613800000001', '+8613800000003']);
    expect(stack.sandbox.state.messages.accepted.map((m) => [m.openid, m.templateId])).toEqual([[openid, SANDBOX_EVENT_RECAP_TEMPLATE_ID]]);
    const audit = await db().dataSource.query<{ action: string }[]>("SELECT action FROM audit_log WHERE action = 'event.recap_send'");
    expect(audit).toHaveLength(2);
  });

  it('validates the survey and its answers, refuses forged links and second answers, and records the answer for the rules', async () => {
    const { eventId, a, b } = await setUp();
    // The survey's own rules: keys unique, choices need options, at most 10 more questions.
    const bad = await as(admin)
      .put(`/api/admin/events/${eventId}/survey`, { ...survey, questions: [{ key: 'q1', kind: 'single', label: '?', required: true }] })
      .expect(400);
    expect(bad.body).toMatchObject({
      error: { code: 'bad_request', details: [{ path: 'questions.0.options', code: 'survey_questions' }] },
    });
    const eleven = Array.from({ length: 11 }, (_, i) => ({ key: `q${i + 1}`, kind: 'text', label: `问题${i + 1}`, required: false }));
    await as(admin)
      .put(`/api/admin/events/${eventId}/survey`, { ...survey, questions: eleven })
      .expect(400);
    const saved = (await as(admin).put(`/api/admin/events/${eventId}/survey`, survey).expect(200)).body as { id: number };

    // A tag rule on survey answers (the rules act on the interaction).
    await as(admin)
      .post('/api/admin/tag-rules', {
        name: '填写问卷',
        interactionType: 'survey_answer',
        matchKind: 'event_id',
        matchValue: String(eventId),
        addTags: [{ group: '活动', name: '已填问卷' }],
        scorePoints: 15,
      })
      .expect(201);
    // Rules on the rating itself: 2 or less is someone to call, 4 or more someone to ask for a referral.
    await as(admin)
      .post('/api/admin/tag-rules', {
        name: '不满意',
        interactionType: 'survey_answer',
        matchKind: 'satisfaction_at_most',
        matchValue: '2',
        addTags: [{ group: '活动', name: '不满意客户' }],
      })
      .expect(201);
    await as(admin)
      .post('/api/admin/tag-rules', {
        name: '满意',
        interactionType: 'survey_answer',
        matchKind: 'satisfaction_at_least',
        matchValue: '4',
        addTags: [{ group: '活动', name: '满意客户' }],
      })
      .expect(201);
    const notARating = await as(admin)
      .post('/api/admin/tag-rules', {
        name: '不是评分',
        interactionType: 'survey_answer',
        matchKind: 'satisfaction_at_most',
        matchValue: 'low',
        addTags: [{ group: '活动', name: '错误' }],
      })
      .expect(400);
    expect(JSON.stringify(notARating.body)).toContain('match_value_rating');

    // The invitation goes to attendees scoring 10 or more with an interaction since the start: A only.
    await setScore(await contactOf(a.registrationId), 30);
    await setScore(await contactOf(b.registrationId), 5);
    const send = (body: object) => as(admin).post(`/api/admin/events/${eventId}/survey/send`, body);
    expect((await send({ minScore: 10, minInteractions: 1, dryRun: true }).expect(200)).body).toMatchObject({ chosen: 1 });
    expect((await send({ minScore: 0, minInteractions: 1, dryRun: true }).expect(200)).body).toMatchObject({ chosen: 2 });
    expect((await send({ minScore: 10, minInteractions: 2, dryRun: true }).expect(200)).body).toMatchObject({ chosen: 0 });
    expect(await outbox()).toHaveLength(0);
    expect((await send({ minScore: 10, minInteractions: 1 }).expect(200)).body).toEqual({ chosen: 1, queued: 1, skipped: 0 });
    expect((await send({ minScore: 10, minInteractions: 1 }).expect(200)).body).toEqual({ chosen: 1, queued: 0, skipped: 1 });
    const [invitation] = await outbox();
    expect(invitation.dedupeKey).toBe(`event-survey:${a.registrationId}`);
    const text = paramsOf(invitation)[1];
    const token = tokenOf(text.slice(text.indexOf('http')));

    const survey200 = await request(stack.baseUrl).get(`/api/events/${eventId}/survey`).query({ t: token }).expect(200);
    expect(survey200.body).toMatchObject({ eventName: '2026 智能制造展', title: '展会满意度调查', answered: false });
    expect((survey200.body as { questions: unknown[] }).questions).toHaveLength(3);

    const answer = (body: object) => request(stack.baseUrl).post(`/api/events/${eventId}/survey-answers`).send(body);
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect((await answer({ token: forged, answers: { satisfaction: 5, q1: '海报' } }).expect(400)).body).toMatchObject({
      error: { code: 'invalid_survey_token' },
    });
    // Another registration's id with this signature: forged too.
    const [surveyId, registrationId, mac] = token.split('.');
    expect(Number(surveyId)).toBe(saved.id);
    await answer({ token: `${surveyId}.${b.registrationId}.${mac}`, answers: { satisfaction: 5, q1: '海报' } }).expect(400);
    expect(Number(registrationId)).toBe(a.registrationId);
    const invalid = await answer({ token, answers: { satisfaction: 6, q2: ['无人机'], q3: '好'.repeat(501), q9: 'x' } }).expect(400);
    const refusal = (invalid.body as { error: { code: string; details: { fields: object } } }).error;
    expect(refusal.code).toBe('validation_failed');
    expect(Object.keys(refusal.details.fields).sort()).toEqual(['q1', 'q2', 'q3', 'q9', 'satisfaction']);

    await answer({ token, answers: { satisfaction: 2, q1: '海报', q2: ['机器人', '软件'], q3: '  展位太挤  ' } }).expect(201);
    expect((await answer({ token, answers: { satisfaction: 5, q1: '朋友圈' } }).expect(409)).body).toMatchObject({
      error: { code: 'already_answered' },
    });
    expect(
      ((await request(stack.baseUrl).get(`/api/events/${eventId}/survey`).query({ t: token }).expect(200)).body as { answered: boolean })
        .answered,
    ).toBe(true);

    const contactId = await contactOf(a.registrationId);
    const [interaction] = await db().dataSource.query<{ direction: string; ref_type: string; ref_id: string; detail: unknown }[]>(
      "SELECT direction, ref_type, ref_id, detail FROM interactions WHERE type = 'survey_answer' AND contact_id = ?",
      [contactId],
    );
    const detail = (typeof interaction.detail === 'string' ? JSON.parse(interaction.detail) : interaction.detail) as Record<
      string,
      unknown
    >;
    expect(interaction).toMatchObject({ direction: 'in', ref_type: 'event', ref_id: String(eventId) });
    expect(detail).toEqual({ eventId, surveyId: saved.id, satisfaction: 2, answers: ['q1: 海报', 'q2: 机器人、软件', 'q3: 展位太挤'] });
    const [stored] = await db().dataSource.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM survey_answers WHERE contact_id = ?',
      [contactId],
    );
    expect(Number(stored.n)).toBe(1);

    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    const tags = await db().dataSource.query<{ name: string }[]>(
      'SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ?',
      [contactId],
    );
    expect(tags.map((t) => t.name)).toContain('已填问卷');
    // Rated 2: the unhappy customer's tag, not the happy one's.
    expect(tags.map((t) => t.name)).toContain('不满意客户');
    expect(tags.map((t) => t.name)).not.toContain('满意客户');
    // The answer moved the score: 30 before, the rule's 15 points on top.
    const [scored] = await db().dataSource.query<{ score: number | string }[]>('SELECT score FROM contacts WHERE id = ?', [contactId]);
    expect(Number(scored?.score)).toBe(45);

    // The report: one answer of 2, in the JSON and the CSV.
    const report = (await as(admin).get(`/api/admin/events/${eventId}/report`).expect(200)).body as { satisfaction: unknown };
    expect(report.satisfaction).toEqual({ responses: 1, average: 2, distribution: [0, 1, 0, 0, 0] });
    const csv = await as(admin)
      .get(`/api/admin/events/${eventId}/report.csv`)
      .buffer(true)
      .parse((res, cb) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => cb(null, body));
      });
    expect(csv.body as string).toContain('满意度,回答数,平均分,1分,2分,3分,4分,5分\r\n,1,2,0,1,0,0,0\r\n');
  });

  it('reports satisfaction as null without a survey and averages several answers', async () => {
    const { eventId, a, b } = await setUp();
    expect(
      ((await as(admin).get(`/api/admin/events/${eventId}/report`).expect(200)).body as { satisfaction: unknown }).satisfaction,
    ).toBeNull();
    await as(admin)
      .put(`/api/admin/events/${eventId}/survey`, { ...survey, questions: [] })
      .expect(200);
    const saved = await stack.services.surveys.getSurvey(eventId);
    expect(
      ((await as(admin).get(`/api/admin/events/${eventId}/report`).expect(200)).body as { satisfaction: unknown }).satisfaction,
    ).toEqual({
      responses: 0,
      average: null,
      distribution: [0, 0, 0, 0, 0],
    });
    for (const [registration, satisfaction] of [
      [a, 5],
      [b, 4],
    ] as const) {
      const link = await stack.services.surveys.linkFor(saved!.id, eventId, registration.registrationId);
      await request(stack.baseUrl)
        .post(`/api/events/${eventId}/survey-answers`)
        .send({ token: tokenOf(link), answers: { satisfaction } })
        .expect(201);
    }
    expect(
      ((await as(admin).get(`/api/admin/events/${eventId}/report`).expect(200)).body as { satisfaction: unknown }).satisfaction,
    ).toEqual({
      responses: 2,
      average: 4.5,
      distribution: [0, 0, 0, 1, 1],
    });
  });

  it('lists follow-ups hottest first, assigns them with the rep’s WeCom app message, closes them, and shows a sales rep only theirs', async () => {
    const { eventId, a, b, c } = await setUp();
    const [ca, cb, cc] = [await contactOf(a.registrationId), await contactOf(b.registrationId), await contactOf(c.registrationId)];
    await setScore(ca, 50);
    await setScore(cb, 5);
    await setScore(cc, 20);
    const rep = await login('rep_li', 'sales', 'li.lei');
    const other = await login('rep_wang', 'sales', 'wang.fang');

    const list = async (token: string) =>
      (await as(token).get(`/api/admin/events/${eventId}/followups`).expect(200)).body as {
        items: Followup[];
        total: number;
        reps: { operatorId: number; name: string }[];
      };
    const first = await list(admin);
    expect(first.items.map((f) => f.contactId)).toEqual([ca, cc, cb]);
    expect(first.items[0]).toMatchObject({ name: '李雷', phone: '+8613800000001', score: 50, checkedIn: true, rep: null, state: 'open' });
    expect(first.items[1]).toMatchObject({ checkedIn: false });
    expect(first.reps.map((r) => r.operatorId)).toEqual([rep.id, other.id]);
    // Page-limited.
    const page2 = (await as(admin).get(`/api/admin/events/${eventId}/followups?limit=2&page=2`).expect(200)).body as { items: Followup[] };
    expect(page2.items.map((f) => f.contactId)).toEqual([cb]);

    // Only marketers assign, only to a sales rep, only registrants of the event.
    await as(rep.token)
      .post(`/api/admin/events/${eventId}/followups/assign`, { contactIds: [ca], operatorId: rep.id })
      .expect(403);
    await as(admin)
      .post(`/api/admin/events/${eventId}/followups/assign`, { contactIds: [ca], operatorId: 1 })
      .expect(400);
    await as(admin)
      .post(`/api/admin/events/${eventId}/followups/assign`, { contactIds: [999_999], operatorId: rep.id })
      .expect(400);
    expect(
      (
        await as(admin)
          .post(`/api/admin/events/${eventId}/followups/assign`, { contactIds: [ca, cc], operatorId: rep.id })
          .expect(200)
      ).body,
    ).toEqual({ assigned: 2 });
    // Assigning again to the same rep sends no second message.
    await as(admin)
      .post(`/api/admin/events/${eventId}/followups/assign`, { contactIds: [ca], operatorId: rep.id })
      .expect(200);
    await as(admin)
      .post(`/api/admin/events/${eventId}/followups/assign`, { contactIds: [cb], operatorId: other.id })
      .expect(200);
    await stack.services.queue.runOnce({ handlers: stack.services.sales.handlers() });
    const messages = stack.sandbox.state.callsTo('message/send').map((call) => call.body as { touser: string; text: { content: string } });
    expect(messages.map((m) => m.touser).sort()).toEqual(['li.lei', 'li.lei', 'wang.fang']);
    expect(
      messages
        .filter((m) => m.touser === 'li.lei')
        .map((m) => m.text.content)
        .sort(),
    ).toEqual(['新客户分配给你：客户「李雷」，请尽快跟进。', '新客户分配给你：客户「王小明」，请尽快跟进。']);

    // The sales rep sees their two, phones masked; another's follow-up is not theirs to close.
    const mine = await list(rep.token);
    expect(mine).toMatchObject({ total: 2, reps: [] });
    expect(mine.items.map((f) => f.contactId)).toEqual([ca, cc]);
    expect(mine.items[0]).toMatchObject({ phone: '138****0001', rep: { operatorId: rep.id, name: 'rep_li' } });
    await as(rep.token).post(`/api/admin/events/${eventId}/followups/${cb}/done`, {}).expect(404);
    const done = await as(rep.token).post(`/api/admin/events/${eventId}/followups/${ca}/done`, {}).expect(200);
    expect(done.body).toEqual({ state: 'done', doneAt: stack.clock.now().toISOString() });
    await as(rep.token).post(`/api/admin/events/${eventId}/followups/${ca}/done`, {}).expect(200);
    expect((await list(admin)).items[0]).toMatchObject({ contactId: ca, state: 'done' });

    const timeline = await stack.services.timeline.listTimeline({ contactId: ca, scope: { kind: 'all' }, limit: 50 });
    const types = (timeline?.items ?? []).flatMap((i) => (i.kind === 'interaction' ? [i.type] : []));
    expect(types.filter((t) => t === 'followup_done')).toHaveLength(1);
    expect(types).toContain('sales_assigned');
    const [doneRow] = await db().dataSource.query<{ state: string; done_by: number | string }[]>(
      'SELECT state, done_by FROM event_followups WHERE event_id = ? AND contact_id = ?',
      [eventId, ca],
    );
    expect({ state: doneRow.state, doneBy: Number(doneRow.done_by) }).toEqual({ state: 'done', doneBy: rep.id });
    const actions = await db().dataSource.query<{ action: string }[]>(
      "SELECT action FROM audit_log WHERE action LIKE 'event.followup%' ORDER BY id",
    );
    expect(actions.map((r) => r.action)).toEqual([
      'event.followup_assign',
      'event.followup_assign',
      'event.followup_assign',
      'event.followup_done',
    ]);
  });
});
