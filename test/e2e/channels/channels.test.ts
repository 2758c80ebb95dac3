import request from 'supertest';
import type { OperatorRole } from '../../../entities/operator.entity';
import { channelIdFromQuery, channelVisitDraft } from '../../../server/modules/channels/channel-scene';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface Created {
  id: number;
  scene: string;
  url: string | null;
  qrImageUrl: string;
}

describeEachDatabase('channel codes (渠道活码)', (db) => {
  let stack: TestStack;
  let admin: string;
  let tagId: number;

  const signIn = async (username: string, role: OperatorRole) => {
    const password = `${username}-password-1`;
    const created = await stack.services.operators.createOperator({
      username,
      password,
      role,
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username, password, ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    return login.token;
  };
  const api = (token: string) => ({
    get: (path: string) => request(stack.baseUrl).get(path).set('authorization', `Bearer ${token}`),
    png: (path: string) =>
      request(stack.baseUrl)
        .get(path)
        .set('authorization', `Bearer ${token}`)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        }),
    post: (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${token}`).send(body),
    put: (path: string, body: object) => request(stack.baseUrl).put(path).set('authorization', `Bearer ${token}`).send(body),
  });
  const settle = async () => {
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    await stack.services.reactions.idle();
  };

  beforeEach(async () => {
    // The sandbox draws real QR PNGs: on a loaded machine that can pass the stack's 2 s default.
    stack = await startTestStack(db(), {}, { platformTimeoutMs: 15_000 });
    admin = await signIn('admin', 'admin');
    const s = stack.services;
    tagId = (await s.transactor.run((m) => s.contactTags.ensureTag(m, { group: '渠道', name: '展会2026' }))).id;
  });
  afterEach(async () => {
    await stack.close();
  });

  jest.setTimeout(90_000);

  it('creates each kind on the sandbox with the documented request, lists them with stats and serves each as a PNG', async () => {
    const a = api(admin);
    const state = stack.sandbox.state;

    const oa = (
      await a.post('/api/admin/channels', { name: '展会海报', kind: 'oa_qr', cost: 300, tags: [tagId], expireSeconds: 86_400 }).expect(201)
    ).body as Created;
    expect(oa).toEqual({
      id: expect.any(Number) as number,
      scene: `ch:${oa.id}`,
      url: expect.stringMatching(/^http:\/\/weixin\.qq\.com\/q\//) as string,
      qrImageUrl: `/api/admin/channels/${oa.id}/qr.png`,
    });
    expect(state.callsTo('qrcode/create').map((c) => c.body)).toEqual([
      { expire_seconds: 86_400, action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: `ch:${oa.id}` } } },
    ]);
    const permanent = (await a.post('/api/admin/channels', { name: '门店常驻码', kind: 'oa_qr' }).expect(201)).body as Created;
    expect(state.callsTo('qrcode/create')[1]?.body).toEqual({
      action_name: 'QR_LIMIT_STR_SCENE',
      action_info: { scene: { scene_str: `ch:${permanent.id}` } },
    });

    const way = (
      await a
        .post('/api/admin/channels', { name: '销售名片', kind: 'wecom_contact_way', userIds: ['rep-1', 'rep-2'], welcome: '你好' })
        .expect(201)
    ).body as Created;
    expect(state.callsTo('externalcontact/add_contact_way').map((c) => c.body)).toEqual([
      { type: 2, scene: 2, style: 1, skip_verify: true, state: `ch:${way.id}`, user: ['rep-1', 'rep-2'] },
    ]);
    expect(way.url).toMatch(/\/sandbox\/wecom\/contact_way_qr\/[0-9a-f]+\.png$/);
    // The contact way's config_id is kept (to update or delete it on the platform later): the
    // sandbox names its QR after it.
    const configId = /contact_way_qr\/([0-9a-f]+)\.png$/.exec(way.url ?? '')?.[1];
    expect(((await a.get(`/api/admin/channels/${way.id}`).expect(200)).body as { configId: string | null }).configId).toBe(configId);

    const mp = (await a.post('/api/admin/channels', { name: '小程序码', kind: 'mp_code', page: 'pages/channel/index' }).expect(201))
      .body as Created;
    expect(state.callsTo('wxa/getwxacodeunlimit').map((c) => c.body)).toEqual([
      { scene: `ch:${mp.id}`, page: 'pages/channel/index', check_path: true, width: 430 },
    ]);
    expect(mp.url).toBeNull();

    const h5 = (await a.post('/api/admin/channels', { name: '朋友圈链接', kind: 'h5', path: '/landing' }).expect(201)).body as Created;
    expect(h5.url).toBe(`${stack.config.publicBaseUrl.replace(/\/+$/, '')}/landing?ch=${h5.id}`);

    for (const made of [oa, permanent, way, mp, h5]) {
      const png = await a.png(made.qrImageUrl);
      if (png.status !== 200) throw new Error(`${made.qrImageUrl}: ${png.status} ${(png.body as Buffer).toString('utf8')}`);
      expect(png.headers['content-type']).toBe('image/png');
      expect((png.body as Buffer).subarray(0, 8)).toEqual(PNG_MAGIC);
    }
    expect(state.callsTo('showqrcode').length).toBe(2);
    expect(state.callsTo('contact_way_qr').length).toBe(1);

    const list = (await a.get('/api/admin/channels').expect(200)).body as {
      items: { id: number; kind: string; stats: object; tags: object[] }[];
    };
    expect(list.items.map((c) => c.id)).toEqual([h5.id, mp.id, way.id, permanent.id, oa.id]);
    expect(list.items.find((c) => c.id === oa.id)).toEqual(
      expect.objectContaining({
        kind: 'oa_qr',
        tags: [{ id: tagId, name: '展会2026' }],
        stats: { scans: 0, newContacts: 0, costPerNewContact: null },
      }),
    );

    const audit = await db().dataSource.query<{ action: string }[]>("SELECT action FROM audit_log WHERE action LIKE 'channel.%'");
    expect(audit).toHaveLength(5);
  });

  it('attributes a scan through an Official Account code: channel id on the interaction, first touch, tags, welcome as passive reply, stats', async () => {
    const a = api(admin);
    const oa = (
      await a
        .post('/api/admin/channels', { name: '展会海报', kind: 'oa_qr', cost: 300, tags: [tagId], welcome: '欢迎来到展会！' })
        .expect(201)
    ).body as Created;

    const played = await request(stack.sandboxUrl).post('/sandbox/actions').send({ action: 'scan_channel', scene: oa.scene }).expect(200);
    const result = played.body as { ok: boolean; openid: string; replyXml?: string };
    expect(result.ok).toBe(true);
    expect(result.replyXml).toContain('<Content><![CDATA[欢迎来到展会！]]></Content>');
    await settle();

    const ds = db().dataSource;
    const interactions = await ds.query<{ contact_id: number | string; detail: unknown }[]>(
      "SELECT contact_id, detail FROM interactions WHERE type = 'subscribe'",
    );
    expect(interactions).toHaveLength(1);
    const detail = (typeof interactions[0]?.detail === 'string' ? JSON.parse(interactions[0].detail) : interactions[0]?.detail) as Record<
      string,
      unknown
    >;
    expect(detail).toEqual(expect.objectContaining({ scene: oa.scene, channelId: oa.id }));
    const contactId = Number(interactions[0]?.contact_id);
    const contact = await ds.query<{ first_source: string; last_source: string }[]>(
      'SELECT first_source, last_source FROM contacts WHERE id = ?',
      [contactId],
    );
    expect(contact[0]).toEqual({ first_source: oa.scene, last_source: oa.scene });
    const tags = await ds.query<{ tag_id: number | string }[]>('SELECT tag_id FROM contact_tags WHERE contact_id = ?', [contactId]);
    // The channel's tag (the seeded default rules may tag a new follower too).
    expect(tags.map((t) => Number(t.tag_id))).toContain(tagId);

    // The same follower scans again (SCAN): a second scan, not a second new contact.
    await request(stack.sandboxUrl)
      .post('/sandbox/actions')
      .send({ action: 'scan_channel', scene: oa.scene, openid: result.openid })
      .expect(200);
    await settle();
    const channel = (await a.get(`/api/admin/channels/${oa.id}`).expect(200)).body as { stats: object; tags: unknown };
    expect(channel.stats).toEqual({ scans: 2, newContacts: 1, costPerNewContact: 300 });
    expect(channel.tags).toEqual([{ id: tagId, name: '展会2026' }]);
  });

  it('welcomes a WeCom add through a contact way exactly once; 41051 is recorded and never retried', async () => {
    const a = api(admin);
    const way = (
      await a
        .post('/api/admin/channels', {
          name: '销售名片',
          kind: 'wecom_contact_way',
          userIds: ['rep-1'],
          tags: [tagId],
          welcome: '您好，我是您的顾问',
        })
        .expect(201)
    ).body as Created;
    const state = stack.sandbox.state;

    const first = await request(stack.sandboxUrl).post('/sandbox/actions').send({ action: 'scan_channel', scene: way.scene }).expect(200);
    expect((first.body as { ok: boolean }).ok).toBe(true);
    await settle();
    expect(state.callsTo('externalcontact/send_welcome_msg')).toHaveLength(1);
    expect(state.channelCodes.welcomes.map((w) => ({ text: w.text, userId: w.userId }))).toEqual([
      { text: '您好，我是您的顾问', userId: 'rep-1' },
    ]);

    // The reaction played again (a crash before its work row was marked done) sends nothing.
    const ds = db().dataSource;
    await ds.query("UPDATE reaction_work SET status = 'pending', next_attempt_at = ?", ['2000-01-01 00:00:00.000']);
    await settle();
    expect(state.callsTo('externalcontact/send_welcome_msg')).toHaveLength(1);

    // Another app welcomed the next customer first: 41051, recorded, not retried.
    state.failNext('externalcontact/send_welcome_msg', 41051);
    await request(stack.sandboxUrl).post('/sandbox/actions').send({ action: 'scan_channel', scene: way.scene }).expect(200);
    await settle();
    await stack.services.reactions.processDue();
    await settle();
    expect(state.callsTo('externalcontact/send_welcome_msg')).toHaveLength(2);
    const rows = await ds.query<{ state: string; errcode: number | string | null }[]>(
      'SELECT state, errcode FROM channel_welcomes ORDER BY id',
    );
    expect(rows.map((r) => ({ state: r.state, errcode: r.errcode === null ? null : Number(r.errcode) }))).toEqual([
      { state: 'sent', errcode: null },
      { state: 'already_sent', errcode: 41051 },
    ]);
    const detail = (await a.get(`/api/admin/channels/${way.id}`).expect(200)).body as { stats: object };
    expect(detail.stats).toEqual({ scans: 2, newContacts: 2, costPerNewContact: null });
    const tagged = await ds.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM contact_tags WHERE tag_id = ?', [tagId]);
    expect(Number(tagged[0]?.n)).toBe(2);
  });

  it('offers the ¥1 trial to a new follower: the offer link in the OA passive reply and in the WeCom welcome', async () => {
    const a = api(admin);
    // The trial offer (一元体验) as the pay-orders migration seeds it (the test database starts empty).
    const trial = await a.post('/api/admin/pay/products', { name: '一元体验', priceFen: 100, oncePerContact: true }).expect(201);
    const productId = (trial.body as { id: number }).id;
    const link = `${stack.config.publicBaseUrl.replace(/\/+$/, '')}/e/offer/${productId}`;

    const oa = (
      await a.post('/api/admin/channels', { name: '体验海报', kind: 'oa_qr', welcome: '欢迎关注！', offerProductId: productId }).expect(201)
    ).body as Created;
    const played = await request(stack.sandboxUrl).post('/sandbox/actions').send({ action: 'scan_channel', scene: oa.scene }).expect(200);
    expect((played.body as { replyXml?: string }).replyXml).toContain(`<Content><![CDATA[欢迎关注！\n一元体验：${link}]]></Content>`);

    // A WeCom contact way with the offer and no text of its own: the link alone is the welcome.
    const way = (
      await a
        .post('/api/admin/channels', { name: '体验名片', kind: 'wecom_contact_way', userIds: ['rep-1'], offerProductId: productId })
        .expect(201)
    ).body as Created;
    await request(stack.sandboxUrl).post('/sandbox/actions').send({ action: 'scan_channel', scene: way.scene }).expect(200);
    await settle();
    expect(stack.sandbox.state.channelCodes.welcomes.map((w) => w.text)).toEqual([`一元体验：${link}`]);
    const sent = stack.sandbox.state.callsTo('externalcontact/send_welcome_msg')[0]?.body as { text?: { content: string } };
    expect(sent.text?.content).toBe(`一元体验：${link}`);

    // The operator takes the offer off: the next welcome has none (and an unknown product is refused).
    const edited = await a.put(`/api/admin/channels/${oa.id}`, { offerProductId: null }).expect(200);
    expect((edited.body as { options: object }).options).toEqual({});
    const again = await request(stack.sandboxUrl).post('/sandbox/actions').send({ action: 'scan_channel', scene: oa.scene }).expect(200);
    expect((again.body as { replyXml?: string }).replyXml).toContain('<Content><![CDATA[欢迎关注！]]></Content>');
    const unknown = await a.post('/api/admin/channels', { name: '无效商品', kind: 'oa_qr', offerProductId: 999_999 }).expect(400);
    expect((unknown.body as { error: { details: { path: string; code: string }[] } }).error.details[0]).toEqual(
      expect.objectContaining({ path: 'offerProductId', code: 'channel_product_unknown' }),
    );
  });

  it('refuses bad input with the field named, a platform refusal with its errcode (leaving nothing), and sales reps', async () => {
    const a = api(admin);
    const bad = await a.post('/api/admin/channels', { name: '', kind: 'poster' }).expect(400);
    expect((bad.body as { error: { code: string; details: { path: string }[] } }).error.code).toBe('bad_request');
    expect((bad.body as { error: { details: { path: string }[] } }).error.details.map((d) => d.path).sort()).toEqual(['kind', 'name']);

    const noUsers = await a.post('/api/admin/channels', { name: '名片', kind: 'wecom_contact_way' }).expect(400);
    expect((noUsers.body as { error: { details: { code: string }[] } }).error.details[0]?.code).toBe('channel_users_required');
    const tooLong = await a.post('/api/admin/channels', { name: '码', kind: 'oa_qr', expireSeconds: 2_592_001 }).expect(400);
    expect((tooLong.body as { error: { details: { path: string; code: string }[] } }).error.details[0]).toEqual(
      expect.objectContaining({ path: 'expireSeconds', code: 'too_big' }),
    );
    const wrongKind = await a.post('/api/admin/channels', { name: '码', kind: 'h5', page: 'pages/index/index' }).expect(400);
    expect((wrongKind.body as { error: { details: { code: string }[] } }).error.details[0]?.code).toBe('channel_field_kind');
    const unknownTag = await a.post('/api/admin/channels', { name: '码', kind: 'h5', tags: [99_999] }).expect(400);
    expect((unknownTag.body as { error: { details: { path: string; code: string }[] } }).error.details[0]).toEqual(
      expect.objectContaining({ path: 'tags.0', code: 'tag_unknown' }),
    );

    const refused = await a.post('/api/admin/channels', { name: '小程序码', kind: 'mp_code', page: 'pages/missing/index' }).expect(502);
    expect(refused.body).toEqual({ error: expect.objectContaining({ code: 'platform_refused', details: { errcode: 41030 } }) as object });
    const left = await db().dataSource.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM channels');
    expect(Number(left[0]?.n)).toBe(0);

    await a.post('/api/admin/channels', { name: '朋友圈链接', kind: 'h5' }).expect(201);
    const taken = await a.post('/api/admin/channels', { name: '朋友圈链接', kind: 'h5' }).expect(409);
    expect((taken.body as { error: { details: { code: string }[] } }).error.details[0]?.code).toBe('name_taken');

    const sales = api(await signIn('rep', 'sales'));
    await sales.post('/api/admin/channels', { name: '销售自建', kind: 'h5' }).expect(403);
    await sales.get('/api/admin/channels').expect(200);
    await a.get('/api/admin/channels/999/qr.png').expect(404);
  });

  it('frees the name of a create that died during its platform call, once it is older than any call can take', async () => {
    const a = api(admin);
    const insertPending = (name: string, createdAt: string) =>
      db().dataSource.query(
        "INSERT INTO channels (name, kind, status, tag_ids, options, created_at, updated_at) VALUES (?, 'h5', 'pending', '[]', '{}', ?, ?)",
        [name, createdAt, createdAt],
      );
    await insertPending('崩溃前的码', '2026-01-01 00:00:00');
    const retried = (await a.post('/api/admin/channels', { name: '崩溃前的码', kind: 'h5' }).expect(201)).body as Created;
    const rows = await db().dataSource.query<{ id: number | string; status: string }[]>(
      "SELECT id, status FROM channels WHERE name = '崩溃前的码'",
    );
    expect(rows.map((row) => [Number(row.id), row.status])).toEqual([[retried.id, 'active']]);

    // A create still in flight (pending for moments) keeps its name.
    const now = new Date().toISOString().slice(0, 19).replace('T', ' ');
    await insertPending('正在创建', now);
    await a.post('/api/admin/channels', { name: '正在创建', kind: 'h5' }).expect(409);
  });

  it('edits what may change and archives: archived codes leave the list and still attribute', async () => {
    const a = api(admin);
    const oa = (await a.post('/api/admin/channels', { name: '展会海报', kind: 'oa_qr' }).expect(201)).body as Created;
    const edited = await a
      .put(`/api/admin/channels/${oa.id}`, { name: '展会海报A', cost: 99.5, tags: [tagId], welcome: '欢迎' })
      .expect(200);
    expect(edited.body).toEqual(
      expect.objectContaining({ name: '展会海报A', cost: 99.5, welcome: '欢迎', tags: [{ id: tagId, name: '展会2026' }] }),
    );
    await a.post(`/api/admin/channels/${oa.id}/archive`, {}).expect(200, { archived: true, id: oa.id });
    expect(((await a.get('/api/admin/channels').expect(200)).body as { items: unknown[] }).items).toEqual([]);
    expect(
      ((await a.get('/api/admin/channels?status=archived').expect(200)).body as { items: { id: number }[] }).items.map((c) => c.id),
    ).toEqual([oa.id]);

    await request(stack.sandboxUrl).post('/sandbox/actions').send({ action: 'scan_channel', scene: oa.scene }).expect(200);
    await settle();
    expect(((await a.get(`/api/admin/channels/${oa.id}`).expect(200)).body as { stats: object }).stats).toEqual({
      scans: 1,
      newContacts: 1,
      costPerNewContact: 99.5,
    });
  });

  it('attributes an H5 or mini-program visit through a channel: first touch, tags, a touch counted once however often it is recorded', async () => {
    const a = api(admin);
    const h5 = (await a.post('/api/admin/channels', { name: '朋友圈链接', kind: 'h5', tags: [tagId], cost: 10 }).expect(201))
      .body as Created;
    const channelId = channelIdFromQuery(new URL(h5.url ?? '').searchParams.get('ch'));
    expect(channelId).toBe(h5.id);
    const s = stack.services;
    const visit = channelVisitDraft({
      channelId: h5.id,
      channel: 'oa',
      identity: { kind: 'oa_openid', appId: stack.config.officialAccount.appId, value: 'o-visitor-1' },
      occurredAt: stack.clock.now(),
      page: '/landing',
      visitId: 'visit-1',
    });
    for (let i = 0; i < 2; i += 1) await s.transactor.run((m) => s.interactions.recordInteraction(m, visit));
    s.reactions.kick();
    await settle();
    const ds = db().dataSource;
    const contacts = await ds.query<{ id: number | string; first_source: string }[]>('SELECT id, first_source FROM contacts');
    expect(contacts.map((c) => c.first_source)).toEqual([h5.scene]);
    const tags = await ds.query<{ tag_id: number | string }[]>('SELECT tag_id FROM contact_tags WHERE contact_id = ?', [contacts[0]?.id]);
    expect(tags.map((t) => Number(t.tag_id))).toContain(tagId);
    const view = (await a.get(`/api/admin/channels/${h5.id}`).expect(200)).body as { stats: object };
    expect(view.stats).toEqual({ scans: 1, newContacts: 1, costPerNewContact: 10 });
  });

  it('does not send a welcome whose 20 seconds are over, nor one whose code was claimed already', async () => {
    const welcomes = stack.services.channelWelcomes;
    if (!welcomes) throw new Error('WeCom is configured in the test stack');
    const now = stack.clock.now().getTime();
    const late = { welcomeCode: 'WELCOMECODE_late', channelId: 1, interactionId: 1, text: '你好', occurredAt: new Date(now - 21_000) };
    expect(await welcomes.send(late)).toBe('expired');
    expect(await welcomes.send({ ...late, occurredAt: new Date(now) })).toBe('duplicate');
    expect(stack.sandbox.state.callsTo('externalcontact/send_welcome_msg')).toHaveLength(0);
    const rows = await db().dataSource.query<{ state: string }[]>('SELECT state FROM channel_welcomes');
    expect(rows.map((r) => r.state)).toEqual(['expired']);
  });
});
