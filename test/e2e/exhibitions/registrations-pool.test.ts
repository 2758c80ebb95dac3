import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { SANDBOX_EVENT_REMINDER_TEMPLATE_ID } from '../../../config/config.schema';
import { cookieHeader, keepCookies } from '../../support/cookie-jar';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 in Shanghai: no quiet hours hold the sends. */
const DAYTIME = new Date('2026-12-07T02:00:00.000Z');
const HOUR = 3_600_000;

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
interface RegistrationItem {
  id: number;
  contactId: number;
  name: string;
  phone: string;
  answers: Record<string, string | number>;
  status: string;
  source: string;
  channelId: number | null;
  channelName: string | null;
  checkedIn: { gate: string; at: string } | null;
}
interface RegistrationPage {
  items: RegistrationItem[];
  next: number | null;
}

/** JSON columns come back parsed on MySQL and as text on SQLite. */
const json = (value: unknown): unknown => (typeof value === 'string' ? (JSON.parse(value) as unknown) : value);

/**
 * Issue 15 §3 and §8, the private pool: inside WeChat the invitation page's visitor (web OAuth,
 * played by the sandbox for a chosen follower from the admin sandbox panel) visits and registers
 * as their own contact, the phone joining their identities; a promoted waitlisted person is told
 * through the outbox; the admin registrations list pages, filters and masks, and cancels (audited).
 */
describeEachDatabase('exhibitions: the private pool', (db) => {
  let stack: TestStack;
  let admin: string;
  let mobileRoot: string;

  const login = async (username: string, role: 'admin' | 'operator' | 'sales'): Promise<string> => {
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

  beforeEach(async () => {
    // The invitation page itself is the built mobile app; its HTML is all the OAuth trip needs here.
    mobileRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-mobile-'));
    fs.writeFileSync(path.join(mobileRoot, 'index.html'), '<!doctype html><html lang="zh-CN"><body>invitation</body></html>');
    stack = await startTestStack(db(), {}, { platformTimeoutMs: 15_000, mobileWebRoot: mobileRoot });
    stack.clock.set(DAYTIME);
    admin = await login('admin', 'admin');
  });
  afterEach(async () => {
    await stack.close();
    fs.rmSync(mobileRoot, { recursive: true, force: true });
  });
  jest.setTimeout(120_000);

  const as = (token: string) => ({
    get: (p: string) => request(stack.baseUrl).get(p).set('authorization', `Bearer ${token}`),
    post: (p: string, body: object = {}) => request(stack.baseUrl).post(p).set('authorization', `Bearer ${token}`).send(body),
  });
  const errorOf = (res: request.Response) => (res.body as ErrorBody).error;
  const createEvent = async (overrides: Record<string, unknown> = {}): Promise<number> => {
    const now = stack.clock.now().getTime();
    const res = await as(admin)
      .post('/api/admin/events', {
        name: '2026 智能制造展',
        venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号' },
        startsAt: new Date(now + 48 * HOUR).toISOString(),
        endsAt: new Date(now + 56 * HOUR).toISOString(),
        capacity: 100,
        registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
        fields: [{ key: 'company', label: '公司', type: 'text', required: false }],
        benefit: null,
        ...overrides,
      })
      .expect(201);
    return (res.body as { id: number }).id;
  };
  const createChannel = async (eventId: number): Promise<number> =>
    ((await as(admin).post('/api/admin/channels', { name: '展会海报', kind: 'h5', eventId }).expect(201)).body as { id: number }).id;
  const contactOf = async (kind: string, value: string): Promise<number | null> => {
    const [row] = await db().dataSource.query<{ contact_id: number | string }[]>(
      'SELECT contact_id FROM contact_identities WHERE kind = ? AND value = ?',
      [kind, value],
    );
    return row ? Number(row.contact_id) : null;
  };
  const interactionsOf = (contactId: number, type: string) =>
    db().dataSource.query<{ detail: unknown; ref_type: string; ref_id: string; direction: string }[]>(
      'SELECT detail, ref_type, ref_id, direction FROM interactions WHERE contact_id = ? AND type = ? ORDER BY id',
      [contactId, type],
    );

  /**
   * The admin sandbox panel's button: this browser (the jar) opens the invitation page as the
   * follower inside "WeChat", through the sandbox's authorize page, and lands identified.
   */
  const openAsFollower = async (openid: string, eventId: number, channelId: number, jar: Map<string, string>): Promise<void> => {
    const start = await request(stack.baseUrl)
      .get(`/api/admin/sandbox/visit?openid=${openid}&eventId=${eventId}&channelId=${channelId}`)
      .set('authorization', `Bearer ${admin}`)
      .set('Cookie', cookieHeader(jar))
      .expect(302);
    keepCookies(start, jar);
    expect(jar.has('fw_visitor')).toBe(false);
    const authorize = new URL(start.headers.location.replace(/#.*$/, ''));
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${stack.sandboxUrl}/sandbox/open/connect/oauth2/authorize`);
    expect(authorize.searchParams.get('openid')).toBe(openid);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${stack.config.publicBaseUrl}/e/${eventId}?ch=${channelId}`);
    const granted = await request(authorize.origin).get(`${authorize.pathname}${authorize.search}`).expect(302);
    const back = new URL(granted.headers.location);
    expect(back.pathname).toBe(`/e/${eventId}`);
    const callback = await request(stack.baseUrl).get(`${back.pathname}${back.search}`).set('Cookie', cookieHeader(jar)).expect(302);
    expect(callback.headers.location).toBe(`/e/${eventId}?ch=${channelId}`);
    keepCookies(callback, jar);
    expect(jar.has('fw_visitor')).toBe(true);
    await request(stack.baseUrl).get(callback.headers.location).set('Cookie', cookieHeader(jar)).expect(200);
  };

  it('a follower opened from the sandbox panel visits (once a day, attributed) and registers as their own contact, which takes the phone', async () => {
    // Registration stays open over the two days the visits are counted on.
    const eventId = await createEvent({ registrationDeadline: new Date(DAYTIME.getTime() + 40 * HOUR).toISOString() });
    const channelId = await createChannel(eventId);
    const { openid } = await stack.player().subscribe();
    await stack.services.reactions.idle();
    const follower = await contactOf('oa_openid', openid);
    expect(follower).not.toBeNull();

    const jar = new Map<string, string>();
    await openAsFollower(openid, eventId, channelId, jar);
    const visit = () =>
      request(stack.baseUrl)
        .post(`/api/events/${eventId}/visits`)
        .set('Cookie', cookieHeader(jar))
        .send({ visitorId: 'visitor-0001', channelId })
        .expect(204);
    await visit();
    await visit();
    // An anonymous visitor is counted, and is on nobody's timeline.
    await request(stack.baseUrl).post(`/api/events/${eventId}/visits`).send({ visitorId: 'visitor-0002', channelId }).expect(204);
    const visits = await interactionsOf(follower!, 'event_visit');
    expect(visits).toHaveLength(1);
    expect(visits[0]).toMatchObject({ ref_type: 'event', ref_id: String(eventId), direction: 'in' });
    expect(json(visits[0].detail)).toEqual({ eventId, channelId });
    const [{ n: allVisits }] = await db().dataSource.query<{ n: number | string }[]>(
      "SELECT COUNT(*) AS n FROM interactions WHERE type = 'event_visit'",
    );
    expect(Number(allVisits)).toBe(1);
    const [{ n: counted }] = await db().dataSource.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM event_visits WHERE event_id = ?',
      [eventId],
    );
    expect(Number(counted)).toBe(2);
    // The next day's visit is a new one.
    stack.clock.set(new Date(DAYTIME.getTime() + 24 * HOUR));
    await visit();
    expect(await interactionsOf(follower!, 'event_visit')).toHaveLength(2);

    const registered = await request(stack.baseUrl)
      .post(`/api/events/${eventId}/registrations`)
      .set('Cookie', cookieHeader(jar))
      .send({ answers: { name: '韩梅梅', phone: '13800000002', company: '飞轮科技' }, consent: true, channelId })
      .expect(201);
    const registrationId = (registered.body as { registrationId: number }).registrationId;
    const [row] = await db().dataSource.query<{ contact_id: number | string }[]>(
      'SELECT contact_id FROM event_registrations WHERE id = ?',
      [registrationId],
    );
    // One contact: the follower's, now holding the phone too.
    expect(Number(row.contact_id)).toBe(follower);
    expect(await contactOf('phone', '+8613800000002')).toBe(follower);
    const [{ n: contacts }] = await db().dataSource.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM contacts WHERE merged_into_id IS NULL',
    );
    expect(Number(contacts)).toBe(1);
    const registrations = await interactionsOf(follower!, 'registration');
    expect(registrations).toHaveLength(1);
    expect(json(registrations[0].detail)).toMatchObject({ eventId, registrationId, channelId });
  });

  it('a phone typed by hand that another contact holds is not merged; one proven by an SMS code merges (the older contact survives)', async () => {
    const eventId = await createEvent();
    const channelId = await createChannel(eventId);
    // Someone registered outside WeChat with the phone first: a contact known by the phone alone.
    await request(stack.baseUrl)
      .post(`/api/events/${await createEvent({ name: '早场' })}/registrations`)
      .send({ answers: { name: '李雷', phone: '13800000003' }, consent: true })
      .expect(201);
    const byPhone = await contactOf('phone', '+8613800000003');
    const { openid } = await stack.player().subscribe();
    await stack.services.reactions.idle();
    const follower = await contactOf('oa_openid', openid);

    const jar = new Map<string, string>();
    await openAsFollower(openid, eventId, channelId, jar);
    const registered = await request(stack.baseUrl)
      .post(`/api/events/${eventId}/registrations`)
      .set('Cookie', cookieHeader(jar))
      .send({ answers: { name: '李雷', phone: '13800000003' }, consent: true })
      .expect(201);
    const [row] = await db().dataSource.query<{ contact_id: number | string }[]>(
      'SELECT contact_id FROM event_registrations WHERE id = ?',
      [(registered.body as { registrationId: number }).registrationId],
    );
    expect(Number(row.contact_id)).toBe(follower);
    expect(await contactOf('phone', '+8613800000003')).toBe(byPhone);

    // The same, on an event that verifies phones by SMS: the code proves it, and the two become one.
    const verified = await createEvent({ name: '闭门会', smsVerification: true });
    await request(stack.baseUrl).post(`/api/events/${verified}/sms-codes`).send({ phone: '13800000003' }).expect(202);
    const [sms] = await db().dataSource.query<{ payload: unknown }[]>(
      "SELECT payload FROM outbox_messages WHERE channel = 'sms' ORDER BY id DESC LIMIT 1",
    );
    const code = (json(sms.payload) as { params: string[] }).params[0];
    await request(stack.baseUrl)
      .post(`/api/events/${verified}/registrations`)
      .set('Cookie', cookieHeader(jar))
      .send({ answers: { name: '李雷', phone: '13800000003' }, consent: true, smsCode: code })
      .expect(201);
    const survivor = Math.min(byPhone!, follower!);
    expect(await contactOf('phone', '+8613800000003')).toBe(survivor);
    expect(await contactOf('oa_openid', openid)).toBe(survivor);
  });

  it('a cancellation that promotes the first waitlisted tells them once, by template message with their ticket link; the sandbox receives it', async () => {
    const eventId = await createEvent({ capacity: 1, waitlist: true });
    const channelId = await createChannel(eventId);
    const first = (
      await request(stack.baseUrl)
        .post(`/api/events/${eventId}/registrations`)
        .send({ answers: { name: '李雷', phone: '13800000001' }, consent: true })
        .expect(201)
    ).body as { ticket: { token: string } };
    // A follower, registered inside WeChat: the waitlist.
    const { openid } = await stack.player().subscribe();
    await stack.services.reactions.idle();
    const jar = new Map<string, string>();
    await openAsFollower(openid, eventId, channelId, jar);
    const waitlisted = await request(stack.baseUrl)
      .post(`/api/events/${eventId}/registrations`)
      .set('Cookie', cookieHeader(jar))
      .send({ answers: { name: '韩梅梅', phone: '13800000002' }, consent: true })
      .expect(409);
    expect(errorOf(waitlisted).details).toMatchObject({ waitlisted: true, position: 1 });
    const promotedId = errorOf(waitlisted).details?.registrationId as number;
    const promotedToken = (errorOf(waitlisted).details?.ticket as { token: string }).token;

    const cancel = () =>
      request(stack.baseUrl).post(`/api/events/${eventId}/registrations/cancel`).send({ token: first.ticket.token }).expect(200);
    await cancel();
    await cancel();
    const rows = await db().dataSource.query<{ dedupe_key: string; channel: string; contact_id: number | string; payload: unknown }[]>(
      "SELECT dedupe_key, channel, contact_id, payload FROM outbox_messages WHERE dedupe_key LIKE 'event-promoted:%'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].dedupe_key).toBe(`event-promoted:${promotedId}`);
    expect(rows[0].channel).toBe('oa_template');
    expect(Number(rows[0].contact_id)).toBe(await contactOf('oa_openid', openid));
    const payload = json(rows[0].payload) as { template_id: string; url: string; data: Record<string, { value: string }> };
    expect(payload.template_id).toBe(SANDBOX_EVENT_REMINDER_TEMPLATE_ID);
    expect(payload.url).toBe(`${stack.config.publicBaseUrl}/e/${eventId}/ticket/${encodeURIComponent(promotedToken)}`);
    expect(payload.data.thing4.value).toBe('候补成功，凭电子票入场');
    const ticket = await request(stack.baseUrl).get(`/api/events/${eventId}/tickets/${promotedToken}`).expect(200);
    expect((ticket.body as { status: string }).status).toBe('valid');

    await stack.services.outboxSender.drain();
    const [sent] = await db().dataSource.query<{ state: string }[]>(
      "SELECT state FROM outbox_messages WHERE dedupe_key LIKE 'event-promoted:%'",
    );
    expect(sent.state).toBe('sent');
    expect(stack.sandbox.state.messages.countByOpenid().get(openid)).toBe(1);
  });

  it('the admin list pages, filters by status and by name, phone or company, masks phones for sales reps; an operator cancels (audited, ticket revoked)', async () => {
    const eventId = await createEvent();
    const register = async (name: string, phone: string, company: string) =>
      (
        await request(stack.baseUrl)
          .post(`/api/events/${eventId}/registrations`)
          .send({ answers: { name, phone, company }, consent: true })
          .expect(201)
      ).body as { registrationId: number; ticket: { token: string } };
    const li = await register('李雷', '13800000001', '飞轮科技');
    await register('韩梅梅', '13800000002', '星河制造');
    await register('王小明', '13900000003', '飞轮科技');
    // A walk-in: registered and checked in at once.
    await as(admin)
      .post(`/api/admin/events/${eventId}/walk-ins`, { answers: { name: '赵四', phone: '13700000004' }, gate: 'north' })
      .expect(201);

    const list = async (query: string, token = admin) =>
      (await as(token).get(`/api/admin/events/${eventId}/registrations?${query}`).expect(200)).body as RegistrationPage;
    // Keyset pages, newest first.
    const seen: string[] = [];
    let after: number | null = null;
    for (let i = 0; i < 10; i++) {
      const page: RegistrationPage = await list(`limit=3${after === null ? '' : `&after=${after}`}`);
      seen.push(...page.items.map((r) => r.name));
      after = page.next;
      if (after === null) break;
    }
    expect(seen).toEqual(['赵四', '王小明', '韩梅梅', '李雷']);

    expect((await list('status=checked_in')).items.map((r) => [r.name, r.checkedIn?.gate])).toEqual([['赵四', 'north']]);
    expect((await list('status=registered')).items.map((r) => r.name)).toEqual(['王小明', '韩梅梅', '李雷']);
    expect((await list(`q=${encodeURIComponent('飞轮')}`)).items.map((r) => r.name)).toEqual(['王小明', '李雷']);
    expect((await list('q=139000')).items.map((r) => r.name)).toEqual(['王小明']);
    expect((await list(`q=${encodeURIComponent('梅梅')}`)).items.map((r) => r.name)).toEqual(['韩梅梅']);
    const full = (await list('q=13800000001')).items[0];
    expect(full.phone).toBe('+8613800000001');
    expect(full.answers.phone).toBe('+8613800000001');

    // A sales rep reads the list with the phones masked, and may not cancel.
    const rep = await login('rep', 'sales');
    const masked = (await list('limit=50', rep)).items.find((r) => r.name === '李雷');
    expect(masked?.phone).not.toContain('13800000001');
    expect(masked?.phone).toMatch(/\*{4}/);
    expect(String(masked?.answers.phone)).toMatch(/\*{4}/);
    // Nor can the rep read a masked phone back by searching its digits.
    expect((await list('q=13800000001', rep)).items).toEqual([]);
    expect((await list(`q=${encodeURIComponent('李雷')}`, rep)).items.map((r) => r.name)).toEqual(['李雷']);
    await as(rep).post(`/api/admin/events/${eventId}/registrations/${li.registrationId}/cancel`).expect(403);

    const operator = await login('ops', 'operator');
    const cancelled = await as(operator).post(`/api/admin/events/${eventId}/registrations/${li.registrationId}/cancel`).expect(200);
    expect(cancelled.body).toEqual({ status: 'cancelled' });
    expect((await list('status=cancelled')).items.map((r) => r.name)).toEqual(['李雷']);
    const ticket = await request(stack.baseUrl).get(`/api/events/${eventId}/tickets/${li.ticket.token}`).expect(200);
    expect((ticket.body as { status: string }).status).toBe('revoked');
    const audit = await db().dataSource.query<{ action: string; target_id: string; detail: unknown }[]>(
      "SELECT action, target_id, detail FROM audit_log WHERE action = 'event.registration_cancel'",
    );
    expect(audit).toHaveLength(1);
    expect(audit[0].target_id).toBe(String(eventId));
    expect(json(audit[0].detail)).toMatchObject({ registrationId: li.registrationId, name: '李雷' });
    // channels.event_id is a foreign key: a channel for an event that does not exist is refused as a field, not a 500.
    const refused = await as(admin).post('/api/admin/channels', { name: '无效渠道', kind: 'h5', eventId: 999_999 }).expect(400);
    expect(errorOf(refused).details).toMatchObject([{ path: 'eventId', code: 'channel_event_unknown' }]);
    // A registration of another event is not found there.
    const other = await createEvent({ name: '另一场' });
    expect(errorOf(await as(admin).post(`/api/admin/events/${other}/registrations/${li.registrationId}/cancel`).expect(404)).code).toBe(
      'registration_not_found',
    );
  });
});
