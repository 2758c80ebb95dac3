import request from 'supertest';
import type { DataSource } from 'typeorm';
import { AuditLog } from '../../../entities/audit-log.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { toSqlDate } from '../../../server/db/sql';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

const APP = 'wx-identity';
/** Openids as the Official Account hands them out: a shared beginning, told apart by the end. */
const openid = (tail: string) => `o6_bmjrPTlm6_2sgVt7hMZ${tail}`;

interface ListItem {
  id: number;
  name: string | null;
  display: { kind: string; text: string; firstSource: string | null; followedAt: string };
  tagItems: { group: string; name: string }[];
  lastInteraction: { type: string | null; channel: string | null; at: string } | null;
  follow: { officialAccount: string | null; wecomReps: number };
  owner: { userId: string; name: string | null } | null;
  source: string | null;
}

/**
 * Issue 13 §2, the list and identity part: a contact is never nameless on the list or its page,
 * operators keep a remark and a phone on it (validated, audited, within their role), and the list
 * finds a contact by part of its openid, phone or remark, and filters its source by prefix.
 * Contacts are written through the contact writers (ContactsService), as callbacks write them,
 * so the search pieces come from the code that keeps them.
 */
describeEachDatabase('admin API: customers you can tell apart', (db) => {
  let t: AdminTestApp;
  let ds: DataSource;
  let adminToken: string;

  const get = (path: string, token = adminToken) => request(t.server).get(path).set('Authorization', `Bearer ${token}`);
  const patch = (id: number, body: unknown, token = adminToken) =>
    request(t.server)
      .patch(`/api/admin/contacts/${id}`)
      .set('Authorization', `Bearer ${token}`)
      .send(body as object);
  const list = async (query: string, token = adminToken) =>
    ((await get(`/api/admin/contacts?${query}`, token).expect(200)).body as { items: ListItem[] }).items;
  const idsFor = async (q: string) => (await list(`q=${encodeURIComponent(q)}`)).map((item) => item.id);

  /** A follower as the callbacks create one: an openid and nothing else (no nickname since 2021). */
  async function follow(tail: string, p: { at: string; source?: string; name?: string }): Promise<number> {
    t.clock.set(new Date(p.at));
    return ds.transaction(async (manager) => {
      const { contactId } = await t.contacts.resolveContact(manager, { kind: 'oa_openid', appId: APP, value: openid(tail) });
      if (p.source) await t.contacts.recordSource(manager, contactId, p.source, new Date(p.at));
      if (p.name) await t.contacts.updateProfile(manager, contactId, { name: p.name });
      return contactId;
    });
  }

  beforeEach(async () => {
    ds = db().dataSource;
    t = buildAdminTestApp(ds);
    adminToken = await t.signIn({ username: 'admin', role: 'admin' });
  });

  it('names a follower without a nickname "OA follower" and its openid tail, on the list and on its page, with source and follow date', async () => {
    const nameless = await follow('A1b2', { at: '2026-11-02T03:00:00.000Z', source: '渠道/展会A' });
    const named = await follow('Z9y8', { at: '2026-11-03T03:00:00.000Z', name: '王总' });
    const wecom = await ds.transaction(
      async (manager) =>
        (await t.contacts.resolveContact(manager, { kind: 'external_userid', appId: 'ww-corp', value: 'wmEXTERNAL_77x9' })).contactId,
    );

    const byId = new Map((await list('')).map((item) => [item.id, item]));
    expect(byId.get(nameless)?.display).toEqual({
      kind: 'oa_follower',
      text: 'A1b2',
      firstSource: '渠道/展会A',
      followedAt: '2026-11-02T03:00:00.000Z',
    });
    expect(byId.get(named)?.display).toMatchObject({ kind: 'name', text: '王总' });
    expect(byId.get(wecom)?.display).toMatchObject({ kind: 'wecom_contact', text: '77x9' });
    for (const item of byId.values()) expect(item.display.text).not.toBe('');

    // The contact page reads the same identity from the same function.
    const page = (await get(`/api/admin/contacts/${nameless}`).expect(200)).body as { display: unknown };
    expect(page.display).toEqual(byId.get(nameless)?.display);
  });

  it('shows the last interaction, the follow state, the owner by name and the tags with their group', async () => {
    const contact = await follow('C3d4', { at: '2026-11-02T03:00:00.000Z' });
    const quiet = await follow('E5f6', { at: '2026-11-02T04:00:00.000Z' });
    await t.signIn({ username: 'lisi', role: 'sales', wecomUserId: 'rep-lisi' });
    await ds.query('UPDATE operators SET display_name = ? WHERE username = ?', ['李四', 'lisi']);
    const seen = (type: string, iso: string, key: string) =>
      ds.getRepository(Interaction).insert({
        contactId: contact,
        type,
        channel: 'oa',
        occurredAt: new Date(iso),
        detail: {},
        dedupeKey: `test:${key}`,
        refType: null,
        refId: null,
        createdAt: new Date(iso),
      });
    await seen('subscribe', '2026-11-02T03:00:00.000Z', 'sub');
    await seen('text', '2026-11-04T05:00:00.000Z', 'text');
    await seen('unsubscribe', '2026-11-05T06:00:00.000Z', 'unsub');
    await ds.query('UPDATE contacts SET last_interaction_at = ?, owner_user_id = ? WHERE id = ?', [
      toSqlDate(new Date('2026-11-05T06:00:00.000Z')),
      'rep-lisi',
      contact,
    ]);
    await ds.query('UPDATE contacts SET owner_user_id = ? WHERE id = ?', ['rep-unknown', quiet]);
    await ds.transaction((manager) => t.contacts.addFollow(manager, quiet, { userId: 'rep-unknown' }));
    const group = await t.tagCatalog.createTagGroup({ name: '购买意向', actor: { operatorId: null, ip: null } });
    if (!group.ok) throw new Error('group');
    const tag = await t.tagCatalog.createTag({ groupId: group.value.id, name: '需要发票', actor: { operatorId: null, ip: null } });
    if (!tag.ok) throw new Error('tag');
    await request(t.server)
      .post(`/api/admin/contacts/${contact}/tags`)
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ add: [tag.value.id], remove: [] })
      .expect(200);

    const byId = new Map((await list('')).map((item) => [item.id, item]));
    expect(byId.get(contact)).toMatchObject({
      lastInteraction: { type: 'unsubscribe', channel: 'oa', at: '2026-11-05T06:00:00.000Z' },
      follow: { officialAccount: 'unsubscribed', wecomReps: 0 },
      owner: { userId: 'rep-lisi', name: '李四' },
      tagItems: [{ group: '购买意向', name: '需要发票' }],
    });
    expect(byId.get(quiet)).toMatchObject({
      lastInteraction: null,
      follow: { officialAccount: 'subscribed', wecomReps: 1 },
      owner: { userId: 'rep-unknown', name: null },
    });
  });

  it('sets a remark and a phone (validated, audited, phones masked in the audit) and then shows the remark as the name', async () => {
    const contact = await follow('G7h8', { at: '2026-11-02T03:00:00.000Z' });

    const invalid = async (body: unknown, path: string) => {
      const res = await patch(contact, body).expect(400);
      const details = (res.body as { error: { details?: { path: string }[] } }).error.details ?? [];
      expect(details.map((d) => d.path)).toContain(path);
    };
    await invalid({ phone: '12345' }, 'phone');
    await invalid({ phone: '1381234567' }, 'phone');
    await invalid({ phone: '+0123456789' }, 'phone');
    await invalid({ remark: 'x'.repeat(101) }, 'remark');
    await invalid({ remark: 'ok', owner: 'me' }, '');
    await patch(contact, {}).expect(400);
    expect(await ds.getRepository(AuditLog).countBy({ action: 'contact.update' })).toBe(0);

    const saved = await patch(contact, { remark: ' 展会A 王总 ', phone: '+86 138-0013-8000' }).expect(200);
    expect(saved.body).toEqual({ remark: '展会A 王总', phone: '13800138000', timeZone: null });
    await patch(contact, { phone: '+44 20 7183 8750' }).expect(200);

    const audit = await ds.getRepository(AuditLog).find({ where: { action: 'contact.update' }, order: { id: 'ASC' } });
    expect(audit.map((row) => ({ targetType: row.targetType, targetId: row.targetId, detail: row.detail }))).toEqual([
      {
        targetType: 'contact',
        targetId: String(contact),
        detail: { remarkBefore: null, remarkAfter: '展会A 王总', phoneBefore: null, phoneAfter: '138****8000' },
      },
      { targetType: 'contact', targetId: String(contact), detail: { phoneBefore: '138****8000', phoneAfter: '+44****8750' } },
    ]);

    const page = (await get(`/api/admin/contacts/${contact}`).expect(200)).body as Record<string, unknown>;
    expect(page).toMatchObject({ remark: '展会A 王总', phone: '+442071838750', display: { kind: 'remark', text: '展会A 王总' } });
    await patch(contact, { remark: '' }).expect(200);
    expect(((await get(`/api/admin/contacts/${contact}`).expect(200)).body as ListItem).display).toMatchObject({ kind: 'oa_follower' });
  });

  it("sets a contact's time zone (an IANA name, validated, audited) and puts it back on the business zone", async () => {
    const contact = await follow('T9z0', { at: '2026-11-02T03:00:00.000Z' });
    for (const bad of ['EST', '+08:00', 'Mars/Olympus_Mons']) {
      const res = await patch(contact, { timeZone: bad }).expect(400);
      const details = (res.body as { error: { details?: { path: string; code: string }[] } }).error.details ?? [];
      expect(details.map((d) => [d.path, d.code])).toEqual([['timeZone', 'time_zone_format']]);
    }
    expect((await patch(contact, { timeZone: 'america/new_york' }).expect(200)).body).toEqual({
      remark: null,
      phone: null,
      timeZone: 'America/New_York',
    });
    expect((await get(`/api/admin/contacts/${contact}`).expect(200)).body).toMatchObject({ timeZone: 'America/New_York' });
    await patch(contact, { timeZone: null }).expect(200);
    expect((await get(`/api/admin/contacts/${contact}`).expect(200)).body).toMatchObject({ timeZone: null });
    const audit = await ds.getRepository(AuditLog).find({ where: { action: 'contact.update' }, order: { id: 'ASC' } });
    expect(audit.map((row) => row.detail)).toEqual([
      { timeZoneBefore: null, timeZoneAfter: 'America/New_York' },
      { timeZoneBefore: 'America/New_York', timeZoneAfter: null },
    ]);
  });

  it('lets a sales rep note only the customers they follow, and shows them the phone masked', async () => {
    const theirs = await follow('J1k2', { at: '2026-11-02T03:00:00.000Z' });
    const other = await follow('L3m4', { at: '2026-11-02T04:00:00.000Z' });
    await ds.transaction((manager) => t.contacts.addFollow(manager, theirs, { userId: 'rep-wang' }));
    const sales = await t.signIn({ username: 'wang', role: 'sales', wecomUserId: 'rep-wang' });

    await patch(other, { remark: '不是我的' }, sales).expect(404);
    await patch(theirs, { remark: '我的客户', phone: '13900139000' }, sales).expect(200);
    const page = (await get(`/api/admin/contacts/${theirs}`, sales).expect(200)).body as Record<string, unknown>;
    expect(page).toMatchObject({ remark: '我的客户', phone: '139****9000' });
    const audit = await ds.getRepository(AuditLog).find({ where: { action: 'contact.update' } });
    expect(audit.map((row) => row.targetId)).toEqual([String(theirs)]);
  });

  it('finds a contact by part of its openid, its phone or its remark, and by a name the platform gave', async () => {
    const a = await follow('Qx7k', { at: '2026-11-02T03:00:00.000Z' });
    const b = await follow('Rw8m', { at: '2026-11-02T04:00:00.000Z', name: '赵敏' });
    await patch(a, { remark: '展会A 采购王总', phone: '13800138000' }).expect(200);

    expect(await idsFor('Qx7k')).toEqual([a]); // the tail the list shows
    expect(await idsFor('qx7K')).toEqual([a]); // in any case
    expect(await idsFor(openid('Rw8m').slice(0, 24))).toEqual([b]); // the beginning, when it tells one apart
    expect(await idsFor('0013')).toEqual([a]); // part of the phone
    expect(await idsFor('138 0013 8000')).toEqual([a]);
    expect(await idsFor('采购王')).toEqual([a]); // part of the remark
    expect(await idsFor('王总')).toEqual([a]);
    expect(await idsFor('赵')).toEqual([b]);
    expect(await idsFor('赵敏')).toEqual([b]);
    expect(await idsFor('nothing')).toEqual([]);

    // A new remark replaces the old one's pieces.
    await patch(a, { remark: '老客户' }).expect(200);
    expect(await idsFor('采购王')).toEqual([]);
    expect(await idsFor('老客')).toEqual([a]);

    // A merge: the survivor is found by what the merged contact was found by, the merged one by nothing.
    await ds.transaction((manager) => t.contacts.mergeContacts(manager, a, b));
    expect(await idsFor('赵敏')).toEqual([a]);
    expect(await idsFor('Rw8m')).toEqual([a]);
  });

  it('filters the source by prefix, with LIKE wildcards taken literally', async () => {
    const a = await follow('S1s1', { at: '2026-11-02T03:00:00.000Z', source: '渠道/展会A' });
    const b = await follow('S2s2', { at: '2026-11-02T04:00:00.000Z', source: '渠道/展会B' });
    await follow('S3s3', { at: '2026-11-02T05:00:00.000Z', source: '海报/渠道' });
    await follow('S4s4', { at: '2026-11-02T06:00:00.000Z' });
    const bySource = async (source: string) => (await list(`source=${encodeURIComponent(source)}`)).map((item) => item.id);

    expect(await bySource('渠道/')).toEqual([b, a]);
    expect(await bySource('渠道/展会A')).toEqual([a]);
    expect(await bySource('渠道%')).toEqual([]);
    expect(await bySource('_')).toEqual([]);
    const count = (await get(`/api/admin/contacts/count?source=${encodeURIComponent('渠道/')}`).expect(200)).body as { total: number };
    expect(count.total).toBe(2);
  });
});
