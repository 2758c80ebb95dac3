import request from 'supertest';
import { SANDBOX_EVENT_REMINDER_TEMPLATE_ID, SANDBOX_SMS_REMINDER_TEMPLATE_ID } from '../../../config/config.schema';
import { OutboxMessage } from '../../../entities/outbox-message.entity';
import { toSqlDate } from '../../../server/db/sql';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 on 9 December in Shanghai. */
const DEC_9_10AM = new Date('2026-12-09T02:00:00.000Z');
/** The event: 09:00 on 11 December in Shanghai; its reminder is due at 10:00 on the 10th. */
const STARTS = new Date('2026-12-11T01:00:00.000Z');
const REMINDER_DUE = new Date('2026-12-10T02:00:00.000Z');

/**
 * The day-before reminder (issue 15 §3), on SQLite and MariaDB against the sandbox: at the set time
 * on the day before, one reminder per seat holder carrying the event-day facts, by mini-program
 * subscribe message where granted, else Official Account template message to a follower, else
 * SMS; none to the cancelled; once however often the job runs; a late registrant gets theirs.
 */
describeEachDatabase('event reminders', (db) => {
  let stack: TestStack;
  let admin: string;

  beforeEach(async () => {
    stack = await startTestStack(db(), {}, { platformTimeoutMs: 15_000 });
    stack.clock.set(DEC_9_10AM);
    const s = stack.services;
    const created = await s.operators.createOperator({
      username: 'admin',
      password: 'admin-password-1',
      role: 'admin',
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await s.operators.login({ username: 'admin', password: 'admin-password-1', ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    admin = login.token;
  });
  afterEach(async () => {
    await stack.close();
  });
  jest.setTimeout(90_000);

  const register = async (eventId: number, phone: string, name = '李雷') =>
    (
      await request(stack.baseUrl)
        .post(`/api/events/${eventId}/registrations`)
        .send({ answers: { name, phone }, consent: true })
        .expect(201)
    ).body as { registrationId: number; ticket: { token: string } };
  const addIdentity = (contactId: number, kind: string, appId: string, value: string) =>
    db().dataSource.query('INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES (?, ?, ?, ?, ?)', [
      contactId,
      kind,
      appId,
      value,
      toSqlDate(stack.clock.now()),
    ]);
  const contactOfOpenid = async (openid: string) =>
    Number(
      (
        await db().dataSource.query<{ contact_id: number | string }[]>(
          "SELECT contact_id FROM contact_identities WHERE kind = 'oa_openid' AND value = ?",
          [openid],
        )
      )[0].contact_id,
    );
  const rows = () =>
    db()
      .dataSource.getRepository(OutboxMessage)
      .find({ order: { id: 'ASC' } });

  it('reminds each seat holder once on the day before, by mini-program, Official Account or SMS, with the event-day facts', async () => {
    const eventId = (
      (
        await request(stack.baseUrl)
          .post('/api/admin/events')
          .set('authorization', `Bearer ${admin}`)
          .send({
            name: '2026 智能制造展',
            venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号' },
            startsAt: STARTS.toISOString(),
            endsAt: new Date(STARTS.getTime() + 8 * 3_600_000).toISOString(),
            capacity: 100,
            registrationDeadline: STARTS.toISOString(),
            fields: [],
            benefit: null,
            facts: { weather: '晴', traffic: '地铁2号线直达', expectedHeadcount: 800 },
          })
          .expect(201)
      ).body as { id: number }
    ).id;

    // A follower of the Official Account, whose phone is known: their registration lands on them.
    const { openid } = await stack.player().subscribe();
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    const follower = await contactOfOpenid(openid);
    await addIdentity(follower, 'phone', '', '+8613800000002');
    await register(eventId, '13800000002', '韩梅梅');
    // A mini-program user who granted the reminder template in wx.requestSubscribeMessage.
    const mpOpenid = 'oMP0000000000000000000000003';
    const mpAppId = stack.config.miniprogram.appId;
    const mpRegistration = await register(eventId, '13800000003', '王小明');
    const mpContact = Number(
      (
        await db().dataSource.query<{ contact_id: number | string }[]>('SELECT contact_id FROM event_registrations WHERE id = ?', [
          mpRegistration.registrationId,
        ])
      )[0].contact_id,
    );
    await addIdentity(mpContact, 'mp_openid', mpAppId, mpOpenid);
    stack.sandbox.state.miniProgramUsers.add(mpOpenid);
    stack.sandbox.state.messages.answerSubscribe('subscribe/send', mpOpenid, SANDBOX_EVENT_REMINDER_TEMPLATE_ID, 'accept');
    await stack.services.subscribeConsents.recordMiniProgramConsent(
      mpContact,
      mpAppId,
      { errMsg: 'requestSubscribeMessage:ok', [SANDBOX_EVENT_REMINDER_TEMPLATE_ID]: 'accept' },
      { reportKey: 'req-1' },
    );
    // Only a phone; and one who cancelled.
    await register(eventId, '13800000001', '李雷');
    const gone = await register(eventId, '13800000004', '赵四');
    await request(stack.baseUrl).post(`/api/events/${eventId}/registrations/cancel`).send({ token: gone.ticket.token }).expect(200);

    const reminders = stack.services.eventReminders;
    expect(reminders.reminderAt(STARTS).toISOString()).toBe(REMINDER_DUE.toISOString());
    expect(await reminders.runDue()).toEqual({ events: 0, queued: 0 });

    stack.clock.set(REMINDER_DUE);
    expect(await reminders.runDue()).toEqual({ events: 1, queued: 3 });
    expect(await reminders.runDue()).toEqual({ events: 1, queued: 0 });
    const queued = await rows();
    const byChannel = new Map(queued.map((row) => [row.channel, row]));
    expect([...byChannel.keys()].sort()).toEqual(['mp_subscribe', 'oa_template', 'sms']);
    expect(byChannel.get('oa_template')?.contactId).toBe(follower);
    expect(byChannel.get('mp_subscribe')?.contactId).toBe(mpContact);
    // The subscribe message opens the mini-program's event page (MP_PAGES, held to app.json).
    expect((JSON.parse(byChannel.get('mp_subscribe')?.payload ?? '{}') as { page: string }).page).toBe(`pages/events/detail?id=${eventId}`);
    const template = JSON.parse(byChannel.get('oa_template')?.payload ?? '{}') as {
      template_id: string;
      data: Record<string, { value: string }>;
    };
    expect(template.template_id).toBe(SANDBOX_EVENT_REMINDER_TEMPLATE_ID);
    expect(template.data).toEqual({
      thing1: { value: '2026 智能制造展' },
      time2: { value: '2026年12月11日 09:00' },
      thing3: { value: '国家会展中心' },
      thing4: { value: '晴 · 地铁2号线直达 · 预计800人' },
    });
    const sms = JSON.parse(byChannel.get('sms')?.payload ?? '{}') as { templateId: string; params: string[] };
    expect(sms).toEqual({
      templateId: SANDBOX_SMS_REMINDER_TEMPLATE_ID,
      params: ['李雷', '2026 智能制造展 2026年12月11日 09:00 国家会展中心，晴 · 地铁2号线直达 · 预计800人'],
    });

    // Registered after the reminders went out: theirs goes on the next pass.
    await register(eventId, '13800000005', '钱五');
    expect(await reminders.runDue()).toEqual({ events: 1, queued: 1 });

    await stack.services.outboxSender.drain();
    expect((await rows()).map((row) => row.state)).toEqual(['sent', 'sent', 'sent', 'sent']);
    expect(stack.sandbox.state.messages.countByOpenid()).toEqual(new Map([[openid, 1]]));
    expect(stack.sandbox.state.messages.subscribeAccepted.map((m) => m.openid)).toEqual([mpOpenid]);

    // Once the event has started nothing more is sent.
    stack.clock.set(new Date(STARTS.getTime() + 60_000));
    await register(eventId, '13800000006', '孙六').catch(() => undefined);
    expect(await reminders.runDue()).toEqual({ events: 0, queued: 0 });
  });
});
