import request from 'supertest';
import type { Response } from 'superagent';
import { Contact, type LifecycleStage } from '../../../entities/contact.entity';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Interaction, type Channel } from '../../../entities/interaction.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import { Task } from '../../../entities/task.entity';
import { insertedId } from '../../../server/db/sql';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';
import { expireLeases } from '../../support/leases';

/** The body as the bytes that came over the wire. */
function rawBytes(res: Response, callback: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}

describeEachDatabase('admin API for the dashboard and the contact screens', (db) => {
  let t: AdminTestApp;
  let admin: string;
  let sales: string;

  beforeEach(async () => {
    t = buildAdminTestApp(db().dataSource);
    // 2026-11-23T08:00Z is 16:00 in Shanghai.
    t.clock.set(new Date('2026-11-23T08:00:00.000Z'));
    admin = await t.signIn({ username: 'ada', role: 'admin' });
    sales = await t.signIn({ username: 'sam', role: 'sales', wecomUserId: 'sam' });
  });

  const get = (path: string, token = admin) => request(t.server).get(path).set('Authorization', `Bearer ${token}`);
  const post = (path: string, body: object, token = admin) =>
    request(t.server).post(path).set('Authorization', `Bearer ${token}`).send(body);

  const addContact = async (
    p: {
      name?: string;
      stage?: LifecycleStage;
      source?: string | null;
      createdAt?: Date;
      lastInteractionAt?: Date | null;
      mergedIntoId?: number | null;
    } = {},
  ) => {
    const at = p.createdAt ?? t.clock.now();
    const result = await db()
      .dataSource.getRepository(Contact)
      .insert({
        name: p.name ?? 'x',
        stage: p.stage ?? 'acquired',
        firstSource: p.source ?? null,
        lastInteractionAt: p.lastInteractionAt ?? null,
        mergedIntoId: p.mergedIntoId ?? null,
        createdAt: at,
        updatedAt: at,
      });
    return insertedId(result.identifiers);
  };
  let seq = 0;
  const addInteraction = async (contactId: number, channel: Channel, at: Date) => {
    seq += 1;
    await db()
      .dataSource.getRepository(Interaction)
      .insert({ contactId, type: 'text', channel, occurredAt: at, detail: {}, dedupeKey: `test:${seq}`, createdAt: at });
  };
  const makeTag = async (name: string, group = 'Interest') => {
    const groups = ((await get('/api/admin/tag-groups').expect(200)).body as { items: { id: number; name: string }[] }).items;
    const groupId =
      groups.find((g) => g.name === group)?.id ??
      ((await post('/api/admin/tag-groups', { name: group }).expect(201)).body as { id: number }).id;
    return ((await post('/api/admin/tags', { groupId, name }).expect(201)).body as { id: number }).id;
  };

  it('stats: counts live contacts per business-zone day and source, the funnel, active vs silent, interactions per day and channel, top tags', async () => {
    // 15:59:59Z is 23:59:59 in Shanghai, 16:00Z is the next day's midnight: UTC would put both on the 22nd.
    const lateOn22 = await addContact({
      source: 'expo2026',
      stage: 'activated',
      createdAt: new Date('2026-11-22T15:59:59.999Z'),
      lastInteractionAt: new Date('2026-11-23T07:00:00.000Z'),
    });
    const earlyOn23 = await addContact({
      source: 'expo2026',
      createdAt: new Date('2026-11-22T16:00:00.000Z'),
      lastInteractionAt: new Date('2026-10-01T00:00:00.000Z'),
    });
    await addContact({ source: 'poster', stage: 'revenue', createdAt: new Date('2026-11-23T07:59:00.000Z') });
    await addContact({ source: 'expo2026', createdAt: new Date('2026-11-21T15:59:59.000Z') }); // the 21st: before the 2-day range
    await addContact({
      source: 'expo2026',
      createdAt: new Date('2026-11-23T01:00:00.000Z'),
      mergedIntoId: lateOn22,
      lastInteractionAt: new Date('2026-11-23T07:00:00.000Z'),
    }); // merged: not counted
    await addInteraction(lateOn22, 'oa', new Date('2026-11-22T15:59:59.000Z'));
    await addInteraction(lateOn22, 'oa', new Date('2026-11-22T16:00:00.000Z'));
    await addInteraction(earlyOn23, 'wecom', new Date('2026-11-23T07:00:00.000Z'));
    const vip = await makeTag('VIP');
    const lead = await makeTag('Lead');
    await post(`/api/admin/contacts/${lateOn22}/tags`, { add: [vip, lead] }).expect(200);
    await post(`/api/admin/contacts/${earlyOn23}/tags`, { add: [vip] }).expect(200);

    // The rows above were written in SQL, around the services that count them, as a restore would:
    // the counters job counts each metric from its rows the first time it runs on a database.
    await t.statCounters.runOnce();
    const stats = (await get('/api/admin/stats?days=2&silentDays=14').expect(200)).body as Record<string, unknown>;
    expect(stats).toEqual({
      timezone: 'Asia/Shanghai',
      from: '2026-11-22',
      to: '2026-11-23',
      days: ['2026-11-22', '2026-11-23'],
      newContacts: [
        { day: '2026-11-22', source: 'expo2026', count: 1 },
        { day: '2026-11-23', source: 'expo2026', count: 1 },
        { day: '2026-11-23', source: 'poster', count: 1 },
      ],
      funnel: [
        { stage: 'acquired', count: 2 },
        { stage: 'activated', count: 1 },
        { stage: 'retained', count: 0 },
        { stage: 'revenue', count: 1 },
        { stage: 'referral', count: 0 },
      ],
      // Active: lateOn22 by its last interaction, the poster one and the 21st's by their creation
      // (no interaction time written yet: their reactions have not run). Silent: earlyOn23 alone.
      activity: { active: 3, silent: 1, silentDays: 14 },
      interactions: [
        { day: '2026-11-22', channel: 'oa', count: 1 },
        { day: '2026-11-23', channel: 'oa', count: 1 },
        { day: '2026-11-23', channel: 'wecom', count: 1 },
      ],
      topTags: [
        { tagId: vip, group: 'Interest', name: 'VIP', count: 2 },
        { tagId: lead, group: 'Interest', name: 'Lead', count: 1 },
      ],
      // Today is the 23rd in Shanghai (from 2026-11-22T16:00Z), yesterday the 22nd; the 7 days
      // are from 2026-11-16T08:00Z.
      headline: {
        contacts: { value: 4, previous: 0 },
        newToday: { value: 2, previous: 1 },
        new7d: { value: 4, previous: 0 },
        active7d: { value: 3, previous: null },
        silent: { value: 1, previous: null },
        interactionsToday: { value: 2, previous: 1 },
      },
    });
    await get('/api/admin/stats', sales).expect(403);
    expect(((await get('/api/admin/stats?days=400').expect(400)).body as { error: { code: string } }).error.code).toBe('bad_request');
  });

  it('stats: a follower whose reactions have not run yet is active, not silent (a follow is activity)', async () => {
    // As a callback stores it: the contact is created with the interaction; its last-interaction
    // time is written by the activity reaction after the answer, which has not run here.
    await t.transactor.run((m) =>
      t.interactions.recordInteractions(m, [
        {
          type: 'subscribe',
          channel: 'oa',
          occurredAt: new Date(t.clock.now().getTime() - 60_000),
          detail: {},
          identity: { kind: 'oa_openid', appId: 'wxapp', value: 'o-new-follower' },
          dedupeKey: 'oa:new-follower',
        },
      ]),
    );
    const [contact] = await db().dataSource.getRepository(Contact).find();
    expect(contact.lastInteractionAt).toBeNull();
    const stats = (await get('/api/admin/stats?days=7&silentDays=14').expect(200)).body as {
      activity: { active: number; silent: number };
      headline: Record<string, { value: number; previous: number | null }>;
    };
    expect(stats.activity).toMatchObject({ active: 1, silent: 0 });
    expect(stats.headline.silent.value).toBe(0);
    expect(stats.headline.active7d.value).toBe(1);
    expect(stats.headline).toMatchObject({ contacts: { value: 1 }, newToday: { value: 1, previous: 0 }, interactionsToday: { value: 1 } });

    // Three weeks later, with nothing since, the same contact is silent.
    t.clock.set(new Date(t.clock.now().getTime() + 21 * 86_400_000));
    const again = await t.signIn({ username: 'ada-later', role: 'admin' }); // the first session has expired
    const later = (await get('/api/admin/stats?days=7&silentDays=14', again).expect(200)).body as typeof stats;
    expect(later.activity).toMatchObject({ active: 0, silent: 1 });
    expect(later.headline.active7d.value).toBe(0);
  });

  it("tags one contact (audited, syncs queued), explains the score with its ledger, and hides other reps' contacts", async () => {
    const contactId = await addContact({ name: '王小明' });
    const vip = await makeTag('VIP');
    const lead = await makeTag('Lead');
    const tagged = await post(`/api/admin/contacts/${contactId}/tags`, { add: [vip, lead] }).expect(200);
    expect(tagged.body).toEqual({
      tags: [expect.objectContaining({ id: lead, name: 'Lead' }), expect.objectContaining({ id: vip, group: 'Interest', name: 'VIP' })],
    });
    const untagged = await post(`/api/admin/contacts/${contactId}/tags`, { remove: [lead] }).expect(200);
    expect(untagged.body).toEqual({ tags: [{ id: vip, group: 'Interest', name: 'VIP' }] });
    const unknown = (await post(`/api/admin/contacts/${contactId}/tags`, { add: [999999] }).expect(400)).body as {
      error: { details: { message: string }[] };
    };
    expect(unknown.error.details[0].message).toContain('999999');
    await post(`/api/admin/contacts/${contactId}/tags`, { add: [vip] }, sales).expect(404);
    // Add VIP, add Lead, remove Lead: three changes, each synced to both platforms.
    expect(await db().dataSource.getRepository(Task).countBy({ kind: 'oa_tag_sync' })).toBe(3);

    const ledger = db().dataSource.getRepository(ScoreLedger);
    for (const [i, points] of [10, 5, -3].entries()) {
      await ledger.insert({
        contactId,
        points,
        reason: `rule ${i}`,
        ruleId: i + 1,
        interactionId: null,
        dedupeKey: `test:${i}`,
        createdAt: new Date(t.clock.now().getTime() + i * 1000),
      });
    }
    const first = (await get(`/api/admin/contacts/${contactId}/score-ledger?limit=2`).expect(200)).body as {
      items: { points: number; reason: string }[];
      nextBefore: number;
    };
    expect(first.items.map((e) => e.points)).toEqual([-3, 5]);
    expect(first.items[0]).toMatchObject({ reason: 'rule 2', ruleId: 3, interactionId: null, at: '2026-11-23T08:00:02.000Z' });
    const second = (await get(`/api/admin/contacts/${contactId}/score-ledger?limit=2&before=${first.nextBefore}`).expect(200)).body as {
      items: { points: number }[];
      nextBefore: null;
    };
    expect(second).toMatchObject({ items: [{ points: 10 }], nextBefore: null });
    await get(`/api/admin/contacts/${contactId}/score-ledger`, sales).expect(404);

    const audit = (await get('/api/admin/audit-log?action=contact.').expect(200)).body as {
      items: { action: string; detail: Record<string, unknown> }[];
    };
    expect(audit.items.map((row) => [row.action, row.detail])).toEqual([
      ['contact.tags', { added: [], removed: ['Lead'] }],
      ['contact.tags', { added: ['VIP', 'Lead'], removed: [] }],
    ]);
  });

  it('bulk-tags the selected contacts at once and counts those that changed', async () => {
    const ids = [await addContact(), await addContact(), await addContact()];
    const vip = await makeTag('VIP');
    await post(`/api/admin/contacts/${ids[0]}/tags`, { add: [vip] }).expect(200);
    expect((await post('/api/admin/contacts/bulk-tags', { contactIds: ids, add: [vip] }).expect(200)).body).toEqual({ updated: 2 });
    expect(await db().dataSource.getRepository(ContactTag).countBy({ tagId: vip })).toBe(3);
    await post('/api/admin/contacts/bulk-tags', { contactIds: Array.from({ length: 501 }, (_, i) => i + 1), add: [vip] }).expect(400);
    await post('/api/admin/contacts/bulk-tags', { contactIds: ids, add: [vip] }, sales).expect(403);
  });

  it('bulk-tags everyone matching a filter as a job with progress, which a crashed worker leaves to the next one without applying anything twice', async () => {
    const matching = [
      await addContact({ stage: 'activated' }),
      await addContact({ stage: 'activated' }),
      await addContact({ stage: 'activated' }),
    ];
    await addContact({ stage: 'revenue' });
    const vip = await makeTag('VIP');
    const queued = await post('/api/admin/contacts/bulk-tags', { filter: { stage: 'activated' }, add: [vip] }).expect(202);
    const { jobId } = queued.body as { jobId: number };
    expect((await get(`/api/admin/bulk-jobs/${jobId}`).expect(200)).body).toEqual({
      id: jobId,
      status: 'pending',
      total: null,
      done: 0,
      error: null,
    });

    // A worker takes the job, commits one chunk (2 contacts) and dies without finishing.
    const claimed = await t.queue.claim({ kinds: ['bulk_tag'], limit: 1 });
    expect(claimed?.tasks.map((task) => task.id)).toEqual([jobId]);
    expect(await t.manualTagging.processBulkChunk(jobId)).toBe(true);
    expect((await get(`/api/admin/bulk-jobs/${jobId}`).expect(200)).body).toMatchObject({ status: 'running', total: 3, done: 2 });

    // Its lease runs out; the next worker finishes from the committed cursor.
    await expireLeases(db().dataSource, 'tasks');
    const outcome = await t.queue.runOnce({ handlers: t.manualTagging.handlers(), batchSize: 1 });
    expect(outcome).toEqual({ done: 1, retried: 0, failed: 0 });
    expect((await get(`/api/admin/bulk-jobs/${jobId}`).expect(200)).body).toEqual({
      id: jobId,
      status: 'done',
      total: 3,
      done: 3,
      error: null,
    });

    const rows = await db()
      .dataSource.getRepository(ContactTag)
      .find({ where: { tagId: vip }, order: { contactId: 'ASC' } });
    expect(rows.map((row) => row.contactId)).toEqual(matching);
    const syncs = await db().dataSource.getRepository(Task).findBy({ kind: 'oa_tag_sync' });
    expect(syncs).toHaveLength(3);
    await get('/api/admin/bulk-jobs/999999').expect(404);
    const audit = (await get('/api/admin/audit-log?action=contact.bulk_tags_job').expect(200)).body as { items: { targetId: string }[] };
    expect(audit.items.map((row) => row.targetId)).toEqual([String(jobId)]);
  });

  it('exports the filter as UTF-8 CSV with a BOM, Chinese headers, quoting and formula cells defused', async () => {
    const first = await addContact({ name: '=HYPERLINK("http://evil")', source: 'expo2026' });
    await db()
      .dataSource.getRepository(ContactIdentity)
      .insert({ contactId: first, kind: 'oa_openid', appId: 'wx', value: 'o-first', createdAt: t.clock.now() });
    const second = await addContact({ name: '李, "雷"\n二号', source: 'expo2026' });
    await addContact({ name: 'other', source: 'poster' });
    const vip = await makeTag('贵宾');
    await post(`/api/admin/contacts/${second}/tags`, { add: [vip] }).expect(200);
    await db().dataSource.getRepository(Contact).update({ id: second }, { score: -5 });

    const res = await get('/api/admin/contacts.csv?source=expo2026').buffer(true).parse(rawBytes).expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toContain('contacts.csv');
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toBe(
      '姓名,公众号 OpenID,UnionID,企业微信外部联系人 ID,标签,分数,阶段,来源\r\n' +
        '"李, ""雷""\n二号",,,,贵宾,-5,获客,expo2026\r\n' +
        `"'=HYPERLINK(""http://evil"")",o-first,,,,0,获客,expo2026\r\n`,
    );
    // In the operator's locale when the page asks (the link carries it), still with the BOM.
    const english = await get('/api/admin/contacts.csv?source=expo2026&locale=en').buffer(true).parse(rawBytes).expect(200);
    const englishBytes = english.body as Buffer;
    expect([...englishBytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(englishBytes.subarray(3).toString('utf8').split('\r\n').slice(0, 2)).toEqual([
      'Name,Official Account OpenID,UnionID,WeCom external contact ID,Tags,Score,Stage,Source',
      '"李, ""雷""\n二号",,,,贵宾,-5,Acquisition,expo2026',
    ]);
    await get('/api/admin/contacts.csv?locale=fr').expect(400);
    await get('/api/admin/contacts.csv', sales).expect(403);
  });

  it('dry-runs the tag rules: names every rule that fires, the tags it would apply and the reply, storing nothing', async () => {
    const price = await post('/api/admin/tag-rules', {
      name: '询价',
      interactionType: 'text',
      matchKind: 'keyword_contains',
      matchValue: '价格',
      addTags: [{ group: '兴趣', name: '询价' }],
      scorePoints: 5,
      replyText: '您好，价格表见菜单',
    }).expect(201);
    await post('/api/admin/tag-rules', {
      name: '来源',
      interactionType: 'subscribe',
      matchKind: 'scene',
      matchValue: '*',
      addTags: [{ group: '来源', name: '{scene}' }],
    }).expect(201);

    const text = (await post('/api/admin/tag-rules/dry-run', { type: 'text', content: '请问价格多少' }).expect(200)).body as {
      fired: { id: number; name: string }[];
      reply: unknown;
    };
    expect(text.fired).toContainEqual({
      id: (price.body as { id: number }).id,
      name: '询价',
      addTags: [{ group: '兴趣', name: '询价' }],
      removeTags: [],
      scorePoints: 5,
    });
    expect(text.reply).toEqual({ kind: 'text', content: '您好，价格表见菜单' });
    const scan = (await post('/api/admin/tag-rules/dry-run', { type: 'subscribe', scene: 'expo2026' }).expect(200)).body as {
      fired: { name: string; addTags: unknown[] }[];
    };
    expect(scan.fired).toContainEqual(expect.objectContaining({ name: '来源', addTags: [{ group: '来源', name: 'expo2026' }] }));
    const none = (await post('/api/admin/tag-rules/dry-run', { type: 'text', content: 'hello' }).expect(200)).body as {
      fired: { name: string }[];
    };
    expect(none.fired.map((rule) => rule.name)).not.toContain('询价');
    await post('/api/admin/tag-rules/dry-run', { content: 'x' }).expect(400);
    expect(await db().dataSource.getRepository(ContactTag).count()).toBe(0);
  });

  it('filters the audit log by operator, action and time', async () => {
    const operatorToken = await t.signIn({ username: 'olga', role: 'operator' });
    const group = (await post('/api/admin/tag-groups', { name: 'A' }).expect(201)).body as { id: number };
    t.clock.advance(60_000);
    await post('/api/admin/tags', { groupId: group.id, name: 'by-olga' }, operatorToken).expect(201);
    const olga = ((await get('/api/admin/operators').expect(200)).body as { items: { id: number; username: string }[] }).items.find(
      (o) => o.username === 'olga',
    );

    const byOlga = (await get(`/api/admin/audit-log?operatorId=${olga?.id}&action=tag.create`).expect(200)).body as {
      items: { action: string }[];
    };
    expect(byOlga.items.map((row) => row.action)).toEqual(['tag.create']);
    const later = (await get('/api/admin/audit-log?from=2026-11-23T08:00:30.000Z&action=tag.').expect(200)).body as {
      items: { action: string }[];
    };
    expect(later.items.map((row) => row.action)).toEqual(['tag.create']);
    const earlier = (await get('/api/admin/audit-log?to=2026-11-23T16:00:30%2B08:00&action=tag_group.create').expect(200)).body as {
      items: { action: string }[];
    };
    expect(earlier.items.map((row) => row.action)).toEqual(['tag_group.create']);
    await get('/api/admin/audit-log?from=yesterday').expect(400);
    await get('/api/admin/audit-log', operatorToken).expect(403);
  });
});
