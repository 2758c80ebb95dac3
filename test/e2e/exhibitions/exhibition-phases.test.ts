import request from 'supertest';
import { MOBILE_WEB_ROOT } from '../../support/build-web';
import { cookieHeader, keepCookies } from '../../support/cookie-jar';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * Issue 15's three phases end to end against the sandbox, on one fake clock moved the way the
 * sandbox panel moves it (POST /sandbox/control/clock runs what fell due):
 * - before: an operator makes an event and its Official Account channel code; a follower scans it,
 *   opens the invitation page inside "WeChat" (web OAuth played by the sandbox), visits and
 *   registers as their own contact; a second person registers by phone outside WeChat; the day
 *   before at 10:00, each gets the reminder (a template message to the follower, SMS to the other);
 * - on the day: the follower's ticket is checked in at gate A (and a retried scan is not counted
 *   twice); the headcount counts one; the follower is sent the venue by customer-service message;
 * - after: the recap goes by attendance (the survey link to the attendee, the cloud exhibition to
 *   the absentee), the attendee answers the survey, the follow-up list puts them first and assigns
 *   them to a rep, and the report shows the channel's visits, registrations, check-ins, cost per
 *   registration and the satisfaction.
 */
const T0 = new Date('2026-12-07T02:00:00.000Z'); // Monday 10:00 in Shanghai
const HOUR = 3_600_000;

describeEachDatabase('an exhibition in three phases, against the sandbox with a fake clock', (db) => {
  let stack: TestStack;
  let admin: string;

  const login = async (username: string, role: 'admin' | 'sales'): Promise<{ token: string; id: number }> => {
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
    return { token: session.token, id: created.operator.id };
  };
  const as = (token: string) => ({
    get: (p: string) => request(stack.baseUrl).get(p).set('authorization', `Bearer ${token}`),
    post: (p: string, body: object = {}) => request(stack.baseUrl).post(p).set('authorization', `Bearer ${token}`).send(body),
    put: (p: string, body: object) => request(stack.baseUrl).put(p).set('authorization', `Bearer ${token}`).send(body),
  });
  /** The sandbox panel's clock: moves Flywheel's clock and runs every job that fell due. */
  const moveClockTo = async (at: Date) => {
    const seconds = Math.round((at.getTime() - stack.clock.now().getTime()) / 1000);
    await request(stack.sandboxUrl).post('/sandbox/control/clock').send({ advanceSeconds: seconds }).expect(200);
    await stack.services.outboxSender.drain();
  };
  const settle = async () => {
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    await stack.services.reactions.idle();
  };
  const outboxOf = (contactId: number) =>
    db().dataSource.query<{ dedupe_key: string; channel: string; state: string; payload: string }[]>(
      'SELECT dedupe_key, channel, state, payload FROM outbox_messages WHERE contact_id = ? ORDER BY id',
      [contactId],
    );

  beforeEach(async () => {
    // The invitation page (the built mobile app) is where web OAuth lands; the sandbox draws real QR PNGs (15 s timeout).
    stack = await startTestStack(db(), {}, { platformTimeoutMs: 15_000, mobileWebRoot: MOBILE_WEB_ROOT });
    stack.clock.set(T0);
    admin = (await login('admin', 'admin')).token;
  });
  afterEach(async () => {
    await stack.close();
  });
  jest.setTimeout(180_000);

  it('before, on the day and after: channel, invitation, registration, reminder, check-in, recap, survey, follow-up, report', async () => {
    const a = as(admin);
    // ---- Before: the event and its channel code.
    const eventId = (
      (
        await a
          .post('/api/admin/events', {
            name: '2026 智能制造展',
            venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
            startsAt: new Date(T0.getTime() + 47.5 * HOUR).toISOString(),
            endsAt: new Date(T0.getTime() + 55 * HOUR).toISOString(),
            capacity: 100,
            registrationDeadline: new Date(T0.getTime() + 34 * HOUR).toISOString(),
            fields: [{ key: 'company', label: '公司', type: 'text', required: true }],
            benefit: { kind: 'gift', description: '定制帆布袋' },
            facts: { weather: '晴 5℃', traffic: '地铁2号线徐泾东站' },
          })
          .expect(201)
      ).body as { id: number }
    ).id;
    const channel = (await a.post('/api/admin/channels', { name: '展会海报', kind: 'oa_qr', cost: 300, eventId }).expect(201)).body as {
      id: number;
      scene: string;
    };

    // A follower scans the poster's code, then opens the invitation inside "WeChat".
    const scanned = await request(stack.sandboxUrl)
      .post('/sandbox/actions')
      .send({ action: 'scan_channel', scene: channel.scene })
      .expect(200);
    const openid = (scanned.body as { openid: string }).openid;
    await settle();
    const [identity] = await db().dataSource.query<{ contact_id: number | string }[]>(
      "SELECT contact_id FROM contact_identities WHERE kind = 'oa_openid' AND value = ?",
      [openid],
    );
    const follower = Number(identity.contact_id);
    const jar = new Map<string, string>();
    const start = await request(stack.baseUrl)
      .get(`/api/admin/sandbox/visit?openid=${openid}&eventId=${eventId}&channelId=${channel.id}`)
      .set('authorization', `Bearer ${admin}`)
      .expect(302);
    keepCookies(start, jar);
    const authorize = new URL(String(start.headers.location).replace(/#.*$/, ''));
    const granted = await request(authorize.origin).get(`${authorize.pathname}${authorize.search}`).expect(302);
    const back = new URL(String(granted.headers.location));
    const callback = await request(stack.baseUrl).get(`${back.pathname}${back.search}`).set('Cookie', cookieHeader(jar)).expect(302);
    keepCookies(callback, jar);
    expect(jar.has('fw_visitor')).toBe(true);

    await request(stack.baseUrl)
      .post(`/api/events/${eventId}/visits`)
      .set('Cookie', cookieHeader(jar))
      .send({ visitorId: 'visitor-follower', channelId: channel.id })
      .expect(204);
    const registered = (
      await request(stack.baseUrl)
        .post(`/api/events/${eventId}/registrations`)
        .set('Cookie', cookieHeader(jar))
        .send({ answers: { name: '韩梅梅', phone: '13800000002', company: '飞轮科技' }, consent: true, channelId: channel.id })
        .expect(201)
    ).body as { registrationId: number; ticket: { token: string } };
    // Someone else, outside WeChat, through no channel.
    await request(stack.baseUrl).post(`/api/events/${eventId}/visits`).send({ visitorId: 'visitor-phone-only' }).expect(204);
    const other = (
      await request(stack.baseUrl)
        .post(`/api/events/${eventId}/registrations`)
        .send({ answers: { name: '李雷', phone: '13900000003', company: '制造公司' }, consent: true })
        .expect(201)
    ).body as { registrationId: number };
    await settle();
    const [registration] = await db().dataSource.query<{ contact_id: number | string }[]>(
      'SELECT contact_id FROM event_registrations WHERE id = ?',
      [registered.registrationId],
    );
    expect(Number(registration.contact_id)).toBe(follower);
    const [absentee] = await db().dataSource.query<{ contact_id: number | string }[]>(
      'SELECT contact_id FROM event_registrations WHERE id = ?',
      [other.registrationId],
    );
    const absenteeId = Number(absentee.contact_id);

    // The day before at 10:00: the reminders, each by the way that reaches the person.
    await moveClockTo(new Date(T0.getTime() + 24 * HOUR + 60_000));
    const followerReminder = (await outboxOf(follower)).find(
      (row) => row.dedupe_key === `event:${eventId}:reminder:${registered.registrationId}`,
    );
    expect(followerReminder).toMatchObject({ channel: 'oa_template', state: 'sent' });
    expect(followerReminder?.payload).toContain('晴 5℃');
    const smsReminder = (await outboxOf(absenteeId)).find((row) => row.dedupe_key === `event:${eventId}:reminder:${other.registrationId}`);
    expect(smsReminder).toMatchObject({ channel: 'sms', state: 'sent' });

    // ---- On the day: gate A checks the follower in; a retried scan is the same answer.
    await moveClockTo(new Date(T0.getTime() + 47 * HOUR));
    const scan = { token: registered.ticket.token, gate: 'A', nonce: 'gate-a-0001' };
    expect((await a.post(`/api/admin/events/${eventId}/checkins`, scan).expect(200)).body).toMatchObject({
      status: 'checked_in',
      registrationId: registered.registrationId,
    });
    expect((await a.post(`/api/admin/events/${eventId}/checkins`, scan).expect(200)).body).toMatchObject({ status: 'checked_in' });
    expect((await a.get(`/api/admin/events/${eventId}/headcount`).expect(200)).body).toMatchObject({ total: 1 });
    await stack.services.outboxSender.drain();
    const venueMessage = (await outboxOf(follower)).find((row) => row.channel === 'oa_custom');
    expect(venueMessage?.payload).toContain('国家会展中心');
    // The customer-service entry: the attendee just interacted, so a reply reaches the on-site staff.
    expect(venueMessage?.payload).toContain('如需帮助，直接回复本消息即可联系现场客服。');

    // ---- After: the recap by attendance, once the event has ended.
    await a
      .put(`/api/admin/events/${eventId}/survey`, {
        title: '展会满意度调查',
        satisfactionLabel: '您对本次展会的整体满意度',
        questions: [{ key: 'q1', kind: 'single', label: '您最感兴趣的展区', required: true, options: ['机器人', '软件'] }],
      })
      .expect(200);
    await moveClockTo(new Date(T0.getTime() + 56 * HOUR));
    expect(
      (
        await a
          .post(`/api/admin/events/${eventId}/recap`, {
            attendee: { title: '感谢您的到来', text: '请为本次展会打分' },
            absentee: { title: '错过了展会？', text: '云展厅资料已为您准备好' },
          })
          .expect(200)
      ).body,
    ).toMatchObject({ attendees: 1, absentees: 1, queued: 2 });
    const recapOf = async (contactId: number, registrationId: number) =>
      (await outboxOf(contactId)).find((row) => row.dedupe_key === `event-recap:${registrationId}`);
    const attendeeRecap = await recapOf(follower, registered.registrationId);
    const surveyUrl = (JSON.parse(attendeeRecap?.payload ?? '{}') as { url?: string }).url ?? '';
    expect(surveyUrl).toMatch(new RegExp(`/e/${eventId}/survey\\?t=`));
    expect((await recapOf(absenteeId, other.registrationId))?.payload).toMatch(new RegExp(`/e/${eventId}/cloud`));

    // The attendee answers the survey from the recap's link.
    const token = new URL(surveyUrl).searchParams.get('t') ?? '';
    await request(stack.baseUrl)
      .post(`/api/events/${eventId}/survey-answers`)
      .send({ token, answers: { satisfaction: 4, q1: '机器人' } })
      .expect(201);

    // The follow-up list: the attendee first (the hottest); handed to a rep, who gets the app message.
    const rep = await login('rep', 'sales');
    await settle();
    const followups = (await a.get(`/api/admin/events/${eventId}/followups`).expect(200)).body as { items: { contactId: number }[] };
    expect(followups.items.map((f) => f.contactId)).toEqual([follower, absenteeId]);
    await a.post(`/api/admin/events/${eventId}/followups/assign`, { contactIds: [follower], operatorId: rep.id }).expect(200);
    await stack.services.queue.runOnce({ handlers: stack.services.sales.handlers() });
    const appMessages = stack.sandbox.state.callsTo('message/send').map((call) => call.body as { touser: string });
    expect(appMessages.map((m) => m.touser)).toEqual(['rep_rep']);
    await as(rep.token).post(`/api/admin/events/${eventId}/followups/${follower}/done`, {}).expect(200);

    // The report: the channel's visit and registration, the check-in, the cost per registration, the satisfaction.
    const report = (await a.get(`/api/admin/events/${eventId}/report`).expect(200)).body as {
      visits: number;
      registrations: number;
      checkins: number;
      attendanceRate: number;
      byChannel: {
        channelId: number | null;
        visits: number;
        newContacts: number;
        registrations: number;
        checkins: number;
        cost: number | null;
        cpa: number | null;
      }[];
      satisfaction: { responses: number; average: number } | null;
    };
    expect(report).toMatchObject({ visits: 2, registrations: 2, checkins: 1, attendanceRate: 0.5 });
    // The follower came to Flywheel through the poster's code: a new contact of that channel.
    expect(report.byChannel.find((c) => c.channelId === channel.id)).toMatchObject({
      visits: 1,
      newContacts: 1,
      registrations: 1,
      checkins: 1,
      cost: 300,
      cpa: 300,
    });
    expect(report.satisfaction).toMatchObject({ responses: 1, average: 4 });
  });
});
