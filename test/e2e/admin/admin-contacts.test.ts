import request from 'supertest';
import type { DataSource } from 'typeorm';
import { Contact, type LifecycleStage } from '../../../entities/contact.entity';
import { ContactFollow } from '../../../entities/contact-follow.entity';
import { ContactIdentity, type IdentityKind } from '../../../entities/contact-identity.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { refreshSearchTerms } from '../../../server/modules/contacts/search-terms';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

const at = (iso: string) => new Date(iso);

interface SeedContactParams {
  name: string;
  createdAt: string;
  owner?: string | null;
  /** WeCom reps who follow the contact, with their relation's status (the owner follows too). */
  follows?: [string, 'active' | 'removed'][];
  stage?: LifecycleStage;
  lastInteractionAt?: string;
  identities?: [IdentityKind, string][];
  tags?: string[];
  mergedIntoId?: number;
  score?: number;
  source?: string;
}

async function seedContact(dataSource: DataSource, p: SeedContactParams): Promise<number> {
  const created = at(p.createdAt);
  const inserted = await dataSource.getRepository(Contact).insert({
    name: p.name,
    score: p.score ?? 0,
    stage: p.stage ?? 'acquired',
    firstSource: p.source ?? null,
    lastInteractionAt: p.lastInteractionAt ? at(p.lastInteractionAt) : null,
    ownerUserId: p.owner ?? null,
    mergedIntoId: p.mergedIntoId ?? null,
    createdAt: created,
    updatedAt: created,
  });
  const contactId = Number((inserted.identifiers[0] as { id: number }).id);
  const follows: [string, 'active' | 'removed'][] = [...(p.owner ? [[p.owner, 'active'] as [string, 'active']] : []), ...(p.follows ?? [])];
  for (const [userId, status] of follows) {
    await dataSource
      .getRepository(ContactFollow)
      .insert({ contactId, userId, status, state: null, createdAt: created, updatedAt: created });
  }
  for (const [kind, value] of p.identities ?? []) {
    await dataSource
      .getRepository(ContactIdentity)
      .insert({ contactId, kind, appId: kind === 'phone' || kind === 'unionid' ? '' : 'wx-app', value, createdAt: created });
  }
  for (const name of p.tags ?? []) {
    let group = await dataSource.getRepository(TagGroup).findOneBy({ name: 'Interest' });
    if (!group) {
      await dataSource.getRepository(TagGroup).insert({ name: 'Interest', createdAt: created });
      group = await dataSource.getRepository(TagGroup).findOneByOrFail({ name: 'Interest' });
    }
    let tag = await dataSource.getRepository(Tag).findOneBy({ groupId: group.id, name });
    if (!tag) {
      await dataSource.getRepository(Tag).insert({ groupId: group.id, name, createdAt: created });
      tag = await dataSource.getRepository(Tag).findOneByOrFail({ groupId: group.id, name });
    }
    await dataSource.getRepository(ContactTag).insert({ contactId, tagId: tag.id, source: 'operator:1', createdAt: created });
  }
  // What the contact writers do with every name and identity: the search finds it by its pieces.
  await refreshSearchTerms(dataSource.manager, [contactId]);
  return contactId;
}

describeEachDatabase('admin API: contacts and timeline', (db) => {
  let t: AdminTestApp;
  let adminToken: string;
  let ids: { li: number; wang: number; zhang: number; merged: number };

  beforeEach(async () => {
    const ds = db().dataSource;
    t = buildAdminTestApp(ds);
    adminToken = await t.signIn({ username: 'admin', role: 'admin' });
    const li = await seedContact(ds, {
      name: '李雷',
      createdAt: '2026-11-01T00:00:00.000Z',
      owner: 'rep-li',
      identities: [
        ['oa_openid', 'oOPENID_li'],
        ['unionid', 'UNION_li'],
        ['phone', '13812345678'],
      ],
      tags: ['VIP', 'Expo 2026'],
      score: 12,
      source: 'qr:expo',
    });
    const wang = await seedContact(ds, {
      name: '王芳',
      createdAt: '2026-11-02T00:00:00.000Z',
      owner: 'rep-wang',
      identities: [['external_userid', 'wmEXT_wang']],
    });
    const zhang = await seedContact(ds, { name: '张伟 100%', createdAt: '2026-11-03T00:00:00.000Z', owner: 'rep-li' });
    const merged = await seedContact(ds, { name: '李雷 (old)', createdAt: '2026-11-04T00:00:00.000Z', mergedIntoId: li });
    ids = { li, wang, zhang, merged };
  });

  const get = (path: string, token = adminToken) => request(t.server).get(path).set('Authorization', `Bearer ${token}`);

  it('lists contacts newest first, without merged ones, in the documented shape', async () => {
    const res = await get('/api/admin/contacts').expect(200);
    // The documented fields; the page's columns come beside them (contacts-identity.test.ts).
    expect(res.body).toMatchObject({
      total: 3,
      totalCapped: false,
      next: null,
      items: [
        {
          id: ids.zhang,
          name: '张伟 100%',
          openid: null,
          unionid: null,
          externalUserId: null,
          tags: [],
          score: 0,
          stage: 'acquired',
          source: null,
        },
        {
          id: ids.wang,
          name: '王芳',
          openid: null,
          unionid: null,
          externalUserId: 'wmEXT_wang',
          tags: [],
          score: 0,
          stage: 'acquired',
          source: null,
        },
        {
          id: ids.li,
          name: '李雷',
          openid: 'oOPENID_li',
          unionid: 'UNION_li',
          externalUserId: null,
          tags: ['Expo 2026', 'VIP'],
          score: 12,
          stage: 'acquired',
          source: 'qr:expo',
        },
      ],
    });
  });

  it('searches by name, openid, unionid, external_userid, full phone number and exact id', async () => {
    const idsFor = async (q: string) =>
      ((await get(`/api/admin/contacts?q=${encodeURIComponent(q)}`).expect(200)).body as { items: { id: number }[] }).items.map(
        (item) => item.id,
      );
    expect(await idsFor('李')).toEqual([ids.li]);
    expect(await idsFor('oOPENID_li')).toEqual([ids.li]);
    expect(await idsFor('UNION_li')).toEqual([ids.li]);
    expect(await idsFor('wmEXT_wang')).toEqual([ids.wang]);
    expect(await idsFor('13812345678')).toEqual([ids.li]);
    expect(await idsFor('+86 138-1234-5678')).toEqual([ids.li]);
    // Part of a phone number finds it too (issue 13): the search holds its pieces.
    expect(await idsFor('1381234')).toEqual([ids.li]);
    expect(await idsFor(String(ids.wang))).toEqual([ids.wang]);
    // LIKE wildcards in the text are literal.
    expect(await idsFor('100%')).toEqual([ids.zhang]);
    expect(await idsFor('%')).toEqual([ids.zhang]);
    expect(await idsFor('_')).toEqual([]);
  });

  it('searches by source channel and by tag name, exactly', async () => {
    const idsFor = async (q: string) =>
      ((await get(`/api/admin/contacts?q=${encodeURIComponent(q)}`).expect(200)).body as { items: { id: number }[] }).items.map(
        (item) => item.id,
      );
    expect(await idsFor('qr:expo')).toEqual([ids.li]);
    expect(await idsFor('Expo 2026')).toEqual([ids.li]);
    expect(await idsFor('Expo')).toEqual([]);
  });

  it('pages by keyset: next comes back as after, the total is on the first page only', async () => {
    const first = await get('/api/admin/contacts?limit=2').expect(200);
    expect(first.body).toMatchObject({ total: 3, totalCapped: false, next: ids.wang, items: [{ id: ids.zhang }, { id: ids.wang }] });
    const second = await get(`/api/admin/contacts?limit=2&after=${ids.wang}`).expect(200);
    expect(second.body).toMatchObject({ total: null, next: null, items: [{ id: ids.li }] });
    // A contact created between the pages does not shift the second page (an offset would).
    await seedContact(db().dataSource, { name: 'new', createdAt: '2026-11-05T00:00:00.000Z' });
    expect(
      ((await get(`/api/admin/contacts?limit=2&after=${ids.wang}`).expect(200)).body as { items: { id: number }[] }).items.map(
        (item) => item.id,
      ),
    ).toEqual([ids.li]);
    await get('/api/admin/contacts?limit=101').expect(400);
    await get('/api/admin/contacts?limit=abc').expect(400);
    await get('/api/admin/contacts?after=-1').expect(400);
  });

  it('filters by tag, stage, source, score range and activity, and counts with the same filters', async () => {
    const ds = db().dataSource;
    const active = await seedContact(ds, {
      name: 'active',
      createdAt: '2026-11-05T00:00:00.000Z',
      stage: 'retained',
      score: 40,
      lastInteractionAt: '2026-11-20T00:00:00.000Z',
      tags: ['VIP'],
    });
    const silent = await seedContact(ds, {
      name: 'silent',
      createdAt: '2026-11-06T00:00:00.000Z',
      stage: 'retained',
      score: 5,
      lastInteractionAt: '2026-09-01T00:00:00.000Z',
      source: 'qr:expo',
    });
    const vip = (await ds.getRepository(Tag).findOneByOrFail({ name: 'VIP' })).id;
    const idsOf = async (query: string) =>
      ((await get(`/api/admin/contacts?${query}`).expect(200)).body as { items: { id: number }[] }).items.map((item) => item.id);
    const countOf = async (query: string) =>
      (await get(`/api/admin/contacts/count?${query}`).expect(200)).body as { total: number; totalCapped: boolean };

    expect(await idsOf(`tagId=${vip}`)).toEqual([active, ids.li]);
    expect(await idsOf('stage=retained')).toEqual([silent, active]);
    expect(await idsOf('source=qr:expo')).toEqual([silent, ids.li]);
    expect(await idsOf('minScore=10')).toEqual([active, ids.li]);
    expect(await idsOf('minScore=10&maxScore=20')).toEqual([ids.li]);
    // The manual clock stands at 2026-11-23T08:00Z.
    expect(await idsOf('activeWithinDays=30')).toEqual([active]);
    expect(await idsOf('silentForDays=30')).toEqual([silent, ids.zhang, ids.wang, ids.li]);
    expect(await idsOf(`tagId=${vip}&stage=retained&activeWithinDays=7`)).toEqual([active]);
    expect(await idsOf('q=VIP&stage=retained')).toEqual([active]);
    expect(await idsOf(`q=qr:expo&tagId=${vip}`)).toEqual([ids.li]);

    expect(await countOf('')).toEqual({ total: 5, totalCapped: false });
    expect(await countOf('stage=retained&minScore=10')).toEqual({ total: 1, totalCapped: false });
    expect(await countOf('q=oOPENID_li')).toEqual({ total: 1, totalCapped: false });
    await get('/api/admin/contacts?stage=unknown').expect(400);
    await get('/api/admin/contacts/count?silentForDays=0').expect(400);
  });

  it("caps the first page's total at 1,000 and the count at 10,000, and says so", async () => {
    const ds = db().dataSource;
    const rows = Array.from(
      { length: 10_001 },
      (_, i) => `('bulk ${i}', 0, 'acquired', '2026-11-10 00:00:00.000', '2026-11-10 00:00:00.000')`,
    );
    for (let i = 0; i < rows.length; i += 2000)
      await ds.query(`INSERT INTO contacts (name, score, stage, created_at, updated_at) VALUES ${rows.slice(i, i + 2000).join(',')}`);
    expect((await get('/api/admin/contacts?limit=1').expect(200)).body).toMatchObject({ total: 1_000, totalCapped: true });
    expect((await get('/api/admin/contacts/count').expect(200)).body).toEqual({ total: 10_000, totalCapped: true });
  });

  it('shows a contact with identities, tags, score, sources and owner', async () => {
    const res = await get(`/api/admin/contacts/${ids.li}`).expect(200);
    const body = res.body as { identities: unknown[]; tags: { group: string; name: string }[] };
    expect(body.identities).toContainEqual({ kind: 'phone', appId: '', value: '13812345678' });
    expect(body.tags.map((tag) => [tag.group, tag.name])).toEqual([
      ['Interest', 'Expo 2026'],
      ['Interest', 'VIP'],
    ]);
    expect(body).toMatchObject({
      id: ids.li,
      name: '李雷',
      score: 12,
      stage: 'acquired',
      firstSource: 'qr:expo',
      ownerUserId: 'rep-li',
      openid: 'oOPENID_li',
      unionid: 'UNION_li',
    });
    await get('/api/admin/contacts/999999').expect(404);
    await get('/api/admin/contacts/abc').expect(404);
  });

  it('lets a sales rep see only the contacts they follow in WeCom, with phones masked, and 404 on the others', async () => {
    // A second rep following 王芳 does not hide her from rep-wang; a removed relation hides her from rep-li.
    await db()
      .dataSource.getRepository(ContactFollow)
      .insert({
        contactId: ids.wang,
        userId: 'rep-li',
        status: 'removed',
        state: null,
        createdAt: at('2026-11-02T00:00:00.000Z'),
        updatedAt: at('2026-11-02T00:00:00.000Z'),
      });
    await db()
      .dataSource.getRepository(ContactFollow)
      .insert({
        contactId: ids.zhang,
        userId: 'rep-wang',
        status: 'active',
        state: 'expo',
        createdAt: at('2026-11-03T00:00:00.000Z'),
        updatedAt: at('2026-11-03T00:00:00.000Z'),
      });
    const wangRep = await t.signIn({ username: 'rep-w', role: 'sales', wecomUserId: 'rep-wang' });
    expect(
      ((await get('/api/admin/contacts', wangRep).expect(200)).body as { items: { id: number }[] }).items.map((item) => item.id),
    ).toEqual([ids.zhang, ids.wang]);
    expect((await get('/api/admin/contacts/count', wangRep).expect(200)).body).toEqual({ total: 2, totalCapped: false });

    const sales = await t.signIn({ username: 'rep', role: 'sales', wecomUserId: 'rep-li' });
    const list = await get('/api/admin/contacts', sales).expect(200);
    expect((list.body as { total: number; items: { id: number }[] }).items.map((item) => item.id)).toEqual([ids.zhang, ids.li]);
    const detail = await get(`/api/admin/contacts/${ids.li}`, sales).expect(200);
    expect((detail.body as { identities: unknown[] }).identities).toContainEqual({ kind: 'phone', appId: '', value: '138****5678' });
    expect(JSON.stringify(detail.body)).not.toContain('13812345678');
    expect((await get(`/api/admin/contacts/${ids.wang}`, sales).expect(404)).body).toEqual({
      error: { code: 'not_found', message: 'No such contact' },
    });
    await get(`/api/admin/contacts/${ids.wang}/timeline`, sales).expect(404);
    expect(((await get('/api/admin/contacts?q=wmEXT_wang', sales).expect(200)).body as { total: number }).total).toBe(0);

    // A lead handed to rep-li (a sales assignment, e.g. a card viewer who saved the card) opens for
    // them though they do not follow 王芳 in WeCom; it stays out of their customer list.
    await db().dataSource.query(
      'INSERT INTO sales_assignments (contact_id, user_id, operator_id, reason, dedupe_key, notify_status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [ids.wang, 'rep-li', null, 'card:1', `card:1:${ids.wang}`, 'sent', '2026-11-04 00:00:00.000'],
    );
    await get(`/api/admin/contacts/${ids.wang}`, sales).expect(200);
    await get(`/api/admin/contacts/${ids.wang}/timeline`, sales).expect(200);
    expect(
      ((await get('/api/admin/contacts', sales).expect(200)).body as { items: { id: number }[] }).items.map((item) => item.id),
    ).toEqual([ids.zhang, ids.li]);
    await get(`/api/admin/contacts/${ids.wang}`, wangRep).expect(200);

    const repWithoutUserId = await t.signIn({ username: 'rep2', role: 'sales' });
    expect(((await get('/api/admin/contacts', repWithoutUserId).expect(200)).body as { total: number }).total).toBe(0);
  });

  it('keeps sales reps out of tags, rules, operators and the audit log (403)', async () => {
    const sales = await t.signIn({ username: 'rep', role: 'sales', wecomUserId: 'rep-li' });
    for (const path of [
      '/api/admin/tags',
      '/api/admin/tag-groups',
      '/api/admin/tag-rules',
      '/api/admin/operators',
      '/api/admin/audit-log',
    ]) {
      expect((await get(path, sales).expect(403)).body).toEqual({ error: { code: 'forbidden', message: 'Your role does not allow this' } });
    }
    await request(t.server).post('/api/admin/tag-groups').set('Authorization', `Bearer ${sales}`).send({ name: 'x' }).expect(403);
  });

  it('answers the timeline newest first by (occurred_at, id), identically on both databases, and pages with before', async () => {
    const repo = db().dataSource.getRepository(Interaction);
    const rows: [string, string][] = [
      ['subscribe', '2026-11-20T10:00:00.000Z'],
      ['text', '2026-11-21T10:00:00.123Z'],
      ['click', '2026-11-21T10:00:00.123Z'],
      ['scan', '2026-11-22T09:30:00.500Z'],
    ];
    for (const [type, time] of rows) {
      await repo.insert({
        contactId: ids.li,
        type,
        channel: 'oa',
        occurredAt: at(time),
        detail: { n: type },
        dedupeKey: `test:${type}`,
        createdAt: at(time),
      });
    }
    await repo.insert({
      contactId: ids.wang,
      type: 'text',
      channel: 'wecom',
      occurredAt: at('2026-11-23T00:00:00.000Z'),
      detail: {},
      dedupeKey: 'test:wang-text',
      createdAt: at('2026-11-23T00:00:00.000Z'),
    });

    const all = await get(`/api/admin/contacts/${ids.li}/timeline`).expect(200);
    const items = (all.body as { items: { type: string; channel: string; at: string; detail: unknown }[] }).items;
    expect(items.map((item) => [item.type, item.at])).toEqual([
      ['scan', '2026-11-22T09:30:00.500Z'],
      ['click', '2026-11-21T10:00:00.123Z'],
      ['text', '2026-11-21T10:00:00.123Z'],
      ['subscribe', '2026-11-20T10:00:00.000Z'],
    ]);
    expect(items[0]).toMatchObject({ type: 'scan', channel: 'oa', detail: { n: 'scan' } });

    // Paging with the cursor splits the two events of the same millisecond without losing one.
    const first = await get(`/api/admin/contacts/${ids.li}/timeline?limit=2`).expect(200);
    const page1 = first.body as { items: { type: string }[]; nextBefore: string };
    expect(page1.items.map((item) => item.type)).toEqual(['scan', 'click']);
    const second = await get(`/api/admin/contacts/${ids.li}/timeline?limit=2&before=${encodeURIComponent(page1.nextBefore)}`).expect(200);
    expect((second.body as { items: { type: string }[] }).items.map((item) => item.type)).toEqual(['text', 'subscribe']);

    const byTime = await get(`/api/admin/contacts/${ids.li}/timeline?before=2026-11-21T10:00:00.123Z`).expect(200);
    expect((byTime.body as { items: { type: string }[] }).items.map((item) => item.type)).toEqual(['subscribe']);
    const bad = await get(`/api/admin/contacts/${ids.li}/timeline?before=yesterday`).expect(400);
    expect(bad.body).toMatchObject({ error: { code: 'bad_request', details: [{ path: 'before' }] } });
  });
});
