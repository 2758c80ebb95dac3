import request from 'supertest';
import { Contact } from '../../../entities/contact.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

describeEachDatabase('admin API: the merged contact timeline', (db) => {
  let t: AdminTestApp;
  let token: string;
  let contactId: number;

  const get = (path: string, bearer = token) => request(t.server).get(path).set('authorization', `Bearer ${bearer}`);

  beforeEach(async () => {
    const ds = db().dataSource;
    t = buildAdminTestApp(ds);
    token = await t.signIn({ username: 'admin', role: 'admin' });
    const now = t.clock.now();
    contactId = (await ds.manager.save(Contact, ds.manager.create(Contact, { name: '王', createdAt: now, updatedAt: now }))).id;
    await ds.manager.insert(Interaction, {
      contactId,
      type: 'text',
      channel: 'oa',
      occurredAt: now,
      detail: { content: '你好', openid: 'o_1' },
      dedupeKey: 'test:text',
      createdAt: now,
    });
    const tag = await t.transactor.run((m) => t.contactTags.ensureTag(m, { group: '兴趣', name: '咖啡' }));
    t.clock.advance(1000);
    await request(t.server)
      .post(`/api/admin/contacts/${contactId}/tags`)
      .set('authorization', `Bearer ${token}`)
      .send({ add: [tag.id], remove: [] })
      .expect(200);
  });

  it('answers interactions only by default (the public shape), and every source when asked, with who changed a tag', async () => {
    const plain = await get(`/api/admin/contacts/${contactId}/timeline`).expect(200);
    expect(plain.body).toEqual({
      items: [
        {
          kind: 'interaction',
          id: expect.any(Number) as number,
          type: 'text',
          channel: 'oa',
          direction: 'in',
          at: expect.any(String) as string,
          detail: { content: '你好', openid: 'o_1' },
        },
      ],
      nextBefore: null,
    });

    const merged = await get(`/api/admin/contacts/${contactId}/timeline?kinds=interaction,tag_change,score&limit=1`).expect(200);
    const first = merged.body as {
      items: { kind: string; op?: string; tag?: { group: string; name: string }; actor?: unknown; cause?: string }[];
      nextBefore: string;
    };
    expect(first.items).toEqual([
      expect.objectContaining({
        kind: 'tag_change',
        op: 'add',
        tag: { id: expect.any(Number) as number, group: '兴趣', name: '咖啡' },
        cause: 'manual',
      }),
    ]);
    expect(first.items[0].actor).toEqual({ kind: 'operator', id: expect.any(Number) as number, name: 'admin' });
    expect(first.nextBefore).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z_t_\d+$/);
    const second = await get(
      `/api/admin/contacts/${contactId}/timeline?kinds=interaction,tag_change,score&limit=1&before=${encodeURIComponent(first.nextBefore)}`,
    ).expect(200);
    expect(second.body).toMatchObject({ items: [{ kind: 'interaction', type: 'text' }], nextBefore: null });
  });

  it('refuses an unknown kind or cursor, and hides the timeline of a contact a rep does not follow', async () => {
    const bad = await get(`/api/admin/contacts/${contactId}/timeline?kinds=interaction,emails`).expect(400);
    expect(bad.body).toMatchObject({ error: { code: 'bad_request', details: [{ path: expect.stringContaining('kinds') as string }] } });
    await get(`/api/admin/contacts/${contactId}/timeline?before=2026-11-21T10:00:00.000Z_x_3`).expect(400);
    const rep = await t.signIn({ username: 'rep', role: 'sales', wecomUserId: 'rep-1' });
    await get(`/api/admin/contacts/${contactId}/timeline?kinds=tag_change`, rep).expect(404);
  });
});
