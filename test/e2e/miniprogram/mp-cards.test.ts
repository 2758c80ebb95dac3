import request from 'supertest';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

interface CardAnswer {
  operatorId: number;
  name: string;
  materials: { code: string; title: string; kind: string; cover: string | null }[];
  contactWayQrUrl: string | null;
  shareToken: string;
}

/** JSON columns come back parsed on MySQL and as text on SQLite. */
const json = (value: unknown): unknown => (typeof value === 'string' ? (JSON.parse(value) as unknown) : value);

/**
 * Issue 17 §1: the business card in the mini-program. Each viewer gets their own share token, so a
 * forward of a forward is a chain on the timeline; a view makes no relationship, an action does
 * (and hands the viewer to the rep as a lead once); the rep hears of each new viewer once.
 */
describeEachDatabase('mini-program: business cards', (db) => {
  let stack: TestStack;
  let repId: number;

  beforeEach(async () => {
    // The card's first save makes its WeCom contact way on the sandbox (a QR drawn there).
    stack = await startTestStack(db(), {}, { platformTimeoutMs: 15_000 });
    repId = await makeRep('chen', 'rep_chen');
    const s = stack.services;
    const material = await s.content.createMaterial({
      kind: 'article',
      title: '私域白皮书',
      body: '# 白皮书',
      actor: { operatorId: null, ip: null },
    });
    if (!material.ok) throw new Error('material');
    const saved = await s.cards.updateCard({
      operatorId: repId,
      title: '客户经理',
      company: '飞轮科技',
      phone: '13800001234',
      avatarUrl: null,
      intro: '专注私域运营十年',
      materialIds: [material.value.id],
      actor: { operatorId: repId, ip: null },
    });
    if (!saved.ok) throw new Error(saved.reason);
  });
  afterEach(async () => {
    await stack.close();
  });
  jest.setTimeout(90_000);

  const makeRep = async (username: string, wecomUserId: string | null): Promise<number> => {
    const created = await stack.services.operators.createOperator({
      username,
      password: `${username}-password-1`,
      role: 'sales',
      wecomUserId,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    return created.operator.id;
  };
  const login = async (unionid: string | null = null) => {
    const issued = stack.sandbox.state.issueLoginCode({ unionid });
    const res = await request(stack.baseUrl).post('/api/mp/login').send({ code: issued.code }).expect(200);
    const token = (res.body as { token: string }).token;
    const [row] = await db().dataSource.query<{ contact_id: number | string }[]>(
      "SELECT contact_id FROM contact_identities WHERE kind = 'mp_openid' AND value = ?",
      [issued.openid],
    );
    return { token, contactId: Number(row.contact_id) };
  };
  const as = (token: string) => ({
    get: (p: string) => request(stack.baseUrl).get(p).set('authorization', `Bearer ${token}`),
    post: (p: string, body: object) => request(stack.baseUrl).post(p).set('authorization', `Bearer ${token}`).send(body),
  });
  const open = async (token: string, st?: string): Promise<CardAnswer> =>
    (
      await as(token)
        .get(`/api/mp/cards/${repId}${st === undefined ? '' : `?st=${encodeURIComponent(st)}`}`)
        .expect(200)
    ).body as CardAnswer;
  const interactionsOf = async (contactId: number, type: string) =>
    (
      await db().dataSource.query<{ detail: unknown; ref_type: string; ref_id: string; direction: string }[]>(
        'SELECT detail, ref_type, ref_id, direction FROM interactions WHERE contact_id = ? AND type = ? ORDER BY id',
        [contactId, type],
      )
    ).map((row) => ({ ...row, detail: json(row.detail) as Record<string, unknown> }));
  const visitorOf = async (contactId: number) =>
    (
      await db().dataSource.query<
        { views: number | string; seconds: number | string; relation: string; became_contact_by: string | null }[]
      >('SELECT views, seconds, relation, became_contact_by FROM card_visitors WHERE operator_id = ? AND contact_id = ?', [
        repId,
        contactId,
      ])
    ).map((row) => ({ views: Number(row.views), seconds: Number(row.seconds), relation: row.relation, by: row.became_contact_by }));
  const notifyReps = () => stack.services.queue.runOnce({ handlers: stack.services.cardVisitors.handlers() });

  it('a forward of a forward is a chain (C through B through A), on the sharers’ timelines too; the rep told once per viewer', async () => {
    const [a, b, c, d] = [await login(), await login(), await login(), await login()];
    const cardA = await open(a.token);
    expect(cardA).toEqual({
      operatorId: repId,
      name: 'chen',
      title: '客户经理',
      company: '飞轮科技',
      phone: '13800001234',
      avatarUrl: null,
      intro: '专注私域运营十年',
      materials: [{ code: expect.any(String) as string, title: '私域白皮书', kind: 'article', cover: null }],
      contactWayQrUrl: expect.stringMatching(/contact_way_qr\/[0-9a-f]+\.png$/) as string,
      shareToken: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) as string,
    });
    const cardB = await open(b.token, cardA.shareToken);
    const cardC = await open(c.token, cardB.shareToken);
    expect(new Set([cardA.shareToken, cardB.shareToken, cardC.shareToken]).size).toBe(3);
    // The same viewer gets the same token again (one per viewer per card).
    expect((await open(b.token)).shareToken).toBe(cardB.shareToken);

    const names = { a: null, b: null };
    const [viewC] = await interactionsOf(c.contactId, 'card_view');
    expect(viewC).toMatchObject({ ref_type: 'card', ref_id: String(repId), direction: 'in' });
    expect(viewC.detail).toEqual({
      operatorId: repId,
      repName: 'chen',
      sharedBy: { contactId: b.contactId, name: names.b },
      chain: [
        { contactId: a.contactId, name: names.a },
        { contactId: b.contactId, name: names.b },
      ],
    });
    expect((await interactionsOf(a.contactId, 'card_view'))[0].detail).toMatchObject({ sharedBy: null, chain: [] });
    expect((await interactionsOf(a.contactId, 'card_share')).map((i) => i.detail)).toEqual([
      { operatorId: repId, repName: 'chen', viewer: { contactId: b.contactId, name: null } },
    ]);
    expect((await interactionsOf(b.contactId, 'card_share')).map((i) => (i.detail.viewer as { contactId: number }).contactId)).toEqual([
      c.contactId,
    ]);
    // C opening again through A's token is no new viewer for A: no second share, and B's reopen within the window is no second view.
    await open(c.token, cardA.shareToken);
    expect(await interactionsOf(a.contactId, 'card_share')).toHaveLength(1);
    expect(await interactionsOf(b.contactId, 'card_view')).toHaveLength(1);
    expect(await visitorOf(b.contactId)).toEqual([{ views: 1, seconds: 0, relation: 'visitor', by: null }]);

    // A garbled, unknown or other card's token counts as direct, never an error.
    const otherRep = await makeRep('li', null);
    const other = await stack.services.cards.updateCard({
      operatorId: otherRep,
      title: null,
      company: '飞轮科技',
      phone: null,
      avatarUrl: null,
      intro: null,
      materialIds: [],
      actor: { operatorId: otherRep, ip: null },
    });
    expect(other.ok).toBe(true);
    const otherToken = ((await as(a.token).get(`/api/mp/cards/${otherRep}`).expect(200)).body as CardAnswer).shareToken;
    await open(d.token, otherToken);
    await open(d.token, 'not a token at all %%%');
    expect((await interactionsOf(d.contactId, 'card_view'))[0].detail).toMatchObject({ sharedBy: null, chain: [] });

    // The viewing time adds up; a report for a card nobody has is 404.
    await as(c.token).post(`/api/mp/cards/${repId}/views`, { seconds: 12, st: cardB.shareToken }).expect(204);
    await as(c.token).post(`/api/mp/cards/${repId}/views`, { seconds: 30 }).expect(204);
    expect(await visitorOf(c.contactId)).toEqual([{ views: 1, seconds: 42, relation: 'visitor', by: null }]);
    expect((await interactionsOf(c.contactId, 'card_view'))[0].detail).toMatchObject({ seconds: 42 });
    await as(c.token).post(`/api/mp/cards/${repId}/views`, { seconds: 90_000 }).expect(400);
    for (const path of ['/api/mp/cards/999999', '/api/mp/cards/abc', `/api/mp/cards/${repId + 1000}/views`]) {
      const res = path.endsWith('views') ? await as(c.token).post(path, { seconds: 1 }) : await as(c.token).get(path);
      expect([res.status, (res.body as { error: { code: string } }).error.code]).toEqual([404, 'card_not_found']);
    }
    await db().dataSource.query('UPDATE operators SET disabled = 1 WHERE id = ?', [otherRep]);
    expect((await as(a.token).get(`/api/mp/cards/${otherRep}`)).status).toBe(404);

    // A view makes no relationship: nobody became a contact, nobody was handed to the rep.
    const contacts = await db().dataSource.query<{ n: number | string }[]>(
      "SELECT COUNT(*) AS n FROM card_visitors WHERE relation <> 'visitor'",
    );
    expect(Number(contacts[0].n)).toBe(0);
    expect(await db().dataSource.query('SELECT id FROM sales_assignments')).toEqual([]);

    // The rep hears of each new viewer of their card once (the other card's rep has no WeCom userid: skipped).
    await notifyReps();
    await notifyReps();
    const sent = stack.sandbox.state.callsTo('message/send').map((call) => call.body as { touser: string; text: { content: string } });
    expect(sent.map((m) => m.touser)).toEqual(['rep_chen', 'rep_chen', 'rep_chen', 'rep_chen']);
    expect(sent.some((m) => m.text.content.includes('转发'))).toBe(true);
    const statuses = await db().dataSource.query<{ operator_id: number | string; notify_status: string }[]>(
      'SELECT operator_id, notify_status FROM card_visitors ORDER BY id',
    );
    expect(statuses.filter((s) => Number(s.operator_id) === otherRep).map((s) => s.notify_status)).toEqual(['skipped']);
  });

  it('an action makes the viewer a contact and one lead; leave_phone needs a phone; the WeCom add keeps the channel', async () => {
    const unionid = 'oUnionCardViewer0000000000001';
    const viewer = await login(unionid);
    await open(viewer.token);
    const saved = await as(viewer.token).post(`/api/mp/cards/${repId}/actions`, { action: 'save_contact' }).expect(200);
    expect(saved.body).toEqual({ relation: 'contact' });
    await as(viewer.token).post(`/api/mp/cards/${repId}/actions`, { action: 'save_contact' }).expect(200);
    expect(await visitorOf(viewer.contactId)).toEqual([{ views: 1, seconds: 0, relation: 'contact', by: 'save_contact' }]);
    expect((await interactionsOf(viewer.contactId, 'card_action')).map((i) => i.detail)).toEqual([
      { operatorId: repId, repName: 'chen', action: 'save_contact' },
    ]);
    const refused = await as(viewer.token).post(`/api/mp/cards/${repId}/actions`, { action: 'leave_phone' }).expect(409);
    expect((refused.body as { error: { code: string } }).error.code).toBe('mp_phone_required');
    const { code } = stack.sandbox.state.issuePhoneCode({ phoneNumber: '13700137000' });
    await as(viewer.token).post('/api/mp/phone', { code }).expect(200);
    await as(viewer.token).post(`/api/mp/cards/${repId}/actions`, { action: 'leave_phone' }).expect(200);
    await as(viewer.token).post(`/api/mp/cards/${repId}/actions`, { action: 'add_wecom' }).expect(200);
    await as(viewer.token).post(`/api/mp/cards/${repId}/actions`, { action: 'call_me' }).expect(400);
    // The first action stays as how they became a contact; one lead whatever the actions.
    expect((await visitorOf(viewer.contactId))[0].by).toBe('save_contact');
    const leads = await db().dataSource.query<
      { contact_id: number | string; user_id: string; operator_id: number | string; reason: string }[]
    >('SELECT contact_id, user_id, operator_id, reason FROM sales_assignments');
    expect(leads.map((l) => [Number(l.contact_id), l.user_id, Number(l.operator_id), l.reason])).toEqual([
      [viewer.contactId, 'rep_chen', repId, `card:${repId}`],
    ]);

    // The viewer adds the rep through the card's contact way: WeCom's add carries its state, the
    // unionid makes it the same person, and the add is the card channel's touch.
    const [card] = await db().dataSource.query<{ channel_id: number | string }[]>('SELECT channel_id FROM cards WHERE operator_id = ?', [
      repId,
    ]);
    const channelId = Number(card.channel_id);
    const played = await request(stack.sandboxUrl)
      .post('/sandbox/actions')
      .send({ action: 'scan_channel', scene: `ch:${channelId}`, unionid })
      .expect(200);
    expect((played.body as { ok: boolean }).ok).toBe(true);
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    await stack.services.reactions.idle();
    const touches = await db().dataSource.query<{ contact_id: number | string; type: string }[]>(
      'SELECT contact_id, type FROM channel_touches WHERE channel_id = ?',
      [channelId],
    );
    expect(touches.map((t) => [Number(t.contact_id), t.type])).toEqual([[viewer.contactId, 'add_external_contact']]);

    // The company's cards.
    const list = await as(viewer.token)
      .get(`/api/mp/cards?company=${encodeURIComponent('飞轮科技')}`)
      .expect(200);
    expect(list.body).toEqual({ cards: [{ operatorId: repId, name: 'chen', title: '客户经理', avatarUrl: null }] });
    await as(viewer.token).get('/api/mp/cards').expect(400);
  });

  it('the rep opening their own card is no visitor, and whoever comes through the rep’s token came straight from the rep', async () => {
    const rep = await login();
    const issued = await stack.services.mpStaff.issueBindingCode({ operatorId: repId, actor: { operatorId: null, ip: null } });
    await as(rep.token)
      .post('/api/mp/staff/bind', { code: issued?.code ?? '' })
      .expect(200);
    const own = await open(rep.token);
    expect(await visitorOf(rep.contactId)).toEqual([]);
    expect(await interactionsOf(rep.contactId, 'card_view')).toEqual([]);
    const viewer = await login();
    await open(viewer.token, own.shareToken);
    expect((await interactionsOf(viewer.contactId, 'card_view'))[0].detail).toMatchObject({ sharedBy: null, chain: [] });
    expect(await interactionsOf(rep.contactId, 'card_share')).toEqual([]);
    expect((await open(rep.token)).shareToken).toBe(own.shareToken);
  });
});
