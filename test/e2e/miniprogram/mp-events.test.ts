import request from 'supertest';
import { describeEachDatabase } from '../../support/database';
import { loginMiniProgram, startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 in Shanghai. */
const DAYTIME = new Date('2026-12-07T02:00:00.000Z');
const HOUR = 3_600_000;

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
interface Ticket {
  token: string;
  qrImageUrl: string;
}
interface MyTicket {
  registrationId: number;
  eventId: number;
  eventName: string;
  status: string;
  checkedIn: { gate: string; at: string } | null;
  ticket: Ticket;
}

/**
 * Issue 17 §1 and §3, the event pages' API: the list and the detail (a visit on the timeline), the
 * registration through the H5 page's service and rules with the session's contact, my tickets, and
 * the staff check-in: 403 for anyone not bound to an operator, the admin scanner's answers for staff.
 */
describeEachDatabase('mini-program: events, registration, tickets, check-in', (db) => {
  let stack: TestStack;
  let admin: string;

  beforeEach(async () => {
    stack = await startTestStack(db());
    stack.clock.set(DAYTIME);
    admin = await operatorToken('admin', 'admin');
  });
  afterEach(async () => {
    await stack.close();
  });
  jest.setTimeout(60_000);

  async function operatorToken(username: string, role: 'admin' | 'operator' | 'sales'): Promise<string> {
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
  }
  const api = () => request(stack.baseUrl);
  const as = (token: string) => ({
    get: (p: string) => api().get(p).set('authorization', `Bearer ${token}`),
    post: (p: string, body: object = {}) => api().post(p).set('authorization', `Bearer ${token}`).send(body),
    delete: (p: string) => api().delete(p).set('authorization', `Bearer ${token}`),
  });
  const errorOf = (res: request.Response) => (res.body as ErrorBody).error;
  const mpLogin = () => loginMiniProgram(stack);
  const createEvent = async (overrides: Record<string, unknown> = {}): Promise<number> => {
    const now = stack.clock.now().getTime();
    const res = await as(admin)
      .post('/api/admin/events', {
        name: '2026 智能制造展',
        venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
        startsAt: new Date(now + 48 * HOUR).toISOString(),
        endsAt: new Date(now + 56 * HOUR).toISOString(),
        capacity: 100,
        registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
        fields: [{ key: 'company', label: '公司', type: 'text', required: true }],
        benefit: null,
        agenda: [{ time: '09:00', title: '开幕' }],
        ...overrides,
      })
      .expect(201);
    return (res.body as { id: number }).id;
  };
  const register = (token: string, eventId: number, phone = '13800138000', extra: Record<string, unknown> = {}) =>
    as(token).post(`/api/mp/events/${eventId}/registrations`, {
      answers: { name: '张三', phone, company: '飞轮科技' },
      consent: true,
      ...extra,
    });
  const contactOf = async (openid: string): Promise<number> => {
    const [row] = await db().dataSource.query<{ contact_id: number | string }[]>(
      "SELECT contact_id FROM contact_identities WHERE kind = 'mp_openid' AND value = ?",
      [openid],
    );
    return Number(row.contact_id);
  };
  const interactionsOf = (contactId: number, type: string) =>
    db().dataSource.query<{ channel: string; ref_id: string }[]>(
      'SELECT channel, ref_id FROM interactions WHERE contact_id = ? AND type = ?',
      [contactId, type],
    );

  it('lists upcoming and ongoing events, not ended ones; the detail has agenda, venue coordinates, form fields and seats, and is a visit', async () => {
    const open = await createEvent();
    const now = stack.clock.now().getTime();
    const ongoing = await createEvent({
      name: '进行中的展会',
      startsAt: new Date(now - HOUR).toISOString(),
      endsAt: new Date(now + HOUR).toISOString(),
      registrationDeadline: new Date(now + HOUR / 2).toISOString(),
    });
    const ended = await createEvent({ name: '已结束' });
    stack.clock.set(new Date(now + 57 * HOUR));
    await createEvent({ name: '下一场' });
    stack.clock.set(new Date(now));
    await db().dataSource.query('UPDATE events SET ends_at = ? WHERE id = ?', ['2026-01-01 00:00:00.000', ended]);

    const { token, openid } = await mpLogin();
    const list = await as(token).get('/api/mp/events').expect(200);
    const items = (list.body as { items: { id: number; status: string; seatsLeft: number }[] }).items;
    expect(items.map((e) => e.id)).toEqual([ongoing, open, expect.any(Number) as number]);
    expect(items[1]).toMatchObject({ status: 'open', seatsLeft: 100, venue: { lat: 31.19, lng: 121.3 } });

    const detail = await as(token).get(`/api/mp/events/${open}`).expect(200);
    expect(detail.body).toMatchObject({
      id: open,
      name: '2026 智能制造展',
      venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
      agenda: [{ time: '09:00', title: '开幕' }],
      fields: expect.arrayContaining([expect.objectContaining({ key: 'company', required: true })]) as unknown,
      capacity: 100,
      registered: 0,
      seatsLeft: 100,
      status: 'open',
      myRegistration: null,
    });
    await as(token).get(`/api/mp/events/${open}`).expect(200);
    // One visit a day on the timeline (channel mp), counted for the report.
    expect(await interactionsOf(await contactOf(openid), 'event_visit')).toEqual([{ channel: 'mp', ref_id: String(open) }]);
    const [visits] = await db().dataSource.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM event_visits WHERE event_id = ?', [
      open,
    ]);
    expect(Number(visits.n)).toBe(1);
    expect(errorOf(await as(token).get('/api/mp/events/999999').expect(404)).code).toBe('event_not_found');
    expect(errorOf(await as(token).get('/api/mp/events/abc').expect(404)).code).toBe('event_not_found');
  });

  it('registers the session’s contact with the H5 page’s rules: validation, consent, duplicates, my tickets with their QR', async () => {
    const eventId = await createEvent();
    const { token, openid } = await mpLogin();

    const invalid = await as(token).post(`/api/mp/events/${eventId}/registrations`, {
      answers: { name: '', phone: '123', company: '' },
      consent: true,
    });
    expect(invalid.status).toBe(400);
    expect(errorOf(invalid).code).toBe('validation_failed');
    expect(Object.keys((errorOf(invalid).details as { fields: Record<string, string> }).fields).sort()).toEqual([
      'company',
      'name',
      'phone',
    ]);
    expect(errorOf(await register(token, eventId, '13800138000', { consent: false }).expect(400)).code).toBe('consent_required');
    expect((await as(token).post(`/api/mp/events/${eventId}/registrations`, { answers: {}, consent: true, extra: 1 })).status).toBe(400);

    const first = await register(token, eventId).expect(201);
    const registered = first.body as { registrationId: number; status: string; ticket: Ticket };
    expect(registered).toMatchObject({
      status: 'registered',
      ticket: { qrImageUrl: expect.stringMatching(/^\/api\/events\/\d+\/tickets\/.+\/qr\.png$/) as string },
    });
    const contactId = await contactOf(openid);
    const [row] = await db().dataSource.query<{ contact_id: number | string; source: string }[]>(
      'SELECT contact_id, source FROM event_registrations WHERE id = ?',
      [registered.registrationId],
    );
    expect({ contactId: Number(row.contact_id), source: row.source }).toEqual({ contactId, source: 'mp' });
    expect(await interactionsOf(contactId, 'registration')).toHaveLength(1);

    // The same person again: the same registration (409 already_registered names it), no second seat.
    const again = await register(token, eventId);
    expect(again.status).toBe(409);
    expect(errorOf(again)).toMatchObject({ code: 'already_registered', details: { registrationId: registered.registrationId } });

    const mine = await as(token).get('/api/mp/me/tickets').expect(200);
    expect((mine.body as { items: MyTicket[] }).items).toEqual([
      expect.objectContaining({
        registrationId: registered.registrationId,
        eventId,
        status: 'valid',
        checkedIn: null,
        ticket: registered.ticket,
      }),
    ]);
    const qr = await api().get(registered.ticket.qrImageUrl).expect(200);
    expect(qr.headers['content-type']).toBe('image/png');
    const detail = await as(token).get(`/api/mp/events/${eventId}`).expect(200);
    expect(detail.body).toMatchObject({ registered: 1, seatsLeft: 99, myRegistration: { registrationId: registered.registrationId } });
  });

  it('a full event refuses or waitlists as the service does', async () => {
    const full = await createEvent({ capacity: 1 });
    const waitlisted = await createEvent({ capacity: 1, waitlist: true });
    const a = await mpLogin();
    const b = await mpLogin();
    await register(a.token, full, '13800138001').expect(201);
    expect(errorOf(await register(b.token, full, '13800138002').expect(409))).toMatchObject({
      code: 'event_full',
      details: { waitlisted: false },
    });
    await register(a.token, waitlisted, '13800138001').expect(201);
    const queued = await register(b.token, waitlisted, '13800138002').expect(409);
    expect(errorOf(queued)).toMatchObject({ code: 'event_full', details: { waitlisted: true, position: 1 } });
    const tickets = (await as(b.token).get('/api/mp/me/tickets').expect(200)).body as { items: MyTicket[] };
    expect(tickets.items.map((t) => t.status)).toEqual(['waitlisted']);
  });

  it('check-in is for staff only: 403 before binding; an admin’s one-time code binds; then the admin scanner’s answers', async () => {
    const eventId = await createEvent();
    const guest = await mpLogin();
    const ticket = ((await register(guest.token, eventId).expect(201)).body as { ticket: Ticket }).ticket;
    const staffUser = await mpLogin();

    const refused = await as(staffUser.token).post('/api/mp/checkins', { ticket: ticket.token });
    expect(refused.status).toBe(403);
    expect(errorOf(refused).code).toBe('mp_staff_only');
    expect((await as(guest.token).post('/api/mp/checkins', { ticket: ticket.token })).status).toBe(403);

    // The admin issues a code for a (sales) operator; non-admins cannot.
    await operatorToken('gatekeeper', 'sales');
    const [op] = await db().dataSource.query<{ id: number | string }[]>("SELECT id FROM operators WHERE username = 'gatekeeper'");
    const operatorId = Number(op.id);
    const marketer = await operatorToken('marketer', 'operator');
    expect((await as(marketer).post(`/api/admin/operators/${operatorId}/mp-binding-code`)).status).toBe(403);
    const issued = await as(admin).post(`/api/admin/operators/${operatorId}/mp-binding-code`).expect(201);
    const { code } = issued.body as { code: string; expiresAt: string };
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    expect(errorOf(await as(staffUser.token).post('/api/mp/staff/bind', { code: 'AAAAAAAA' }).expect(400)).code).toBe(
      'mp_binding_code_invalid',
    );
    const bound = await as(staffUser.token).post('/api/mp/staff/bind', { code: code.toLowerCase() }).expect(200);
    expect(bound.body).toEqual({ staff: { operatorId, name: 'gatekeeper', role: 'sales' } });
    // A code binds once.
    expect(errorOf(await as(guest.token).post('/api/mp/staff/bind', { code }).expect(400)).code).toBe('mp_binding_code_invalid');
    expect((await as(staffUser.token).get('/api/mp/me').expect(200)).body).toMatchObject({ staff: { operatorId } });
    const [audit] = await db().dataSource.query<{ n: number | string }[]>(
      "SELECT COUNT(*) AS n FROM audit_log WHERE action IN ('operator.mp_binding_code', 'operator.mp_bind')",
    );
    expect(Number(audit.n)).toBe(2);

    const scan = { ticket: ticket.token, gate: 'east', nonce: 'scan-nonce-0001' };
    const checked = await as(staffUser.token).post('/api/mp/checkins', scan).expect(200);
    expect(checked.body).toMatchObject({ status: 'checked_in', gate: 'east', benefit: null });
    // The same scan again (an offline retry): the same answer; a new scan of the ticket: already checked in.
    expect((await as(staffUser.token).post('/api/mp/checkins', scan).expect(200)).body).toEqual(checked.body);
    const second = await as(staffUser.token).post('/api/mp/checkins', { ticket: ticket.token, gate: 'west' });
    expect(second.status).toBe(409);
    expect(errorOf(second)).toMatchObject({ code: 'already_checked_in', details: { gate: 'east' } });
    const [checkin] = await db().dataSource.query<{ operator_id: number | string | null }[]>('SELECT operator_id FROM event_checkins');
    expect(Number(checkin.operator_id)).toBe(operatorId);
    expect((await as(guest.token).get('/api/mp/me/tickets').expect(200)).body).toMatchObject({
      items: [{ status: 'checked_in', checkedIn: { gate: 'east' } }],
    });

    // Forged tickets are refused without a check-in.
    const parts = ticket.token.split('.');
    const forged = [parts[0], parts[1], parts[2], 'A'.repeat(43)].join('.');
    expect(errorOf(await as(staffUser.token).post('/api/mp/checkins', { ticket: forged }).expect(400)).code).toBe('invalid_ticket');
    expect(errorOf(await as(staffUser.token).post('/api/mp/checkins', { ticket: 'not-a-ticket' }).expect(400)).code).toBe('invalid_ticket');

    // The admin's unbind (or disabling the operator) ends it.
    await as(admin).delete(`/api/admin/operators/${operatorId}/mp-bindings`).expect(200);
    expect(errorOf(await as(staffUser.token).post('/api/mp/checkins', scan).expect(403)).code).toBe('mp_staff_only');
  });

  it('an unpaid ticket is refused at the gate, as the admin scanner refuses it', async () => {
    const eventId = await createEvent();
    const guest = await mpLogin();
    const ticket = ((await register(guest.token, eventId).expect(201)).body as { ticket: Ticket }).ticket;
    await db().dataSource.query("UPDATE event_registrations SET status = 'unpaid'");
    const staffUser = await mpLogin();
    const [op] = await db().dataSource.query<{ id: number | string }[]>("SELECT id FROM operators WHERE username = 'admin'");
    const { code } = (
      await as(admin)
        .post(`/api/admin/operators/${Number(op.id)}/mp-binding-code`)
        .expect(201)
    ).body as { code: string };
    await as(staffUser.token).post('/api/mp/staff/bind', { code }).expect(200);
    expect(errorOf(await as(staffUser.token).post('/api/mp/checkins', { ticket: ticket.token }).expect(409)).code).toBe('ticket_unpaid');
  });
});
