import request from 'supertest';
import { describeEachDatabase } from '../../support/database';
import { loginMiniProgram, signInAdmin, startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 in Shanghai. */
const DAYTIME = new Date('2026-12-07T02:00:00.000Z');
const HOUR = 3_600_000;

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
interface Registered {
  registrationId: number;
  ticket: { token: string };
}

/**
 * Issue 15 §3-4: one registration per person per event, and a headcount of persons. A person the
 * page knows (a mini-program session, a web OAuth visitor) is one contact whatever phone they
 * type: a second registration of theirs is refused as a second one of the same phone is. The
 * headcount and the report count contacts, so a person holding two registrations (two contacts
 * merged into one) seen at two gates counts once.
 */
describeEachDatabase('one person, one registration, counted once', (db) => {
  let stack: TestStack;
  let admin: string;

  beforeEach(async () => {
    stack = await startTestStack(db(), {}, { platformTimeoutMs: 15_000 });
    stack.clock.set(DAYTIME);
    admin = await signInAdmin(stack);
  });
  afterEach(async () => {
    await stack.close();
  });
  jest.setTimeout(90_000);

  const api = () => request(stack.baseUrl);
  const as = (token: string) => ({
    get: (p: string) => api().get(p).set('authorization', `Bearer ${token}`),
    post: (p: string, body: object = {}) => api().post(p).set('authorization', `Bearer ${token}`).send(body),
  });
  const createEvent = async (): Promise<number> => {
    const now = stack.clock.now().getTime();
    const res = await as(admin)
      .post('/api/admin/events', {
        name: '2026 智能制造展',
        venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
        startsAt: new Date(now + 48 * HOUR).toISOString(),
        endsAt: new Date(now + 56 * HOUR).toISOString(),
        capacity: 100,
        registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
        fields: [],
        benefit: null,
        agenda: [],
      })
      .expect(201);
    return (res.body as { id: number }).id;
  };
  const mpLogin = async () => (await loginMiniProgram(stack)).token;
  const mpRegister = (token: string, eventId: number, phone: string) =>
    as(token).post(`/api/mp/events/${eventId}/registrations`, { answers: { name: '韩梅梅', phone }, consent: true });

  it('refuses a known contact’s second registration with another phone (409 already_registered with the first), also when both race', async () => {
    const eventId = await createEvent();
    const token = await mpLogin();
    const first = (await mpRegister(token, eventId, '13800138001').expect(201)).body as Registered;
    const second = await mpRegister(token, eventId, '13900139002').expect(409);
    expect((second.body as ErrorBody).error).toMatchObject({
      code: 'already_registered',
      details: { registrationId: first.registrationId },
    });

    // Two phones at once from another person: one registration, the other refused, one seat taken.
    const other = await mpLogin();
    const raced = await Promise.all(['13700137003', '13600136004', '13500135005'].map((phone) => mpRegister(other, eventId, phone)));
    expect(raced.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const ds = db().dataSource;
    const [counted] = await ds.query<{ n: number | string }[]>(
      "SELECT COUNT(*) AS n FROM event_registrations WHERE event_id = ? AND status <> 'cancelled'",
      [eventId],
    );
    expect(Number(counted?.n)).toBe(2);
    const [event] = await ds.query<{ registered: number | string }[]>('SELECT registered FROM events WHERE id = ?', [eventId]);
    expect(Number(event?.registered)).toBe(2);
  });

  it('counts a person with two registrations seen at two gates once in the headcount and the report', async () => {
    const eventId = await createEvent();
    const register = (phone: string) =>
      api()
        .post(`/api/events/${eventId}/registrations`)
        .send({ answers: { name: '李雷', phone }, consent: true })
        .expect(201);
    const a = (await register('13800138001')).body as Registered;
    const b = (await register('13900139002')).body as Registered;
    const c = (await register('13700137003')).body as Registered;
    // Two contacts found to be one person and merged: the merge moves b's registration to a's contact.
    const ds = db().dataSource;
    await ds.query(
      'UPDATE event_registrations SET contact_id = (SELECT contact_id FROM (SELECT contact_id FROM event_registrations WHERE id = ?) x) WHERE id = ?',
      [a.registrationId, b.registrationId],
    );
    const scan = (token: string, gate: string) => as(admin).post(`/api/admin/events/${eventId}/checkins`, { token, gate }).expect(200);
    await scan(a.ticket.token, 'east');
    await scan(b.ticket.token, 'west');
    await scan(c.ticket.token, 'west');

    expect((await as(admin).get(`/api/admin/events/${eventId}/headcount`).expect(200)).body).toEqual({
      total: 2,
      byGate: [
        { gate: 'east', count: 1 },
        { gate: 'west', count: 1 },
      ],
    });
    const report = (await as(admin).get(`/api/admin/events/${eventId}/report`).expect(200)).body as {
      checkins: number;
      checkinsOverTime: { count: number }[];
    };
    expect(report.checkins).toBe(2);
    expect(report.checkinsOverTime.reduce((sum, h) => sum + h.count, 0)).toBe(2);
  });
});
