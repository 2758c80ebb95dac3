import request from 'supertest';
import { describeEachDatabase } from '../../support/database';
import { loginMiniProgram, signInAdmin, startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 in Shanghai. */
const DAYTIME = new Date('2026-12-07T02:00:00.000Z');
const HOUR = 3_600_000;

/**
 * Issue 15 §1: a mini-program code (getwxacodeunlimit, scene `ch:<id>`) opens the mini-program
 * with its scene URL-encoded; the mini-program reports it once per launch through
 * POST /api/mp/channel-visits, and the visit is attributed as an H5 `?ch=` visit is: a touch row,
 * the first touch, the channel's tags. The answer names the channel's event, and a registration
 * from there carries the channel.
 */
describeEachDatabase('mini-program: visits through a channel code', (db) => {
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
  const settle = async () => {
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    await stack.services.reactions.idle();
  };
  const mpLogin = () => loginMiniProgram(stack);
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

  it('attributes a launch through a mini-program code: touch row, first touch and tags once per launch; the event opens and its registration carries the channel', async () => {
    const s = stack.services;
    const tagId = (await s.transactor.run((m) => s.contactTags.ensureTag(m, { group: '渠道', name: '小程序码' }))).id;
    const eventId = await createEvent();
    const channel = (
      await as(admin)
        .post('/api/admin/channels', { name: '展位小程序码', kind: 'mp_code', eventId, tags: [tagId], cost: 20 })
        .expect(201)
    ).body as { id: number; scene: string };
    const { token, openid } = await mpLogin();

    // The scene as WeChat hands it to onLaunch: URL-encoded (`ch%3A12`).
    const scene = encodeURIComponent(channel.scene);
    expect(scene).toBe(`ch%3A${channel.id}`);
    const first = await as(token).post('/api/mp/channel-visits', { scene, launchId: 'launch-0001' }).expect(201);
    expect(first.body).toEqual({ channelId: channel.id, eventId });
    // The same launch reporting again (a retry) is one visit; a later launch is another.
    await as(token).post('/api/mp/channel-visits', { scene, launchId: 'launch-0001' }).expect(201);
    await settle();

    const ds = db().dataSource;
    const [contact] = await ds.query<{ id: number | string; first_source: string; last_source: string }[]>(
      "SELECT c.id, c.first_source, c.last_source FROM contacts c JOIN contact_identities i ON i.contact_id = c.id WHERE i.kind = 'mp_openid' AND i.value = ?",
      [openid],
    );
    expect(contact).toMatchObject({ first_source: channel.scene, last_source: channel.scene });
    const touches = await ds.query<{ contact_id: number | string; type: string; new_contact: number | string }[]>(
      'SELECT contact_id, type, new_contact FROM channel_touches WHERE channel_id = ?',
      [channel.id],
    );
    expect(touches.map((t) => ({ contactId: Number(t.contact_id), type: t.type, newContact: Number(t.new_contact) }))).toEqual([
      { contactId: Number(contact?.id), type: 'channel_visit', newContact: 1 },
    ]);
    const tags = await ds.query<{ tag_id: number | string }[]>('SELECT tag_id FROM contact_tags WHERE contact_id = ?', [contact?.id]);
    expect(tags.map((t) => Number(t.tag_id))).toContain(tagId);
    const stats = ((await as(admin).get(`/api/admin/channels/${channel.id}`).expect(200)).body as { stats: object }).stats;
    expect(stats).toEqual({ scans: 1, newContacts: 1, costPerNewContact: 20 });

    await as(token).post('/api/mp/channel-visits', { scene: channel.scene, launchId: 'launch-0002' }).expect(201);
    await settle();
    const [counted] = await ds.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM channel_touches WHERE channel_id = ?', [
      channel.id,
    ]);
    expect(Number(counted?.n)).toBe(2);

    // The event page the entry opens registers with the channel.
    const registered = await as(token)
      .post(`/api/mp/events/${eventId}/registrations`, {
        answers: { name: '张三', phone: '13800138000' },
        consent: true,
        channelId: channel.id,
      })
      .expect(201);
    const [row] = await ds.query<{ channel_id: number | string | null }[]>('SELECT channel_id FROM event_registrations WHERE id = ?', [
      (registered.body as { registrationId: number }).registrationId,
    ]);
    expect(Number(row?.channel_id)).toBe(channel.id);
  });

  it('answers 404 channel_not_found for a scene that is not ours, and 401 without a session', async () => {
    const { token } = await mpLogin();
    const res = await as(token).post('/api/mp/channel-visits', { scene: 'ch%3A999999', launchId: 'launch-0001' }).expect(404);
    expect((res.body as { error: { code: string } }).error.code).toBe('channel_not_found');
    await as(token).post('/api/mp/channel-visits', { scene: 'promo-2026', launchId: 'launch-0001' }).expect(404);
    await api().post('/api/mp/channel-visits').send({ scene: 'ch%3A1', launchId: 'launch-0001' }).expect(401);
  });
});
