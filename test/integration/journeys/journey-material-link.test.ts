import request from 'supertest';
import { SANDBOX_TEMPLATE_IDS } from '../../../server/adapters/sandbox/sandbox-messages';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * A journey's push carrying a content centre material (issue 15 §1b: journeys draw their
 * materials from the content centre): the send node's url is the material's tracked link, the
 * engine stamps it with the journey (`jr=`), and the follower who opens it (through the push's
 * `/r/` redirect) is a `content_view` on their timeline crediting the journey. The page knows the
 * reader as web OAuth would tell it inside WeChat. SQLite and MariaDB.
 */
describeEachDatabase('a journey push carrying a content centre material', (db) => {
  let stack: TestStack;
  let token: string;
  /** Who the content page is read by: the follower, once known. */
  let reader: number | null = null;

  beforeEach(async () => {
    reader = null;
    stack = await startTestStack(db(), {}, { identifyVisitor: () => Promise.resolve(reader) });
    await stack.services.operators.createOperator({
      username: 'marketer',
      password: 'marketer-password',
      role: 'operator',
      actor: { operatorId: null, ip: null },
    });
    const login = await request(stack.baseUrl)
      .post('/api/admin/login')
      .send({ username: 'marketer', password: 'marketer-password' })
      .expect(200);
    token = (login.body as { token: string }).token;
  });
  afterEach(async () => {
    await stack.close();
  });

  const api = () => ({
    post: (path: string, body: object = {}) => request(stack.baseUrl).post(path).set('Authorization', `Bearer ${token}`).send(body),
    put: (path: string, body: object = {}) => request(stack.baseUrl).put(path).set('Authorization', `Bearer ${token}`).send(body),
  });
  const definitionWith = (url: string) => ({
    entry: { kind: 'manual' },
    start: 'push',
    nodes: [
      {
        id: 'push',
        type: 'send',
        channel: 'oa_template',
        templateId: SANDBOX_TEMPLATE_IDS.reactivationOffer,
        data: { thing1: '白皮书', thing2: '智能产线白皮书', time3: '2026年12月31日', thing4: '点击阅读' },
        url,
        next: 'done',
      },
      { id: 'done', type: 'exit' },
    ],
  });

  it('sends the tracked link stamped with the journey, and the view is a content_view crediting it', async () => {
    const material = (await api().post('/api/admin/content', { kind: 'article', title: '智能产线白皮书', body: '# 白皮书' }).expect(201))
      .body as { id: number; code: string; url: string };
    const archived = (await api().post('/api/admin/content', { kind: 'article', title: '旧版', body: 'x' }).expect(201)).body as {
      id: number;
      url: string;
    };
    await api().post(`/api/admin/content/${archived.id}/archive`).expect(200);

    // A link to an archived material would send every contact to a 404: refused on save, naming the node.
    const refused = await api()
      .post('/api/admin/journeys', { name: '白皮书推送', definition: definitionWith(archived.url) })
      .expect(400);
    expect(JSON.stringify(refused.body)).toContain('journey_material_unknown');
    expect(JSON.stringify(refused.body)).toContain('definition.nodes.0.url');

    const { id } = (
      await api()
        .post('/api/admin/journeys', { name: '白皮书推送', definition: definitionWith(material.url) })
        .expect(201)
    ).body as { id: number };
    await api().post(`/api/admin/journeys/${id}/publish`).expect(200);
    const [{ contact_id: follower }] = await db().dataSource.query<{ contact_id: number | string }[]>(
      "SELECT contact_id FROM contact_identities WHERE kind = 'oa_openid' AND value = ?",
      [(await stack.player().subscribe({})).openid],
    );
    await stack.services.reactions.idle();
    await api()
      .post(`/api/admin/journeys/${id}/enroll`, { contactIds: [Number(follower)] })
      .expect(200);
    await request(stack.sandboxUrl).post('/sandbox/control/clock').send({ advanceSeconds: 60 }).expect(200);

    const [sent] = await db().dataSource.query<{ payload: string }[]>(
      "SELECT payload FROM outbox_messages WHERE contact_id = ? AND node_id = 'push'",
      [follower],
    );
    const push = new URL((JSON.parse(sent.payload) as { url: string }).url);
    expect(push.pathname).toMatch(/^\/r\//);
    const redirected = await request(stack.baseUrl).get(push.pathname).redirects(0).expect(302);
    expect(redirected.headers.location).toBe(`${stack.config.publicBaseUrl}/c/${material.code}?jr=${id}`);

    // Opened inside WeChat: the page knows the follower.
    reader = Number(follower);
    const target = new URL(String(redirected.headers.location));
    await request(stack.baseUrl).get(`${target.pathname}${target.search}`).expect(200);
    await stack.services.reactions.idle();
    const views = await db().dataSource.query<{ type: string; ref_type: string; ref_id: string; detail: unknown }[]>(
      "SELECT type, ref_type, ref_id, detail FROM interactions WHERE contact_id = ? AND type = 'content_view'",
      [follower],
    );
    expect(views).toHaveLength(1);
    expect(views[0]).toMatchObject({ ref_type: 'content', ref_id: String(material.id) });
    const detail = (typeof views[0].detail === 'string' ? JSON.parse(views[0].detail) : views[0].detail) as Record<string, unknown>;
    expect(detail).toMatchObject({ contentId: material.id, title: '智能产线白皮书', journeyId: id });
    // The click itself is the journey's too (link_clicked with the journey as its ref).
    const clicks = await db().dataSource.query<{ ref_id: string }[]>(
      "SELECT ref_id FROM interactions WHERE contact_id = ? AND type = 'link_clicked'",
      [follower],
    );
    expect(clicks.map((c) => c.ref_id)).toEqual([String(id)]);

    // A `jr` naming no journey is left out of the view, never an error.
    await request(stack.baseUrl).get(`/c/${material.code}?jr=999999`).expect(200);
    const last = await db().dataSource.query<{ detail: unknown }[]>(
      "SELECT detail FROM interactions WHERE contact_id = ? AND type = 'content_view' ORDER BY id DESC",
      [follower],
    );
    expect(JSON.stringify(last[0].detail)).not.toContain('journeyId');
  });
});
