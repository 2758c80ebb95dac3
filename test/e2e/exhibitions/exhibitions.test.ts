import request from 'supertest';
import { describeEachDatabase, useSecondInstance } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const HOUR = 3_600_000;

interface Ticket {
  token: string;
  qrImageUrl: string;
}

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

describeEachDatabase('exhibitions: events, registrations, tickets, check-in', (db) => {
  let stack: TestStack;
  let admin: string;
  const secondInstance = useSecondInstance(db);

  const start = async (env: NodeJS.ProcessEnv = {}) => {
    stack = await startTestStack(db(), env, { platformTimeoutMs: 15_000 });
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
  };
  const adminPost = (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${admin}`).send(body);
  const adminGet = (path: string) => request(stack.baseUrl).get(path).set('authorization', `Bearer ${admin}`);
  const publicPost = (path: string, body: object) => request(stack.baseUrl).post(path).send(body);
  const errorOf = (res: request.Response) => (res.body as ErrorBody).error;

  const createEvent = async (overrides: Record<string, unknown> = {}): Promise<number> => {
    const now = stack.clock.now().getTime();
    const res = await adminPost('/api/admin/events', {
      name: '2026 智能制造展',
      venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
      startsAt: new Date(now + 48 * HOUR).toISOString(),
      endsAt: new Date(now + 56 * HOUR).toISOString(),
      capacity: 100,
      registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
      fields: [
        { key: 'company', label: '公司', type: 'text', required: true, maxLength: 10 },
        { key: 'email', label: '邮箱', type: 'email', required: false },
        { key: 'industry', label: '行业', type: 'select', required: false, options: ['制造', '零售'] },
        { key: 'staff', label: '员工数', type: 'number', required: false },
      ],
      benefit: { kind: 'gift', description: '定制帆布袋' },
      agenda: [{ time: '09:30', title: '开幕致辞', speaker: '张总' }],
      facts: { weather: '晴', expectedHeadcount: 800 },
      ...overrides,
    });
    if (res.status !== 201) throw new Error(`create event: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { id: number }).id;
  };
  const answers = (phone: string, extra: Record<string, unknown> = {}) => ({ name: '李雷', phone, company: '飞轮科技', ...extra });
  const register = (eventId: number, phone: string, extra: Record<string, unknown> = {}) =>
    publicPost(`/api/events/${eventId}/registrations`, { answers: answers(phone), consent: true, ...extra });
  const ticketOf = (res: request.Response): Ticket => (res.body as { ticket: Ticket }).ticket;
  const scan = (eventId: number, token: string, body: { gate?: string; nonce?: string } = {}) =>
    adminPost(`/api/admin/events/${eventId}/checkins`, { token, ...body });

  afterEach(async () => {
    await stack.close();
  });

  jest.setTimeout(90_000);

  it('creates an event (audited), adds the name and phone fields, serves it to the public page and edits it', async () => {
    await start();
    const id = await createEvent();
    const event = (await request(stack.baseUrl).get(`/api/events/${id}`).expect(200)).body as {
      status: string;
      fields: { key: string; type: string; required: boolean }[];
      registered: number;
      venue: object;
      benefit: object;
    };
    expect(event.status).toBe('open');
    expect(event.registered).toBe(0);
    expect(event.fields.map((f) => [f.key, f.type, f.required])).toEqual([
      ['name', 'text', true],
      ['phone', 'phone', true],
      ['company', 'text', true],
      ['email', 'email', false],
      ['industry', 'select', false],
      ['staff', 'number', false],
    ]);
    const patched = await request(stack.baseUrl)
      .patch(`/api/admin/events/${id}`)
      .set('authorization', `Bearer ${admin}`)
      .send({ capacity: 200, facts: { weather: '小雨', traffic: '地铁2号线徐泾东站' } })
      .expect(200);
    expect(patched.body).toEqual(expect.objectContaining({ capacity: 200, facts: { weather: '小雨', traffic: '地铁2号线徐泾东站' } }));
    const audit = await db().dataSource.query<{ action: string; target_id: string | number }[]>(
      "SELECT action, target_id FROM audit_log WHERE action LIKE 'event.%' ORDER BY id",
    );
    expect(audit.map((a) => [a.action, String(a.target_id)])).toEqual([
      ['event.create', String(id)],
      ['event.update', String(id)],
    ]);
    // The end before the start, and a select without options: each field named.
    const bad = await adminPost('/api/admin/events', {
      name: 'x',
      venue: { address: 'y' },
      startsAt: '2026-12-10T10:00:00+08:00',
      endsAt: '2026-12-10T09:00:00+08:00',
      capacity: 10,
      registrationDeadline: '2026-12-09T10:00:00+08:00',
      fields: [{ key: 'industry', label: '行业', type: 'select', required: true }],
      benefit: null,
    });
    expect(bad.status).toBe(400);
    expect((errorOf(bad).details as unknown as { path: string; code: string }[]).map((d) => [d.path, d.code])).toEqual([
      ['endsAt', 'event_times'],
      ['fields.0.options', 'event_field_options'],
    ]);
    await request(stack.baseUrl).get('/api/events/99999').expect(404);
  });

  it('registers with consent: a ticket with its QR, the contact by phone in E.164, a registration interaction about the event', async () => {
    await start();
    const id = await createEvent();
    const res = await register(id, '138 0013 8000', { channelId: null, visitorId: 'visitor-abc123' }).expect(201);
    const body = res.body as { registrationId: number; status: string; ticket: Ticket };
    expect(body.status).toBe('registered');
    expect(body.ticket.token).toMatch(new RegExp(`^${id}\\.${body.registrationId}\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}$`));
    const png = await request(stack.baseUrl)
      .get(body.ticket.qrImageUrl)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect((png.body as Buffer).subarray(0, 8)).toEqual(PNG_MAGIC);
    expect((await request(stack.baseUrl).get(`/api/events/${id}/tickets/${body.ticket.token}`).expect(200)).body).toEqual(
      expect.objectContaining({ status: 'valid', eventName: '2026 智能制造展', name: '李雷' }),
    );
    const [reg] = await db().dataSource.query<{ phone: string; contact_id: number; consent_at: unknown; visitor_id: string }[]>(
      'SELECT phone, contact_id, consent_at, visitor_id FROM event_registrations WHERE id = ?',
      [body.registrationId],
    );
    expect(reg.phone).toBe('+8613800138000');
    expect(reg.visitor_id).toBe('visitor-abc123');
    expect(reg.consent_at).not.toBeNull();
    const identities = await db().dataSource.query<{ kind: string; value: string }[]>(
      'SELECT kind, value FROM contact_identities WHERE contact_id = ?',
      [reg.contact_id],
    );
    expect(identities).toEqual([{ kind: 'phone', value: '+8613800138000' }]);
    const interactions = await db().dataSource.query<{ type: string; ref_type: string; ref_id: string }[]>(
      'SELECT type, ref_type, ref_id FROM interactions WHERE contact_id = ?',
      [reg.contact_id],
    );
    expect(interactions).toEqual([{ type: 'registration', ref_type: 'event', ref_id: String(id) }]);
    expect(((await request(stack.baseUrl).get(`/api/events/${id}`)).body as { registered: number }).registered).toBe(1);
  });

  it('refuses bad answers field by field, a missing consent, the same person twice (409) and a registration after the deadline', async () => {
    await start();
    const id = await createEvent();
    const bad = await publicPost(`/api/events/${id}/registrations`, {
      answers: {
        name: '',
        phone: '12345',
        company: '一家名字特别特别长的公司',
        email: 'not-an-email',
        industry: '金融',
        staff: 'many',
        x: 1,
      },
      consent: true,
    }).expect(400);
    expect(errorOf(bad)).toEqual({
      code: 'validation_failed',
      message: expect.any(String) as string,
      details: {
        fields: {
          name: '请填写姓名',
          phone: '请填写正确的手机号',
          company: '公司最多10个字',
          email: '请填写正确的邮箱地址',
          industry: '请从选项中选择行业',
          staff: '员工数须为数字',
          x: '表单没有这一项',
        },
      },
    });
    expect(errorOf(await publicPost(`/api/events/${id}/registrations`, { answers: answers('13800138000') }).expect(400)).code).toBe(
      'consent_required',
    );
    const first = await register(id, '13800138000').expect(201);
    const again = await register(id, '+86 138-0013-8000').expect(409);
    expect(errorOf(again)).toEqual(
      expect.objectContaining({
        code: 'already_registered',
        details: { registrationId: (first.body as { registrationId: number }).registrationId },
      }),
    );
    // Two at once for one phone: one registration, the other already_registered (never a 500).
    const racing = await Promise.all([register(id, '13900139000'), register(id, '13900139000'), register(id, '13900139000')]);
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(((await request(stack.baseUrl).get(`/api/events/${id}`)).body as { registered: number }).registered).toBe(2);

    stack.clock.advance(25 * HOUR);
    expect(errorOf(await register(id, '13700137000').expect(409)).code).toBe('registration_closed');
    expect(((await request(stack.baseUrl).get(`/api/events/${id}`)).body as { status: string }).status).toBe('closed');
  });

  it('a full event: concurrent registrations take exactly the seats; a waitlist keeps the rest in order and a cancellation promotes the first', async () => {
    await start();
    const full = await createEvent({ capacity: 3 });
    const racing = await Promise.all(Array.from({ length: 8 }, (_v, i) => register(full, `1380000000${i}`)));
    expect(racing.filter((r) => r.status === 201)).toHaveLength(3);
    const refused = racing.filter((r) => r.status === 409).map(errorOf);
    expect(refused).toHaveLength(5);
    for (const e of refused) expect(e).toEqual(expect.objectContaining({ code: 'event_full', details: { waitlisted: false } }));
    expect(((await request(stack.baseUrl).get(`/api/events/${full}`)).body as { registered: number; status: string }).status).toBe('full');
    const [{ n }] = await db().dataSource.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM event_registrations WHERE event_id = ?',
      [full],
    );
    expect(Number(n)).toBe(3);

    const waitlisted = await createEvent({ capacity: 1, waitlist: true });
    const seated = ticketOf(await register(waitlisted, '13600000001').expect(201));
    const second = errorOf(await register(waitlisted, '13600000002').expect(409));
    const third = errorOf(await register(waitlisted, '13600000003').expect(409));
    expect(second).toEqual(
      expect.objectContaining({ code: 'event_full', details: expect.objectContaining({ waitlisted: true, position: 1 }) as object }),
    );
    expect(third.details).toEqual(expect.objectContaining({ waitlisted: true, position: 2 }));
    const secondTicket = second.details?.ticket as Ticket;
    expect((await request(stack.baseUrl).get(`/api/events/${waitlisted}/tickets/${secondTicket.token}`)).body).toEqual(
      expect.objectContaining({ status: 'waitlisted' }),
    );
    expect(errorOf(await scan(waitlisted, secondTicket.token).expect(409)).code).toBe('ticket_waitlisted');

    expect((await publicPost(`/api/events/${waitlisted}/registrations/cancel`, { token: seated.token }).expect(200)).body).toEqual({
      status: 'cancelled',
    });
    expect((await request(stack.baseUrl).get(`/api/events/${waitlisted}/tickets/${secondTicket.token}`)).body).toEqual(
      expect.objectContaining({ status: 'valid' }),
    );
    expect((await request(stack.baseUrl).get(`/api/events/${waitlisted}/tickets/${seated.token}`)).body).toEqual(
      expect.objectContaining({ status: 'revoked' }),
    );
    const waitingRows = await db().dataSource.query<{ phone: string; status: string }[]>(
      'SELECT phone, status FROM event_registrations WHERE event_id = ? ORDER BY id',
      [waitlisted],
    );
    expect(waitingRows.map((r) => r.status)).toEqual(['cancelled', 'registered', 'waitlisted']);
    await scan(waitlisted, secondTicket.token, { gate: 'A' }).expect(200);
    // The cancelled ticket is refused at the gate as revoked; the person may register again (a new ticket, on the waitlist now).
    expect(errorOf(await scan(waitlisted, seated.token).expect(409)).code).toBe('ticket_revoked');
    stack.clock.advance(60_000);
    expect(errorOf(await register(waitlisted, '13600000001').expect(409)).details).toEqual(
      expect.objectContaining({ waitlisted: true, position: 2 }),
    );
  });

  it('checks a ticket in once: forged, malformed, revoked, other-event and expired tickets each refused with their code', async () => {
    await start();
    const id = await createEvent();
    const other = await createEvent({ name: '另一场活动' });
    const ticket = ticketOf(await register(id, '13800138000').expect(201));
    const otherTicket = ticketOf(await register(other, '13800138001').expect(201));
    const cancelled = ticketOf(await register(id, '13800138002').expect(201));
    await publicPost(`/api/events/${id}/registrations/cancel`, { token: cancelled.token }).expect(200);

    const parts = ticket.token.split('.');
    const flipped = parts[3][0] === 'A' ? 'B' : 'A';
    const forged = [...parts.slice(0, 3), flipped + parts[3].slice(1)].join('.');
    expect(errorOf(await scan(id, forged).expect(400)).code).toBe('invalid_ticket');
    // Another registration's id under this ticket's signature: the HMAC covers the ids.
    expect(errorOf(await scan(id, [parts[0], String(Number(parts[1]) + 1), parts[2], parts[3]].join('.')).expect(400)).code).toBe(
      'invalid_ticket',
    );
    expect(errorOf(await scan(id, 'not-a-ticket').expect(400)).code).toBe('invalid_ticket');
    expect(errorOf(await scan(id, otherTicket.token).expect(409)).code).toBe('wrong_event');
    expect(errorOf(await scan(id, cancelled.token).expect(409)).code).toBe('ticket_revoked');

    const ok = (await scan(id, ticket.token, { gate: 'east' }).expect(200)).body as object;
    expect(ok).toEqual({
      status: 'checked_in',
      registrationId: Number(parts[1]),
      gate: 'east',
      checkedInAt: stack.clock.now().toISOString(),
      benefit: { kind: 'gift', description: '定制帆布袋' },
    });
    const again = errorOf(await scan(id, ticket.token, { gate: 'west' }).expect(409));
    expect(again).toEqual(
      expect.objectContaining({ code: 'already_checked_in', details: { gate: 'east', checkedInAt: stack.clock.now().toISOString() } }),
    );
    const [reg] = await db().dataSource.query<{ contact_id: number }[]>('SELECT contact_id FROM event_registrations WHERE id = ?', [
      Number(parts[1]),
    ]);
    const types = await db().dataSource.query<{ type: string; ref_id: string }[]>(
      'SELECT type, ref_id FROM interactions WHERE contact_id = ? ORDER BY id',
      [reg.contact_id],
    );
    expect(types).toEqual([
      { type: 'registration', ref_id: String(id) },
      { type: 'checkin', ref_id: String(id) },
    ]);
    expect((await request(stack.baseUrl).get(`/api/events/${id}/tickets/${ticket.token}`)).body).toEqual(
      expect.objectContaining({ status: 'checked_in' }),
    );

    const late = ticketOf(await register(other, '13800138003').expect(201));
    stack.clock.advance(57 * HOUR);
    expect(errorOf(await scan(other, late.token).expect(409)).code).toBe('ticket_expired');
  });

  it('two gates scanning one ticket at once check it in once; the losers get already_checked_in with the first gate and time', async () => {
    await start();
    const id = await createEvent();
    const ticket = ticketOf(await register(id, '13800138000').expect(201));
    const gates = ['A', 'B', 'C', 'D', 'A', 'B', 'C', 'D'];
    const answers = await Promise.all(gates.map((gate, i) => scan(id, ticket.token, { gate, nonce: `race-nonce-${i}` })));
    const winners = answers.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    const won = winners[0].body as { gate: string; checkedInAt: string };
    const losers = answers.filter((r) => r.status !== 200);
    expect(losers.map((r) => r.status)).toEqual(Array.from({ length: 7 }, () => 409));
    for (const loser of losers)
      expect(errorOf(loser)).toEqual(
        expect.objectContaining({ code: 'already_checked_in', details: { gate: won.gate, checkedInAt: won.checkedInAt } }),
      );
    const [{ n }] = await db().dataSource.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM event_checkins WHERE event_id = ?', [
      id,
    ]);
    expect(Number(n)).toBe(1);
    expect((await adminGet(`/api/admin/events/${id}/headcount`).expect(200)).body).toEqual({
      total: 1,
      byGate: [{ gate: won.gate, count: 1 }],
    });
  });

  it('a retried scan (same nonce) gets the first answer again, also when sent twice at once, and a refusal is replayed as it was', async () => {
    await start();
    const id = await createEvent();
    const ticket = ticketOf(await register(id, '13800138000').expect(201));
    const first = await scan(id, ticket.token, { gate: 'A', nonce: 'phone1-scan-0001' }).expect(200);
    stack.clock.advance(60_000);
    const retried = await scan(id, ticket.token, { gate: 'A', nonce: 'phone1-scan-0001' }).expect(200);
    expect(retried.body).toEqual(first.body);
    // Another phone scanning the ticket later is refused; its own retry is refused the same way.
    const refused = await scan(id, ticket.token, { gate: 'B', nonce: 'phone2-scan-0001' }).expect(409);
    expect((await scan(id, ticket.token, { gate: 'B', nonce: 'phone2-scan-0001' }).expect(409)).body).toEqual(refused.body);
    // A forged ticket's nonce keeps its refusal.
    expect(errorOf(await scan(id, 'garbage', { nonce: 'phone3-scan-0001' }).expect(400)).code).toBe('invalid_ticket');
    expect(errorOf(await scan(id, 'garbage', { nonce: 'phone3-scan-0001' }).expect(400)).code).toBe('invalid_ticket');

    const second = ticketOf(await register(id, '13800138001').expect(201));
    const twice = await Promise.all([
      scan(id, second.token, { gate: 'C', nonce: 'offline-queue-0042' }),
      scan(id, second.token, { gate: 'C', nonce: 'offline-queue-0042' }),
    ]);
    expect(twice.map((r) => r.status)).toEqual([200, 200]);
    expect(twice[0].body).toEqual(twice[1].body);
    const interactions = await db().dataSource.query<{ n: number | string }[]>(
      "SELECT COUNT(*) AS n FROM interactions WHERE type = 'checkin'",
    );
    expect(Number(interactions[0].n)).toBe(2);
    expect((await adminGet(`/api/admin/events/${id}/headcount`).expect(200)).body).toEqual({
      total: 2,
      byGate: [
        { gate: 'A', count: 1 },
        { gate: 'C', count: 1 },
      ],
    });
  });

  it('walk-ins register and check in in one step; the benefit is recorded; a follower is sent the venue navigation through the outbox', async () => {
    await start();
    const id = await createEvent();
    const walkIn = await adminPost(`/api/admin/events/${id}/walk-ins`, {
      answers: answers('13500135000'),
      gate: 'south',
      nonce: 'walkin-0001',
    }).expect(201);
    expect(walkIn.body).toEqual({ registrationId: expect.any(Number) as number, status: 'checked_in' });
    expect(
      (
        await adminPost(`/api/admin/events/${id}/walk-ins`, {
          answers: answers('13500135000'),
          gate: 'south',
          nonce: 'walkin-0001',
        }).expect(201)
      ).body,
    ).toEqual(walkIn.body);
    expect(errorOf(await adminPost(`/api/admin/events/${id}/walk-ins`, { answers: answers('13500135000') }).expect(409)).code).toBe(
      'already_checked_in',
    );
    expect(errorOf(await adminPost(`/api/admin/events/${id}/walk-ins`, { answers: { name: '韩梅梅' } }).expect(400)).details).toEqual({
      fields: { phone: '请填写手机号', company: '请填写公司' },
    });
    const [checkin] = await db().dataSource.query<{ benefit: unknown; gate: string }[]>('SELECT benefit, gate FROM event_checkins');
    expect(checkin.gate).toBe('south');
    expect(typeof checkin.benefit === 'string' ? JSON.parse(checkin.benefit) : checkin.benefit).toEqual({
      kind: 'gift',
      description: '定制帆布袋',
    });

    // A registrant whose contact follows the Official Account (as the H5 page's web OAuth would tell).
    const res = await register(id, '13800138000').expect(201);
    const [reg] = await db().dataSource.query<{ contact_id: number }[]>('SELECT contact_id FROM event_registrations WHERE id = ?', [
      (res.body as { registrationId: number }).registrationId,
    ]);
    await db().dataSource.query(
      "INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES (?, 'oa_openid', ?, ?, ?)",
      [reg.contact_id, stack.config.officialAccount.appId, 'o-follower-1', '2026-12-01 00:00:00.000'],
    );
    await scan(id, ticketOf(res).token, { gate: 'north' }).expect(200);
    const sends = await db().dataSource.query<{ channel: string; contact_id: number; purpose: string; payload: string }[]>(
      'SELECT channel, contact_id, purpose, payload FROM outbox_messages',
    );
    expect(sends).toHaveLength(1);
    expect(sends[0]).toEqual(expect.objectContaining({ channel: 'oa_custom', purpose: 'transactional' }));
    expect(Number(sends[0].contact_id)).toBe(Number(reg.contact_id));
    const content = (JSON.parse(sends[0].payload) as { text: { content: string } }).text.content;
    expect(content).toContain(
      '场馆导航：国家会展中心 上海市青浦区崧泽大道333号 https://apis.map.qq.com/uri/v1/marker?marker=coord:31.19,121.3',
    );
    expect(content).toContain('定制帆布袋');
    expect((await adminGet(`/api/admin/events/${id}/headcount`).expect(200)).body).toEqual({
      total: 2,
      byGate: [
        { gate: 'north', count: 1 },
        { gate: 'south', count: 1 },
      ],
    });
    const page = (await adminGet(`/api/admin/events/${id}/registrations?limit=1`).expect(200)).body as {
      items: { checkedIn: object | null }[];
      nextBefore: number | null;
    };
    expect(page.items).toHaveLength(1);
    expect(page.items[0].checkedIn).toEqual({ gate: 'north', at: expect.any(String) as string });
    expect(page.nextBefore).not.toBeNull();
  });

  it('verifies the phone by SMS when the event asks: the code goes through the outbox (sms), a wrong code is refused, the right one registers', async () => {
    await start();
    const plain = await createEvent();
    expect(errorOf(await publicPost(`/api/events/${plain}/sms-codes`, { phone: '13800138000' }).expect(409)).code).toBe(
      'sms_verification_off',
    );
    const id = await createEvent({ smsVerification: true });
    await publicPost(`/api/events/${id}/sms-codes`, { phone: '138 0013 8000' }).expect(202);
    const [row] = await db().dataSource.query<{ channel: string; payload: string; purpose: string }[]>(
      'SELECT channel, payload, purpose FROM outbox_messages',
    );
    expect(row).toEqual(expect.objectContaining({ channel: 'sms', purpose: 'transactional' }));
    const payload = JSON.parse(row.payload) as { templateId: string; params: string[] };
    expect(payload.templateId).toBe('1400001');
    const code = payload.params[0];
    expect(code).toMatch(/^\d{6}$/);
    const [stored] = await db().dataSource.query<{ code_hash: string }[]>('SELECT code_hash FROM event_sms_codes');
    expect(stored.code_hash).not.toContain(code);
    expect(errorOf(await register(id, '13800138000').expect(400)).code).toBe('sms_code_invalid');
    const wrong = code === '000000' ? '000001' : '000000';
    expect(errorOf(await register(id, '13800138000', { smsCode: wrong }).expect(400)).code).toBe('sms_code_invalid');
    await register(id, '13800138000', { smsCode: code }).expect(201);
    // Used up.
    expect(errorOf(await register(id, '13800138001', { smsCode: code }).expect(400)).code).toBe('sms_code_invalid');
  });

  it('rate limits the public API per phone and per IP across the instance (429 rate_limited with retryAfterSeconds)', async () => {
    await start({ EVENT_RATE_PER_PHONE: '2', EVENT_RATE_PER_IP: '6' });
    const id = await createEvent();
    await register(id, '13800138000').expect(201);
    await register(id, '13800138000').expect(409);
    const limited = errorOf(await register(id, '13800138000').expect(429));
    expect(limited.code).toBe('rate_limited');
    expect(limited.details?.retryAfterSeconds).toBeGreaterThan(0);
    // Another phone from the same IP goes on until the IP's limit (6 calls in the window).
    await register(id, '13800138001').expect(201);
    await register(id, '13800138002').expect(201);
    await register(id, '13800138003').expect(201);
    expect(errorOf(await register(id, '13800138004').expect(429)).code).toBe('rate_limited');
    // The window ends.
    stack.clock.advance(11 * 60_000);
    await register(id, '13800138004').expect(201);
  });
  it('lets a burst of phones behind one address register up to the IP limit, none refused early', async () => {
    // A venue's phones share its Wi-Fi address: 40 of them at once, under a limit of 50.
    await start({ EVENT_RATE_PER_IP: '50' });
    const id = await createEvent();
    const phones = Array.from({ length: 40 }, (_, n) => `1380013${String(n).padStart(4, '0')}`);
    const answered = await Promise.all(phones.map((phone) => register(id, phone)));
    expect(answered.map((res) => res.status)).toEqual(phones.map(() => 201));
    const [{ n }] = await db().dataSource.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM event_registrations');
    expect(Number(n)).toBe(40);
  });

  it('keeps the rate limits and the ticket key across instances: both are in the database', async () => {
    await start({ EVENT_RATE_PER_PHONE: '3' });
    const id = await createEvent();
    const other = await startTestStack({ dataSource: secondInstance() }, { EVENT_RATE_PER_PHONE: '3' });
    try {
      const here = (phone: string) => register(id, phone);
      const there = (phone: string) =>
        request(other.baseUrl)
          .post(`/api/events/${id}/registrations`)
          .send({ answers: answers(phone), consent: true });
      await here('13800138000').expect(201);
      // The second instance signs with the same key (kept in the database): the phone is registered there too.
      await there('13800138000').expect(409);
      await here('13800138000').expect(409);
      expect(errorOf(await there('13800138000').expect(429)).code).toBe('rate_limited');
      expect(errorOf(await here('13800138000').expect(429)).code).toBe('rate_limited');
      // No TICKET_SECRET: the key made on first use is kept in the database, so a ticket one instance issued scans at the other.
      const issuedHere = ticketOf(await here('13900139000').expect(201));
      await request(other.baseUrl)
        .post(`/api/admin/events/${id}/checkins`)
        .set('authorization', `Bearer ${admin}`)
        .send({ token: issuedHere.token, gate: 'B' })
        .expect(200);
      // Two instances scanning one ticket at once: one check-in, the other answer is already_checked_in.
      const both = ticketOf(await here('13700137000').expect(201));
      const scans = await Promise.all(
        [stack.baseUrl, other.baseUrl, stack.baseUrl, other.baseUrl].map((base, i) =>
          request(base)
            .post(`/api/admin/events/${id}/checkins`)
            .set('authorization', `Bearer ${admin}`)
            .send({ token: both.token, gate: `G${i}`, nonce: `instances-${i}-nonce` }),
        ),
      );
      expect(scans.map((a) => a.status).sort()).toEqual([200, 409, 409, 409]);
      for (const a of scans.filter((x) => x.status === 409)) expect(errorOf(a).code).toBe('already_checked_in');
    } finally {
      await other.close();
    }
  });

  it('counts invitation-page visits once per visitor with the channel it came through', async () => {
    await start();
    const id = await createEvent();
    await publicPost(`/api/events/${id}/visits`, { visitorId: 'visitor-0001', channelId: 7 }).expect(204);
    await publicPost(`/api/events/${id}/visits`, { visitorId: 'visitor-0001', channelId: 8 }).expect(204);
    await publicPost(`/api/events/${id}/visits`, { visitorId: 'visitor-0002' }).expect(204);
    expect(errorOf(await publicPost(`/api/events/${id}/visits`, { visitorId: 'x' }).expect(400)).code).toBe('bad_request');
    expect(errorOf(await publicPost('/api/events/99999/visits', { visitorId: 'visitor-0003' }).expect(404)).code).toBe('event_not_found');
    const visits = await db().dataSource.query<{ visitor_id: string; channel_id: number | null }[]>(
      'SELECT visitor_id, channel_id FROM event_visits WHERE event_id = ? ORDER BY visitor_id',
      [id],
    );
    expect(visits.map((v) => [v.visitor_id, v.channel_id === null ? null : Number(v.channel_id)])).toEqual([
      ['visitor-0001', 7],
      ['visitor-0002', null],
    ]);
  });

  // A paid registration's refund on cancel: test/e2e/exhibitions/paid-tickets.test.ts.
  it('refuses to cancel a used ticket', async () => {
    await start();
    const id = await createEvent();
    const used = ticketOf(await register(id, '13800138001').expect(201));
    await scan(id, used.token).expect(200);
    expect(errorOf(await publicPost(`/api/events/${id}/registrations/cancel`, { token: used.token }).expect(409)).code).toBe(
      'already_checked_in',
    );
  });
});
