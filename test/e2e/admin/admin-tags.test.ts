import request from 'supertest';
import { AuditLog } from '../../../entities/audit-log.entity';
import { Contact } from '../../../entities/contact.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Tag } from '../../../entities/tag.entity';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

describeEachDatabase('admin API: tag groups, tags and tag rules', (db) => {
  let t: AdminTestApp;
  let token: string;

  beforeEach(async () => {
    t = buildAdminTestApp(db().dataSource);
    token = await t.signIn({ username: 'olga', role: 'operator' });
  });

  const send = (method: 'post' | 'patch' | 'delete', path: string, body?: object) => {
    const req = request(t.server)[method](path).set('Authorization', `Bearer ${token}`);
    return body === undefined ? req : req.send(body);
  };
  const get = (path: string) => request(t.server).get(path).set('Authorization', `Bearer ${token}`);
  const auditActions = async () =>
    (
      await db()
        .dataSource.getRepository(AuditLog)
        .find({ order: { id: 'ASC' } })
    ).filter((row) => !['login', 'operator.create'].includes(row.action));

  it('creates, lists, renames and deletes groups and tags, 409 on duplicate names, with an audit row for each change', async () => {
    const group = (await send('post', '/api/admin/tag-groups', { name: 'Interest', syncWecom: false }).expect(201)).body as { id: number };
    expect(group).toMatchObject({ name: 'Interest', syncOa: true, syncWecom: false, tagCount: 0 });
    expect(((await send('post', '/api/admin/tag-groups', { name: 'Interest' }).expect(409)).body as ErrorBody).error.code).toBe('conflict');

    const vip = (await send('post', '/api/admin/tags', { groupId: group.id, name: 'VIP' }).expect(201)).body as { id: number };
    await send('post', '/api/admin/tags', { groupId: group.id, name: 'VIP' }).expect(409);
    await send('post', '/api/admin/tags', { groupId: 999999, name: 'VIP' }).expect(400);
    const lead = (await send('post', '/api/admin/tags', { groupId: group.id, name: 'Lead' }).expect(201)).body as { id: number };
    await send('patch', `/api/admin/tags/${lead.id}`, { name: 'VIP' }).expect(409);
    await send('patch', `/api/admin/tags/${lead.id}`, { name: 'Hot lead' }).expect(200);

    const now = t.clock.now();
    const contact = await db().dataSource.getRepository(Contact).insert({ name: 'x', createdAt: now, updatedAt: now });
    const contactId = Number((contact.identifiers[0] as { id: number }).id);
    await db().dataSource.getRepository(ContactTag).insert({ contactId, tagId: vip.id, source: 'operator:1', createdAt: now });

    const tags = (await get('/api/admin/tags').expect(200)).body as { items: unknown[] };
    expect(tags.items).toEqual([
      expect.objectContaining({ id: lead.id, group: 'Interest', name: 'Hot lead', contactCount: 0 }),
      expect.objectContaining({ id: vip.id, groupId: group.id, group: 'Interest', name: 'VIP', contactCount: 1 }),
    ]);
    expect(((await get('/api/admin/tag-groups').expect(200)).body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ name: 'Interest', tagCount: 2 }),
    ]);

    await send('patch', `/api/admin/tag-groups/${group.id}`, { name: 'Interests', syncOa: false }).expect(200);

    const deleted = await send('delete', `/api/admin/tags/${vip.id}`).expect(200);
    expect(deleted.body).toEqual({ deleted: true, id: vip.id, removedContactTags: 1 });
    expect(await db().dataSource.getRepository(ContactTag).count()).toBe(0);
    await send('delete', `/api/admin/tags/${vip.id}`).expect(404);

    const actions = await auditActions();
    expect(actions.map((row) => row.action)).toEqual([
      'tag_group.create',
      'tag.create',
      'tag.create',
      'tag.update',
      'tag_group.update',
      'tag.delete',
    ]);
    expect(actions.every((row) => row.operatorId !== null && row.ip !== null)).toBe(true);
    expect(actions[3].detail).toMatchObject({ changed: ['name'], 'before.name': 'Lead', 'after.name': 'Hot lead' });
    expect(actions[4].detail).toMatchObject({ changed: ['name', 'syncOa'], 'before.syncOa': true, 'after.syncOa': false });
    expect(actions[5]).toMatchObject({
      targetType: 'tag',
      targetId: String(vip.id),
      detail: { group: 'Interests', name: 'VIP', removedContactTags: 1 },
    });
  });

  it('refuses to delete a group that still has tags unless forced, then deletes tags and contact tags with it', async () => {
    const group = (await send('post', '/api/admin/tag-groups', { name: 'Expo' }).expect(201)).body as { id: number };
    const tag = (await send('post', '/api/admin/tags', { groupId: group.id, name: 'Visitor' }).expect(201)).body as { id: number };
    const now = t.clock.now();
    await db().dataSource.getRepository(ContactTag).insert({ contactId: 1, tagId: tag.id, source: 'rule:1', createdAt: now });

    const refused = (await send('delete', `/api/admin/tag-groups/${group.id}`).expect(409)).body as ErrorBody;
    expect(refused.error).toMatchObject({ code: 'group_not_empty' });
    expect(refused.error.message).toContain('force=true');
    const forced = await send('delete', `/api/admin/tag-groups/${group.id}?force=true`).expect(200);
    expect(forced.body).toEqual({ deleted: true, id: group.id, deletedTags: 1, removedContactTags: 1 });
    expect(await db().dataSource.getRepository(Tag).count()).toBe(0);
    expect(await db().dataSource.getRepository(ContactTag).count()).toBe(0);
    const last = (await auditActions()).at(-1);
    expect(last).toMatchObject({ action: 'tag_group.delete', detail: { name: 'Expo', deletedTags: ['Visitor'], removedContactTags: 1 } });
  });

  it('answers 400 naming the field for wrong types and unknown fields', async () => {
    const res = (await send('post', '/api/admin/tag-groups', { name: 7, syncOa: 'yes' }).expect(400)).body as ErrorBody;
    expect(res.error.code).toBe('bad_request');
    expect(res.error.details?.map((d) => d.path).sort()).toEqual(['name', 'syncOa']);
    const unknown = (await send('post', '/api/admin/tags', { groupId: 1, name: 'x', colour: 'red' }).expect(400)).body as ErrorBody;
    expect(unknown.error.details?.[0].message).toMatch(/colour/);
    await send('post', '/api/admin/tag-groups', { name: '' }).expect(400);
    await send('post', '/api/admin/tag-groups', { name: 'x'.repeat(65) }).expect(400);
  });

  describe('tag rules', () => {
    const rule = {
      name: 'Price question',
      interactionType: 'text',
      matchKind: 'keyword_contains',
      matchValue: '价格',
      addTags: [{ group: 'Intent', name: 'Price' }],
      scorePoints: 5,
      replyText: '价格表请见菜单',
    };

    it('creates, reads, updates and deletes a rule, with an audit row naming what changed', async () => {
      const created = (await send('post', '/api/admin/tag-rules', rule).expect(201)).body as { id: number };
      expect(created).toMatchObject({ ...rule, enabled: true, priority: 100, removeTags: [], replyNews: null });
      expect((await get(`/api/admin/tag-rules/${created.id}`).expect(200)).body).toEqual(created);

      const updated = await send('patch', `/api/admin/tag-rules/${created.id}`, {
        scorePoints: -3,
        enabled: false,
        replyText: null,
        replyNews: [{ title: 'Prices', url: 'https://example.com/p' }],
      }).expect(200);
      expect(updated.body).toMatchObject({
        scorePoints: -3,
        enabled: false,
        replyText: null,
        replyNews: [{ title: 'Prices', url: 'https://example.com/p' }],
      });
      // The installation's default rules are listed too; the new one is there once.
      const listed = ((await get('/api/admin/tag-rules').expect(200)).body as { items: { id: number }[] }).items;
      expect(listed.filter((r) => r.id === created.id)).toHaveLength(1);

      await send('delete', `/api/admin/tag-rules/${created.id}`).expect(200);
      await get(`/api/admin/tag-rules/${created.id}`).expect(404);
      await send('patch', `/api/admin/tag-rules/${created.id}`, { enabled: true }).expect(404);

      const actions = await auditActions();
      expect(actions.map((row) => row.action)).toEqual(['tag_rule.create', 'tag_rule.update', 'tag_rule.delete']);
      expect(actions[0].detail).toMatchObject({ name: 'Price question', matchValue: '价格', addTags: JSON.stringify(rule.addTags) });
      expect(actions[1].detail).toMatchObject({
        changed: ['enabled', 'scorePoints', 'replyText', 'replyNews'],
        'before.scorePoints': 5,
        'after.scorePoints': -3,
      });
      expect(actions[2]).toMatchObject({ targetType: 'tag_rule', targetId: String(created.id) });
    });

    it('answers 409 for a duplicate rule name', async () => {
      await send('post', '/api/admin/tag-rules', rule).expect(201);
      const duplicate = (await send('post', '/api/admin/tag-rules', rule).expect(409)).body as ErrorBody;
      // The detail names the field and rule, so the page says "name taken" under the name.
      expect(duplicate.error).toMatchObject({ code: 'conflict', details: [{ path: 'name', code: 'name_taken' }] });
      const other = (await send('post', '/api/admin/tag-rules', { ...rule, name: 'Other' }).expect(201)).body as { id: number };
      await send('patch', `/api/admin/tag-rules/${other.id}`, { name: 'Price question' }).expect(409);
    });

    it('answers 400 with the field paths for wrong types', async () => {
      const res = (
        await send('post', '/api/admin/tag-rules', {
          ...rule,
          scorePoints: '5',
          addTags: [{ group: 'Intent' }],
          matchKind: 'regex',
        }).expect(400)
      ).body as ErrorBody;
      expect(res.error.code).toBe('bad_request');
      expect(res.error.details?.map((d) => d.path).sort()).toEqual(['addTags.0.name', 'matchKind', 'scorePoints']);
      const ranges = (await send('post', '/api/admin/tag-rules', { ...rule, scorePoints: 1001, name: '' }).expect(400)).body as ErrorBody;
      expect(ranges.error.details?.map((d) => d.path).sort()).toEqual(['name', 'scorePoints']);
      await send('post', '/api/admin/tag-rules', { ...rule, scorePoints: 1.5 }).expect(400);
    });

    it('enforces the rules that span fields, on create and on the merged rule of a patch', async () => {
      const noValue = (await send('post', '/api/admin/tag-rules', { ...rule, matchValue: undefined }).expect(400)).body as ErrorBody;
      expect(noValue.error.details?.map((d) => d.path)).toEqual(['matchValue']);
      expect(noValue.error.details?.[0].message).toContain('keyword_contains');
      const both = (await send('post', '/api/admin/tag-rules', { ...rule, replyNews: [{ title: 'A' }] }).expect(400)).body as ErrorBody;
      expect(both.error.details?.[0].path).toBe('replyNews');

      // 2048 bytes is the limit: 682 three-byte characters fit, 683 do not.
      await send('post', '/api/admin/tag-rules', { ...rule, name: 'Long', replyText: '价'.repeat(682) }).expect(201);
      const tooLong = (await send('post', '/api/admin/tag-rules', { ...rule, name: 'Longer', replyText: '价'.repeat(683) }).expect(400))
        .body as ErrorBody;
      expect(tooLong.error.details?.[0].path).toBe('replyText');
      expect(tooLong.error.details?.[0].message).toContain('2048 bytes');

      const anyRule = (
        await send('post', '/api/admin/tag-rules', {
          name: 'Every follow',
          interactionType: 'subscribe',
          matchKind: 'any',
          scorePoints: 1,
        }).expect(201)
      ).body as {
        id: number;
        matchValue: string | null;
      };
      expect(anyRule.matchValue).toBeNull();
      await send('patch', `/api/admin/tag-rules/${anyRule.id}`, { matchKind: 'scene' }).expect(400);
      await send('patch', `/api/admin/tag-rules/${anyRule.id}`, { matchKind: 'scene', matchValue: '*' }).expect(200);
    });
  });
});
