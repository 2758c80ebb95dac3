import request from 'supertest';
import { signVisitorCookie } from '../../../server/modules/visitors/visitor-tokens';
import { loadVisitorSecret } from '../../../server/modules/visitors/visitors.service';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 10:00 in Shanghai: daytime, and a local day that ends at 16:00 UTC. */
const MORNING = new Date('2026-12-07T02:00:00Z');

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
interface CloudItem {
  code: string;
  title: string;
  kind: string;
  summary: string | null;
  cover: string | null;
  url: string;
}
interface PublicCloud {
  event: { id: number; name: string; startsAt: string; endsAt: string };
  sections: Record<'materials' | 'products' | 'cases', CloudItem[]>;
}
interface AdminCloud {
  items: { materialId: number; section: string; position: number; title: string; status: string }[];
  visitors: number;
  consults: number;
}

describeEachDatabase('the cloud exhibition: its materials, visits and online consult', (db) => {
  let stack: TestStack;
  let admin: string;

  const start = async (env: NodeJS.ProcessEnv = {}) => {
    stack = await startTestStack(db(), env, { platformTimeoutMs: 15_000 });
    stack.clock.set(MORNING);
    const s = stack.services;
    for (const [username, role, wecomUserId] of [
      ['admin', 'admin', null],
      ['rep', 'sales', 'rep_li'],
    ] as const) {
      const created = await s.operators.createOperator({
        username,
        password: 'password-for-tests-1',
        role,
        wecomUserId,
        actor: { operatorId: null, ip: null },
      });
      if (!created.ok) throw new Error(created.reason);
    }
    const login = await s.operators.login({ username: 'admin', password: 'password-for-tests-1', ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    admin = login.token;
  };
  const asAdmin = () => ({
    get: (path: string) => request(stack.baseUrl).get(path).set('authorization', `Bearer ${admin}`),
    post: (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${admin}`).send(body),
    put: (path: string, body: object) => request(stack.baseUrl).put(path).set('authorization', `Bearer ${admin}`).send(body),
  });
  const errorOf = (res: request.Response) => (res.body as ErrorBody).error;
  const createEvent = async (): Promise<number> => {
    const now = stack.clock.now().getTime();
    const res = await asAdmin()
      .post('/api/admin/events', {
        name: '2026 智能制造展',
        venue: { address: '上海市青浦区崧泽大道333号' },
        startsAt: new Date(now - 2 * HOUR).toISOString(),
        endsAt: new Date(now + 6 * HOUR).toISOString(),
        capacity: 100,
        registrationDeadline: new Date(now - 3 * HOUR).toISOString(),
        fields: [],
        benefit: null,
      })
      .expect(201);
    return (res.body as { id: number }).id;
  };
  const createMaterial = async (title: string, kind = 'article'): Promise<{ id: number; code: string }> =>
    (
      await asAdmin()
        .post('/api/admin/content', { kind, title, summary: `${title}的简介`, body: kind === 'article' ? '正文' : undefined })
        .expect(201)
    ).body as { id: number; code: string };
  /** A visitor cookie as web OAuth leaves it (signed with the stack's visitor key). */
  const visitorCookie = async (contactId: number): Promise<string> => {
    const secret = await loadVisitorSecret({ dataSource: db().dataSource, clock: stack.clock, configured: stack.config.visitors.secret });
    return `fw_visitor=${signVisitorCookie({ secret, contactId, nowSeconds: Math.floor(stack.clock.now().getTime() / 1000) })}`;
  };
  const newContact = async (openid: string): Promise<number> =>
    stack.services.transactor.run(async (m) => {
      const { contactId } = await stack.services.contacts.resolveContact(m, {
        kind: 'oa_openid',
        appId: stack.config.officialAccount.appId,
        value: openid,
      });
      return contactId;
    });
  const interactionsOf = (type: string) =>
    db().dataSource.query<{ contact_id: number | string; ref_type: string; ref_id: string; detail: unknown; direction: string }[]>(
      'SELECT contact_id, ref_type, ref_id, detail, direction FROM interactions WHERE type = ? ORDER BY id',
      [type],
    );
  const detailOf = (detail: unknown): Record<string, unknown> =>
    (typeof detail === 'string' ? JSON.parse(detail) : detail) as Record<string, unknown>;

  afterEach(async () => {
    await stack.close();
  });

  jest.setTimeout(90_000);

  it('the operator picks materials per section (validated, audited); the page lists the live ones with tracked links that attribute the view to the event', async () => {
    await start();
    const eventId = await createEvent();
    const brochure = await createMaterial('产品手册');
    const machine = await createMaterial('五轴加工中心', 'image');
    const story = await createMaterial('客户案例：某汽车厂');
    const archived = await createMaterial('旧资料');
    await asAdmin().post(`/api/admin/content/${archived.id}/archive`, {}).expect(200);

    // An unknown and an archived material, a material twice, a section that does not exist.
    const unknown = await asAdmin()
      .put(`/api/admin/events/${eventId}/cloud`, {
        items: [
          { materialId: brochure.id, section: 'materials' },
          { materialId: 999_999, section: 'materials' },
          { materialId: archived.id, section: 'cases' },
        ],
      })
      .expect(400);
    expect((errorOf(unknown).details as { path: string; code: string }[]).map((d) => [d.path, d.code])).toEqual([
      ['items.1.materialId', 'cloud_material_unknown'],
      ['items.2.materialId', 'cloud_material_unknown'],
    ]);
    const twice = await asAdmin()
      .put(`/api/admin/events/${eventId}/cloud`, {
        items: [
          { materialId: brochure.id, section: 'materials' },
          { materialId: brochure.id, section: 'products' },
        ],
      })
      .expect(400);
    expect((errorOf(twice).details as { code: string }[]).map((d) => d.code)).toEqual(['cloud_material_twice']);
    await asAdmin()
      .put(`/api/admin/events/${eventId}/cloud`, { items: [{ materialId: brochure.id, section: 'videos' }] })
      .expect(400);
    await asAdmin().put('/api/admin/events/99999/cloud', { items: [] }).expect(404);

    const saved = await asAdmin()
      .put(`/api/admin/events/${eventId}/cloud`, {
        items: [
          { materialId: story.id, section: 'cases' },
          { materialId: machine.id, section: 'products' },
          { materialId: brochure.id, section: 'materials' },
        ],
      })
      .expect(200);
    expect((saved.body as AdminCloud).items.map((i) => [i.section, i.materialId, i.position])).toEqual([
      ['materials', brochure.id, 0],
      ['products', machine.id, 0],
      ['cases', story.id, 0],
    ]);
    const audit = await db().dataSource.query<{ action: string; target_id: string | number; detail: unknown }[]>(
      "SELECT action, target_id, detail FROM audit_log WHERE action = 'event.cloud_update'",
    );
    expect(audit).toHaveLength(1);
    expect(String(audit[0].target_id)).toBe(String(eventId));
    expect(detailOf(audit[0].detail)).toEqual(expect.objectContaining({ 'after.cases': String(story.id) }));

    // A sales rep reads, never writes.
    const repLogin = await stack.services.operators.login({ username: 'rep', password: 'password-for-tests-1', ip: '127.0.0.1' });
    if (!repLogin.ok) throw new Error(repLogin.reason);
    const rep = (r: request.Test) => r.set('authorization', `Bearer ${repLogin.token}`);
    await rep(request(stack.baseUrl).get(`/api/admin/events/${eventId}/cloud`)).expect(200);
    await rep(request(stack.baseUrl).put(`/api/admin/events/${eventId}/cloud`).send({ items: [] })).expect(403);

    // Archived after being picked: the page leaves it out; the panel keeps it, marked.
    await asAdmin().post(`/api/admin/content/${machine.id}/archive`, {}).expect(200);
    const panel = (await asAdmin().get(`/api/admin/events/${eventId}/cloud`).expect(200)).body as AdminCloud;
    expect(panel.items.find((i) => i.materialId === machine.id)?.status).toBe('archived');

    const cloud = (await request(stack.baseUrl).get(`/api/events/${eventId}/cloud?ch=7`).expect(200)).body as PublicCloud;
    expect(cloud.event).toEqual(expect.objectContaining({ id: eventId, name: '2026 智能制造展' }));
    expect(cloud.sections.products).toEqual([]);
    expect(cloud.sections.cases.map((i) => i.title)).toEqual(['客户案例：某汽车厂']);
    expect(cloud.sections.materials).toEqual([
      {
        code: brochure.code,
        title: '产品手册',
        kind: 'article',
        summary: '产品手册的简介',
        cover: null,
        url: `${stack.config.publicBaseUrl}/c/${brochure.code}?ch=7&ev=${eventId}`,
      },
    ]);
    await request(stack.baseUrl).get('/api/events/99999/cloud').expect(404);
    await request(stack.baseUrl).get('/api/events/abc/cloud').expect(404);

    // A known reader opens the link: a content view whose detail names the event (the ref stays the material).
    const reader = await newContact('o_cloud_reader');
    const link = new URL(cloud.sections.materials[0].url);
    await request(stack.baseUrl)
      .get(`${link.pathname}${link.search}`)
      .set('Cookie', await visitorCookie(reader))
      .expect(200);
    const views = await interactionsOf('content_view');
    expect(views).toHaveLength(1);
    expect(Number(views[0].contact_id)).toBe(reader);
    expect([views[0].ref_type, views[0].ref_id]).toEqual(['content', String(brochure.id)]);
    expect(detailOf(views[0].detail)).toEqual(expect.objectContaining({ contentId: brochure.id, eventId }));
    // An `ev` naming no event is left out, never an error.
    await request(stack.baseUrl)
      .get(`/c/${brochure.code}?ev=99999`)
      .set('Cookie', await visitorCookie(reader))
      .expect(200);
    expect(detailOf((await interactionsOf('content_view'))[1].detail).eventId).toBeUndefined();
  });

  it('a known visitor’s visit is an event_cloud_visit once a day; an unknown visitor is counted only', async () => {
    await start();
    const eventId = await createEvent();
    const known = await newContact('o_cloud_visitor');
    const cookie = await visitorCookie(known);
    const visit = (visitorId: string, withCookie: boolean) => {
      const req = request(stack.baseUrl).post(`/api/events/${eventId}/cloud/visits`);
      return (withCookie ? req.set('Cookie', cookie) : req).send({ visitorId, channelId: null });
    };

    expect((await visit('anonymous-visitor-1', false).expect(200)).body).toEqual({ known: false });
    expect((await visit('known-visitor-1', true).expect(200)).body).toEqual({ known: true });
    await visit('known-visitor-1', true).expect(200);
    stack.clock.advance(5 * HOUR); // 15:00 in Shanghai: the same local day
    await visit('known-visitor-1', true).expect(200);
    let recorded = await interactionsOf('event_cloud_visit');
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toEqual(expect.objectContaining({ ref_type: 'event', ref_id: String(eventId), direction: 'in' }));
    expect(Number(recorded[0].contact_id)).toBe(known);

    stack.clock.advance(DAY);
    await visit('known-visitor-1', true).expect(200);
    recorded = await interactionsOf('event_cloud_visit');
    expect(recorded).toHaveLength(2);

    const panel = (await asAdmin().get(`/api/admin/events/${eventId}/cloud`).expect(200)).body as AdminCloud;
    expect(panel.visitors).toBe(2);
    await request(stack.baseUrl).post('/api/events/99999/cloud/visits').send({ visitorId: 'anonymous-visitor-1' }).expect(404);
    await request(stack.baseUrl).post(`/api/events/${eventId}/cloud/visits`).send({ visitorId: 'x' }).expect(400);
  });

  it('a consult is on the contact’s timeline and reaches a rep by one WeCom app message naming the event and the question', async () => {
    await start({ EVENT_RATE_PER_IP: '9', EVENT_RATE_PER_PHONE: '2' });
    const eventId = await createEvent();
    const consult = (body: object, cookie?: string) => {
      const req = request(stack.baseUrl).post(`/api/events/${eventId}/consults`);
      return (cookie ? req.set('Cookie', cookie) : req).send(body);
    };

    // Bad input: no message, a message too long, no phone from an unknown visitor, a phone that is not one.
    const empty = errorOf(await consult({ message: '  ', phone: '13800138000' }).expect(400));
    expect([empty.code, (empty.details as { fields: Record<string, string> }).fields.message]).toEqual([
      'validation_failed',
      '请填写咨询内容',
    ]);
    const long = errorOf(await consult({ message: '问'.repeat(501), phone: '13800138000' }).expect(400));
    expect(Object.keys((long.details as { fields: object }).fields)).toEqual(['message']);
    const noPhone = errorOf(await consult({ message: '设备多少钱？' }).expect(400));
    expect(Object.keys((noPhone.details as { fields: object }).fields)).toEqual(['phone']);
    expect(errorOf(await consult({ message: '设备多少钱？', phone: '12345' }).expect(400)).code).toBe('validation_failed');
    await request(stack.baseUrl).post('/api/events/99999/consults').send({ message: '你好', phone: '13800138000' }).expect(404);

    // By phone: the contact is found or created by it, as a registration does.
    const answer = await consult({ message: '五轴加工中心的报价和交期？', phone: '138 0013 8000', name: '韩梅梅' }).expect(201);
    const consulted = answer.body as { consultId: string; assigned: boolean };
    expect(consulted.consultId).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(consulted.assigned).toBe(true);
    const [contact] = await db().dataSource.query<{ id: number | string; name: string; phone: string }[]>(
      'SELECT c.id, c.name, c.phone FROM contacts c JOIN contact_identities i ON i.contact_id = c.id WHERE i.kind = ? AND i.value = ?',
      ['phone', '+8613800138000'],
    );
    expect([contact.name, contact.phone]).toEqual(['韩梅梅', '+8613800138000']);
    const consults = await interactionsOf('event_consult');
    expect(consults).toHaveLength(1);
    expect(Number(consults[0].contact_id)).toBe(Number(contact.id));
    expect([consults[0].ref_type, consults[0].ref_id, consults[0].direction]).toEqual(['event', String(eventId), 'in']);
    expect(detailOf(consults[0].detail)).toEqual(expect.objectContaining({ eventId, message: '五轴加工中心的报价和交期？' }));
    const assignments = await db().dataSource.query<{ contact_id: number | string; user_id: string; reason: string }[]>(
      'SELECT contact_id, user_id, reason FROM sales_assignments',
    );
    expect(assignments.map((a) => [Number(a.contact_id), a.user_id, a.reason])).toEqual([
      [Number(contact.id), 'rep_li', `consult:${eventId}`],
    ]);
    await stack.services.queue.runOnce({ handlers: stack.services.sales.handlers() });
    const sent = stack.sandbox.state.callsTo('message/send').map((call) => call.body as { touser: string; text: { content: string } });
    expect(sent).toHaveLength(1);
    expect(sent[0].touser).toBe('rep_li');
    expect(sent[0].text.content).toContain('2026 智能制造展');
    expect(sent[0].text.content).toContain('五轴加工中心的报价和交期？');
    expect(sent[0].text.content).toContain('韩梅梅');

    // Known through web OAuth: no phone needed, the visitor's own contact; a second consult is a second hand-over.
    const visitor = await newContact('o_cloud_consult');
    await consult({ message: '想预约线上演示' }, await visitorCookie(visitor)).expect(201);
    const all = await interactionsOf('event_consult');
    expect(all.map((c) => Number(c.contact_id))).toEqual([Number(contact.id), visitor]);
    expect(await db().dataSource.query('SELECT id FROM sales_assignments')).toHaveLength(2);

    // The panel counts them; the per-phone limit (2) then the per-IP one (9, the 400s and 404 counted too) answer 429.
    expect(((await asAdmin().get(`/api/admin/events/${eventId}/cloud`).expect(200)).body as AdminCloud).consults).toBe(2);
    await consult({ message: '再问一次', phone: '13800138000' }).expect(201);
    const perPhone = errorOf(await consult({ message: '还有问题', phone: '13800138000' }).expect(429));
    expect(perPhone.code).toBe('rate_limited');
    expect((perPhone.details as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
    expect(errorOf(await consult({ message: '换个号码', phone: '13900139000' }).expect(429)).code).toBe('rate_limited');
  });
});
