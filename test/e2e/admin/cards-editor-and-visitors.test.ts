import request from 'supertest';
import type { OperatorRole } from '../../../entities/operator.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

interface ErrorBody {
  error: { code: string; details?: { path: string; code: string }[] };
}
interface Visitors {
  items: { contactId: number; views: number; relation: string; becameContactBy: string | null; chain: { contactId: number }[] }[];
  nextCursor: string | null;
}

/**
 * The reps' business cards on the admin page (issue 17 §1): the editor's GET and PUT (an admin
 * edits anyone's, others only their own; marketers read everyone's), the audit row, the contact
 * way made on the first save, and the visitor list with its share chains, relation filter and paging.
 */
describeEachDatabase('admin: business cards', (db) => {
  let stack: TestStack;

  beforeEach(async () => {
    stack = await startTestStack(db(), {}, { platformTimeoutMs: 15_000 });
  });
  afterEach(async () => {
    await stack.close();
  });
  jest.setTimeout(90_000);

  const signIn = async (username: string, role: OperatorRole, wecomUserId: string | null = null) => {
    const password = `${username}-password-1`;
    const created = await stack.services.operators.createOperator({
      username,
      password,
      role,
      wecomUserId,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username, password, ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    return { id: created.operator.id, token: login.token };
  };
  const api = (token: string) => ({
    get: (path: string) => request(stack.baseUrl).get(path).set('authorization', `Bearer ${token}`),
    put: (path: string, body: object) => request(stack.baseUrl).put(path).set('authorization', `Bearer ${token}`).send(body),
  });
  const codeOf = (res: request.Response) => (res.body as ErrorBody).error.code;

  it('a rep saves their own card (audited, phone normalised, a contact way made once); roles decide who edits whose', async () => {
    const admin = await signIn('admin', 'admin');
    const marketer = await signIn('marketer', 'operator');
    const repA = await signIn('rep-a', 'sales', 'rep_a');
    const repB = await signIn('rep-b', 'sales', null);
    const material = await stack.services.content.createMaterial({
      kind: 'pdf',
      title: '产品手册',
      actor: { operatorId: admin.id, ip: null },
    });
    if (!material.ok) throw new Error('material');

    expect(codeOf(await api(repA.token).get(`/api/admin/cards/${repA.id}`).expect(404))).toBe('card_not_found');
    const card = {
      title: '客户经理',
      company: '飞轮科技',
      phone: '138 0013 8000',
      avatarUrl: '',
      intro: '你好',
      materialIds: [material.value.id],
    };
    const saved = await api(repA.token).put(`/api/admin/cards/${repA.id}`, card).expect(200);
    expect(saved.body).toEqual({
      operatorId: repA.id,
      name: 'rep-a',
      title: '客户经理',
      company: '飞轮科技',
      phone: '13800138000',
      avatarUrl: null,
      intro: '你好',
      materials: [{ id: material.value.id, title: '产品手册', kind: 'pdf' }],
      contactWay: { channelId: expect.any(Number) as number, qrUrl: expect.stringMatching(/contact_way_qr/) as string },
      mpPath: `pages/card/index?rep=${repA.id}`,
    });
    expect(stack.sandbox.state.callsTo('externalcontact/add_contact_way').map((c) => (c.body as { user: string[] }).user)).toEqual([
      ['rep_a'],
    ]);
    // A second save keeps the contact way.
    await api(repA.token)
      .put(`/api/admin/cards/${repA.id}`, { ...card, intro: '专注私域' })
      .expect(200);
    expect(stack.sandbox.state.callsTo('externalcontact/add_contact_way')).toHaveLength(1);
    const audit = await db().dataSource.query<{ operator_id: number | string; target_id: string; detail: unknown }[]>(
      "SELECT operator_id, target_id, detail FROM audit_log WHERE action = 'card.update' ORDER BY id",
    );
    expect(audit.map((a) => [Number(a.operator_id), a.target_id])).toEqual([
      [repA.id, String(repA.id)],
      [repA.id, String(repA.id)],
    ]);
    expect(JSON.stringify(audit[1].detail)).toContain('专注私域');

    // Only an admin edits another's card; a marketer reads every card, a rep only their own.
    expect(codeOf(await api(repB.token).put(`/api/admin/cards/${repA.id}`, card).expect(403))).toBe('forbidden');
    expect(codeOf(await api(marketer.token).put(`/api/admin/cards/${repA.id}`, card).expect(403))).toBe('forbidden');
    await api(repB.token).get(`/api/admin/cards/${repA.id}`).expect(403);
    await api(repB.token).get(`/api/admin/cards/${repA.id}/visitors`).expect(403);
    await api(marketer.token).get(`/api/admin/cards/${repA.id}`).expect(200);
    await api(admin.token).put(`/api/admin/cards/${repB.id}`, { company: '飞轮科技' }).expect(200);
    // Rep B has no WeCom userid: no contact way.
    expect((await api(repB.token).get(`/api/admin/cards/${repB.id}`).expect(200)).body).toMatchObject({ contactWay: null, materials: [] });

    const bad = await api(repA.token)
      .put(`/api/admin/cards/${repA.id}`, { phone: '12345', avatarUrl: 'javascript:alert(1)', materialIds: [1, 2, 3, 4, 5, 6, 7] })
      .expect(400);
    expect((bad.body as ErrorBody).error.details?.map((d) => d.path).sort()).toEqual(['avatarUrl', 'materialIds', 'phone']);
    const unknown = await api(repA.token)
      .put(`/api/admin/cards/${repA.id}`, { materialIds: [999_999] })
      .expect(400);
    expect((unknown.body as ErrorBody).error.details).toEqual([
      expect.objectContaining({ path: 'materialIds.0', code: 'card_material_unknown' }),
    ]);

    const all = (await api(marketer.token).get('/api/admin/cards').expect(200)).body as {
      items: { operatorId: number; hasCard: boolean }[];
    };
    expect(all.items.map((i) => [i.operatorId, i.hasCard])).toEqual([
      [admin.id, false],
      [marketer.id, false],
      [repA.id, true],
      [repB.id, true],
    ]);
    const own = (await api(repA.token).get('/api/admin/cards').expect(200)).body as { items: object[] };
    expect(own.items).toEqual([
      {
        operatorId: repA.id,
        name: 'rep-a',
        role: 'sales',
        title: '客户经理',
        company: '飞轮科技',
        hasCard: true,
        visitors: 0,
        contacts: 0,
      },
    ]);
  });

  it('lists a card’s visitors newest first with their share chain, filtered by relation, keyset paged', async () => {
    const rep = await signIn('rep', 'sales', 'rep_x');
    await api(rep.token).put(`/api/admin/cards/${rep.id}`, { title: '顾问' }).expect(200);
    const viewer = async () => {
      const issued = stack.sandbox.state.issueLoginCode({ unionid: null });
      const res = await request(stack.baseUrl).post('/api/mp/login').send({ code: issued.code }).expect(200);
      const token = (res.body as { token: string }).token;
      const [row] = await db().dataSource.query<{ contact_id: number | string }[]>(
        "SELECT contact_id FROM contact_identities WHERE kind = 'mp_openid' AND value = ?",
        [issued.openid],
      );
      return { token, contactId: Number(row.contact_id) };
    };
    const open = async (token: string, st?: string) =>
      (
        await request(stack.baseUrl)
          .get(`/api/mp/cards/${rep.id}${st ? `?st=${st}` : ''}`)
          .set('authorization', `Bearer ${token}`)
          .expect(200)
      ).body as { shareToken: string };
    const [a, b, c] = [await viewer(), await viewer(), await viewer()];
    const tokenA = (await open(a.token)).shareToken;
    stack.clock.advance(1000);
    const tokenB = (await open(b.token, tokenA)).shareToken;
    stack.clock.advance(1000);
    await open(c.token, tokenB);
    await request(stack.baseUrl)
      .post(`/api/mp/cards/${rep.id}/actions`)
      .set('authorization', `Bearer ${c.token}`)
      .send({ action: 'add_wecom' })
      .expect(200);

    const first = (await api(rep.token).get(`/api/admin/cards/${rep.id}/visitors?limit=2`).expect(200)).body as Visitors;
    expect(first.items.map((i) => [i.contactId, i.relation, i.becameContactBy, i.chain.map((l) => l.contactId)])).toEqual([
      [c.contactId, 'contact', 'add_wecom', [a.contactId, b.contactId]],
      [b.contactId, 'visitor', null, [a.contactId]],
    ]);
    expect(first.nextCursor).not.toBeNull();
    const second = (
      await api(rep.token)
        .get(`/api/admin/cards/${rep.id}/visitors?limit=2&cursor=${first.nextCursor ?? ''}`)
        .expect(200)
    ).body as Visitors;
    expect(second.items.map((i) => [i.contactId, i.views, i.chain])).toEqual([[a.contactId, 1, []]]);
    expect(second.nextCursor).toBeNull();
    const contacts = (await api(rep.token).get(`/api/admin/cards/${rep.id}/visitors?relation=contact`).expect(200)).body as Visitors;
    expect(contacts.items.map((i) => i.contactId)).toEqual([c.contactId]);
    await api(rep.token).get(`/api/admin/cards/${rep.id}/visitors?relation=friend`).expect(400);
    const listed = (await api(rep.token).get('/api/admin/cards').expect(200)).body as { items: { visitors: number; contacts: number }[] };
    expect(listed.items).toEqual([expect.objectContaining({ visitors: 3, contacts: 1 })]);
  });
});
