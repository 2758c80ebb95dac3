import request from 'supertest';
import { toSqlDate } from '../../../server/db/sql';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

const HOUR = 3_600_000;

interface Report {
  visits: number;
  registrations: number;
  waitlisted: number;
  cancelled: number;
  registrationRate: number | null;
  checkins: number;
  attendanceRate: number | null;
  byChannel: {
    channelId: number | null;
    name: string | null;
    visits: number;
    registrations: number;
    checkins: number;
    cost: number | null;
    cpa: number | null;
  }[];
  checkinsOverTime: { hour: string; count: number }[];
  conversions: { contacts: number; paidOrders: number; paidAmount: number; toRevenue: number };
}

/**
 * The event report (issue 15 §6) over HTTP, on SQLite and MariaDB: visits and registrations by
 * channel, the rates, check-ins per hour, conversions after the event, cost per registration, and
 * the CSV export (audited, with a BOM for Excel).
 */
describeEachDatabase('the event report', (db) => {
  let stack: TestStack;
  let admin: string;

  beforeEach(async () => {
    stack = await startTestStack(db(), {}, { platformTimeoutMs: 15_000 });
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

  const post = (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${admin}`).send(body);
  const get = (path: string) => request(stack.baseUrl).get(path).set('authorization', `Bearer ${admin}`);

  it('counts visits, registrations and check-ins by channel, the rates, the hours, conversions and cost per registration', async () => {
    const now = stack.clock.now().getTime();
    const eventId = (
      (
        await post('/api/admin/events', {
          name: '2026 智能制造展',
          venue: { address: '上海市青浦区崧泽大道333号' },
          startsAt: new Date(now + 2 * HOUR).toISOString(),
          endsAt: new Date(now + 10 * HOUR).toISOString(),
          capacity: 100,
          registrationDeadline: new Date(now + HOUR).toISOString(),
          fields: [],
          benefit: null,
        }).expect(201)
      ).body as { id: number }
    ).id;
    const poster = (await post('/api/admin/channels', { name: '展会海报', kind: 'h5', eventId, cost: 300 }).expect(201)).body as {
      id: number;
    };
    const moments = (await post('/api/admin/channels', { name: '朋友圈', kind: 'h5', eventId }).expect(201)).body as { id: number };

    const visit = (visitorId: string, channelId?: number) =>
      request(stack.baseUrl)
        .post(`/api/events/${eventId}/visits`)
        .send({ visitorId, ...(channelId === undefined ? {} : { channelId }) })
        .expect(204);
    for (const v of ['visitor-a1', 'visitor-a2', 'visitor-a3', 'visitor-a4']) await visit(v, poster.id);
    await visit('visitor-a1', poster.id); // the same visitor again counts once
    await visit('visitor-b1', moments.id);
    await visit('visitor-c1');
    await visit('visitor-c2');

    const register = async (phone: string, channelId?: number) => {
      const res = await request(stack.baseUrl)
        .post(`/api/events/${eventId}/registrations`)
        .send({ answers: { name: '李雷', phone }, consent: true, ...(channelId === undefined ? {} : { channelId }) })
        .expect(201);
      return res.body as { registrationId: number; ticket: { token: string } };
    };
    const a = await register('13800000001', poster.id);
    const b = await register('13800000002', poster.id);
    await register('13800000003');
    const cancelled = await register('13800000004', moments.id);
    await request(stack.baseUrl).post(`/api/events/${eventId}/registrations/cancel`).send({ token: cancelled.ticket.token }).expect(200);

    stack.clock.set(new Date(now + 2 * HOUR + 5 * 60_000));
    await post(`/api/admin/events/${eventId}/checkins`, { token: a.ticket.token, gate: 'A' }).expect(200);
    await post(`/api/admin/events/${eventId}/checkins`, { token: b.ticket.token, gate: 'B' }).expect(200);

    // After the event started: one registrant paid and became revenue; a payment before the start is not a conversion.
    const contactOf = async (registrationId: number) =>
      Number(
        (
          await db().dataSource.query<{ contact_id: number | string }[]>('SELECT contact_id FROM event_registrations WHERE id = ?', [
            registrationId,
          ])
        )[0].contact_id,
      );
    const buyer = await contactOf(a.registrationId);
    const order = (no: string, paidAt: number) =>
      db().dataSource.query(
        'INSERT INTO pay_orders (out_trade_no, contact_id, openid, app_id, description, amount_fen, state, paid_at, created_at, updated_at) ' +
          "VALUES (?, ?, 'o-buyer', 'wx-app', '展会门票', 9900, 'paid', ?, ?, ?)",
        [no, buyer, toSqlDate(new Date(paidAt)), toSqlDate(new Date(paidAt)), toSqlDate(new Date(paidAt))],
      );
    await order('FW-BEFORE', now);
    await order('FW-AFTER', now + 3 * HOUR);
    await db().dataSource.query(
      "INSERT INTO contact_stage_changes (contact_id, from_stage, to_stage, actor_kind, at) VALUES (?, 'activated', 'revenue', 'system', ?)",
      [buyer, toSqlDate(new Date(now + 3 * HOUR))],
    );

    const report = (await get(`/api/admin/events/${eventId}/report`).expect(200)).body as Report;
    expect(report).toMatchObject({
      visits: 7,
      registrations: 3,
      waitlisted: 0,
      cancelled: 1,
      registrationRate: 0.4286,
      checkins: 2,
      attendanceRate: 0.6667,
      conversions: { contacts: 1, paidOrders: 1, paidAmount: 99, toRevenue: 1 },
    });
    expect(report.byChannel).toEqual([
      { channelId: poster.id, name: '展会海报', visits: 4, newContacts: 0, registrations: 2, checkins: 2, cost: 300, cpa: 150 },
      { channelId: null, name: null, visits: 2, newContacts: 0, registrations: 1, checkins: 0, cost: null, cpa: null },
      { channelId: moments.id, name: '朋友圈', visits: 1, newContacts: 0, registrations: 0, checkins: 0, cost: null, cpa: null },
    ]);
    expect(report.checkinsOverTime.reduce((sum, h) => sum + h.count, 0)).toBe(2);
    expect(new Date(report.checkinsOverTime[0].hour).getUTCMinutes()).toBe(0);

    const csv = await get(`/api/admin/events/${eventId}/report.csv`)
      .expect(200)
      .expect('content-type', /text\/csv/);
    expect(csv.text.startsWith('\uFEFF渠道,访问人数,新客户,报名,签到,成本（元）,每个报名成本（元）\r\n')).toBe(true);
    expect(csv.text).toContain('展会海报,4,0,2,2,300,150\r\n');
    expect(csv.text).toContain('直接访问,2,0,1,0,,\r\n');
    expect(csv.text.trimEnd().split('\r\n').at(-1)).toBe('合计,7,0,3,2,300,100');
    const audit = await db().dataSource.query<{ action: string }[]>("SELECT action FROM audit_log WHERE action = 'event.report_export'");
    expect(audit).toHaveLength(1);

    await get('/api/admin/events/999999/report').expect(404);
  });
});
