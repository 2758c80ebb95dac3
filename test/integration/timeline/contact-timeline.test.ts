import { Contact } from '../../../entities/contact.entity';
import { ContactTagChange } from '../../../entities/contact-tag-change.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { Operator } from '../../../entities/operator.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import {
  buildSourceQuery,
  parseTimelineCursor,
  TIMELINE_KINDS,
  type TimelineItem,
  type TimelinePage,
} from '../../../server/modules/timeline/timeline.service';
import { describeEachDatabase } from '../../support/database';
import { queryPlan, rowsRead } from '../../support/query-plan';
import { startTestStack, type TestStack } from '../../support/test-stack';

const ALL = { kind: 'all' } as const;

const actorName = (item: TimelineItem): string | null =>
  item.kind === 'interaction' || item.actor.kind === 'system' ? null : item.actor.name;

describeEachDatabase('the contact timeline: tag changes with who made them, merged with interactions and points', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const m = () => db().dataSource.manager;
  const contactOf = async (openid: string) =>
    (await m().query<{ contact_id: number | string }[]>('SELECT contact_id FROM contact_identities WHERE value = ?', [openid])).map((r) =>
      Number(r.contact_id),
    )[0];
  const createOperator = async (username: string, displayName: string) => {
    const created = await stack.services.operators.createOperator({
      username,
      password: 'correct horse battery 9',
      role: 'operator',
      displayName,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error('operator not created');
    return (await m().findOneByOrFail(Operator, { username })).id;
  };
  const ensureTag = async (name: string) =>
    (await stack.services.transactor.run((t) => stack.services.contactTags.ensureTag(t, { group: '兴趣', name }))).id;
  const changesOf = (contactId: number) => m().find(ContactTagChange, { where: { contactId }, order: { id: 'ASC' } });
  const timeline = async (contactId: number, limit = 50, before?: string): Promise<TimelinePage> => {
    const page = await stack.services.timeline.listTimeline({
      contactId,
      scope: ALL,
      limit,
      before: before === undefined ? undefined : (parseTimelineCursor(before) ?? undefined),
    });
    if (!page) throw new Error('contact not visible');
    return page;
  };

  it('a rule hit records its tags with the rule, and the timeline names the rule for the tags and the points', async () => {
    const { openid } = await stack.player().subscribe({ scene: 'expo2026' });
    await stack.services.reactions.idle();
    const contactId = await contactOf(openid);

    const changes = await changesOf(contactId);
    expect(changes.map((c) => [c.tagName, c.op, c.actorKind, c.actorName, c.cause]).sort()).toEqual(
      [
        ['expo2026', 'add', 'rule', '扫码关注渠道标签', 'rule'],
        ['已关注', 'add', 'rule', '关注', 'rule'],
      ].sort(),
    );
    const subscribe = await m().findOneByOrFail(Interaction, { contactId, type: 'subscribe' });
    expect(changes.every((c) => c.interactionId === subscribe.id)).toBe(true);

    const { items } = await timeline(contactId);
    const tagItems = items.flatMap((i) => (i.kind === 'tag_change' ? [[i.op, i.tag.group, i.tag.name, i.actor.kind, actorName(i)]] : []));
    expect(tagItems.sort()).toEqual(
      [
        ['add', '渠道', 'expo2026', 'rule', '扫码关注渠道标签'],
        ['add', '生命周期', '已关注', 'rule', '关注'],
      ].sort(),
    );
    const scores = items.flatMap((i) => (i.kind === 'score' ? [[i.points, i.actor.kind, actorName(i)]] : []));
    expect(scores).toEqual([[5, 'rule', '扫码关注渠道标签']]);
    // The subscribe itself is the oldest entry: its reactions came after it.
    expect(items.at(-1)).toMatchObject({ kind: 'interaction', type: 'subscribe' });
  });

  it('manual tagging, selected rows and a filter job record the operator and the cause; the timeline names the operator', async () => {
    const { openid } = await stack.player().subscribe({ scene: 'poster' });
    const { openid: other } = await stack.player().subscribe({ scene: 'poster' });
    await stack.services.reactions.idle();
    const [a, b] = [await contactOf(openid), await contactOf(other)];
    const lisi = await createOperator('lisi', '李四');
    const wang = await createOperator('wang', '王五');
    const vipId = await ensureTag('VIP');
    const tagging = stack.services.manualTagging;

    await tagging.setContactTags({ contactId: a, scope: ALL, actor: { operatorId: lisi, ip: null }, add: [vipId], remove: [] });
    await tagging.setContactTags({ contactId: a, scope: ALL, actor: { operatorId: wang, ip: null }, add: [], remove: [vipId] });
    // Re-removing changes nothing and records nothing.
    await tagging.setContactTags({ contactId: a, scope: ALL, actor: { operatorId: wang, ip: null }, add: [], remove: [vipId] });
    await tagging.bulkTagContacts({ contactIds: [a, b], actor: { operatorId: lisi, ip: null }, add: [vipId], remove: [] });
    const job = await tagging.enqueueBulkTagJob({
      filter: { tagId: vipId },
      actor: { operatorId: wang, ip: null },
      add: [],
      remove: [vipId],
    });
    if (!job.ok) throw new Error('job not queued');
    while (await tagging.processBulkChunk(job.value.jobId));

    const manual = (await changesOf(a)).filter((c) => c.tagName === 'VIP');
    expect(manual.map((c) => [c.op, c.actorKind, c.actorId, c.cause])).toEqual([
      ['add', 'operator', lisi, 'manual'],
      ['remove', 'operator', wang, 'manual'],
      ['add', 'operator', lisi, 'bulk_selected'],
      ['remove', 'operator', wang, 'bulk_filter'],
    ]);
    const onB = (await changesOf(b)).filter((c) => c.tagName === 'VIP');
    expect(onB.map((c) => [c.op, c.actorId, c.cause])).toEqual([
      ['add', lisi, 'bulk_selected'],
      ['remove', wang, 'bulk_filter'],
    ]);

    const vipItems = (await timeline(a)).items.filter((i) => i.kind === 'tag_change' && i.tag.name === 'VIP');
    expect(vipItems.map((i) => (i.kind === 'tag_change' ? [i.op, i.actor, i.cause] : null))).toEqual([
      ['remove', { kind: 'operator', id: wang, name: '王五' }, 'bulk_filter'],
      ['add', { kind: 'operator', id: lisi, name: '李四' }, 'bulk_selected'],
      ['remove', { kind: 'operator', id: wang, name: '王五' }, 'manual'],
      ['add', { kind: 'operator', id: lisi, name: '李四' }, 'manual'],
    ]);
  });

  it('a tag change rolled back with its transaction leaves no history', async () => {
    const { openid } = await stack.player().subscribe({});
    await stack.services.reactions.idle();
    const contactId = await contactOf(openid);
    const before = (await changesOf(contactId)).length;
    await expect(
      stack.services.transactor.run(async (t) => {
        const tag = await stack.services.contactTags.ensureTag(t, { group: '兴趣', name: '回滚' });
        await stack.services.contactTags.applyTags(t, { contactId, add: [tag], remove: [], actor: { kind: 'system' }, cause: 'manual' });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await changesOf(contactId)).toHaveLength(before);
  });

  it('pages the three sources as one order: newest first, ties by kind and id, no entry twice or missed, whatever the page size', async () => {
    const contact = await m().save(
      Contact,
      m().create(Contact, { name: '分页', score: 0, stage: 'acquired', createdAt: new Date(), updatedAt: new Date() }),
    );
    const other = await m().save(
      Contact,
      m().create(Contact, { name: '别人', score: 0, stage: 'acquired', createdAt: new Date(), updatedAt: new Date() }),
    );
    const base = Date.parse('2026-11-20T08:00:00.000Z');
    // Few distinct instants, so many entries of every source share a millisecond.
    const instant = (n: number) => new Date(base + (n % 4) * 1000 + (n % 3 === 0 ? 0 : 7));
    for (let n = 0; n < 13; n += 1) {
      for (const contactId of [contact.id, other.id]) {
        await m().insert(Interaction, {
          contactId,
          type: 'text',
          channel: 'oa',
          occurredAt: instant(n),
          detail: { content: `msg ${n}` },
          dedupeKey: `test:${contactId}:${n}`,
          createdAt: instant(n),
        });
        await m().insert(ContactTagChange, {
          contactId,
          tagId: 999,
          tagName: `tag ${n}`,
          op: n % 2 === 0 ? 'add' : 'remove',
          actorKind: 'system',
          actorId: null,
          actorName: null,
          cause: 'manual',
          interactionId: null,
          at: instant(n + 1),
        });
        await m().insert(ScoreLedger, {
          contactId,
          points: n,
          reason: `reason ${n}`,
          ruleId: null,
          interactionId: null,
          dedupeKey: `test:${contactId}:${n}`,
          createdAt: instant(n + 2),
        });
      }
    }
    const key = (i: TimelineItem) => `${i.kind}:${i.id}`;
    const whole = (await timeline(contact.id, 100)).items;
    expect(whole).toHaveLength(39);
    expect(whole.some((i) => i.kind === 'interaction' && i.detail.content === 'msg 0')).toBe(true);
    // The order is (time, kind, id) descending, independently of how the page was merged.
    const expected = [...whole].sort(
      (x, y) => Date.parse(y.at) - Date.parse(x.at) || TIMELINE_KINDS.indexOf(y.kind) - TIMELINE_KINDS.indexOf(x.kind) || y.id - x.id,
    );
    expect(whole.map(key)).toEqual(expected.map(key));
    // Every entry of the contact, none of the other contact's.
    expect(new Set(whole.map(key)).size).toBe(39);
    expect(
      whole
        .filter((i) => i.kind === 'score')
        .map((i) => (i.kind === 'score' ? i.reason : ''))
        .sort(),
    ).toEqual(Array.from({ length: 13 }, (_, n) => `reason ${n}`).sort());

    for (const size of [1, 2, 5, 7]) {
      const walked: TimelineItem[] = [];
      let before: string | undefined;
      for (let pages = 0; pages < 100; pages += 1) {
        const page = await timeline(contact.id, size, before);
        expect(page.items.length).toBeLessThanOrEqual(size);
        walked.push(...page.items);
        if (page.nextBefore === null) break;
        before = page.nextBefore;
      }
      expect(walked.map(key)).toEqual(whole.map(key));
    }

    // A bare time: strictly older entries of every source.
    const cut = whole[10].at;
    const older = await timeline(contact.id, 100, cut);
    expect(older.items.map(key)).toEqual(whole.filter((i) => Date.parse(i.at) < Date.parse(cut)).map(key));
  });

  it('merging two contacts moves the tag history to the survivor', async () => {
    const tagging = stack.services.manualTagging;
    const { openid } = await stack.player().subscribe({});
    await stack.services.reactions.idle();
    const older = await contactOf(openid);
    const newer = await m().save(
      Contact,
      m().create(Contact, { name: null, score: 0, stage: 'acquired', createdAt: new Date(), updatedAt: new Date() }),
    );
    await tagging.setContactTags({
      contactId: newer.id,
      scope: ALL,
      actor: { operatorId: null, ip: null },
      add: [await ensureTag('合并')],
      remove: [],
    });
    await stack.services.transactor.run((t) => stack.services.contacts.mergeContacts(t, older, newer.id));
    expect((await changesOf(older)).map((c) => c.tagName)).toContain('合并');
    expect(await changesOf(newer.id)).toEqual([]);
  });

  it('reads each source by its (contact_id, time) index range, backwards, stopped by the LIMIT however deep the page', async () => {
    const contacts = await Promise.all(
      [1, 2, 3].map((n) =>
        m().save(
          Contact,
          m().create(Contact, { name: `c${n}`, score: 0, stage: 'acquired', createdAt: new Date(), updatedAt: new Date() }),
        ),
      ),
    );
    const base = Date.parse('2026-10-01T00:00:00.000Z');
    for (const contact of contacts) {
      const times = Array.from({ length: 400 }, (_, n) => new Date(base + n * 1000));
      await m().insert(
        Interaction,
        times.map((at, n) => ({
          contactId: contact.id,
          type: 'text',
          channel: 'oa' as const,
          occurredAt: at,
          detail: {},
          dedupeKey: `plan:${contact.id}:${n}`,
          createdAt: at,
        })),
      );
      await m().insert(
        ContactTagChange,
        times.map((at, n) => ({
          contactId: contact.id,
          tagId: n,
          tagName: `t${n}`,
          op: 'add' as const,
          actorKind: 'system' as const,
          actorId: null,
          actorName: null,
          cause: 'manual',
          interactionId: null,
          at,
        })),
      );
      await m().insert(
        ScoreLedger,
        times.map((at, n) => ({
          contactId: contact.id,
          points: 1,
          reason: 'r',
          ruleId: null,
          interactionId: null,
          dedupeKey: `plan:${contact.id}:${n}`,
          createdAt: at,
        })),
      );
    }
    await m().query(db().config.kind === 'mysql' ? 'ANALYZE TABLE interactions, contact_tag_changes, score_ledger' : 'ANALYZE');
    const contactId = contacts[1].id;
    // A deep page: 300 newer entries of each source lie before the cursor, which sits in the
    // middle source's rows (each source gets a different condition: <=, the id tie-break, <).
    const before = { at: new Date(base + 100 * 1000), kind: 'tag_change' as const, id: 1_000_000 };
    const limit = 21;
    const range = { contactId, before, limit };
    const sources = [
      {
        kind: 'interaction',
        index: 'IDX_interactions_contact_occurred',
        query: buildSourceQuery(db().dataSource, { ...range, kind: 'interaction', entity: Interaction, time: 'occurredAt' }),
      },
      {
        kind: 'tag_change',
        index: 'IDX_contact_tag_changes_contact_at',
        query: buildSourceQuery(db().dataSource, { ...range, kind: 'tag_change', entity: ContactTagChange, time: 'at' }),
      },
      {
        kind: 'score',
        index: 'IDX_score_ledger_contact_created',
        query: buildSourceQuery(db().dataSource, { ...range, kind: 'score', entity: ScoreLedger, time: 'createdAt' }),
      },
    ];
    for (const source of sources) {
      const [sql, params] = source.query.getQueryAndParameters();
      const statement = { sql, params: params as unknown[] };
      const plan = await queryPlan(db().dataSource, statement);
      const text = plan.map((step) => step.text).join('\n');
      expect({ source: source.kind, index: plan[0]?.index, sorts: plan.some((step) => step.sorts) }).toEqual({
        source: source.kind,
        index: source.index,
        sorts: false,
      });
      // The range starts at the cursor's time: SQLite names the time column in its search, and
      // MariaDB reads no more rows than the LIMIT.
      if (db().config.kind === 'sqlite') expect(text).toMatch(/contact_id=\? AND \w+<\?/);
      else expect(text).toContain('type=range');
      const read = await rowsRead(db().dataSource, statement);
      if (read !== null) for (const rows of read) expect(rows).toBeLessThanOrEqual(limit + 1);
      const rows: unknown[] = await db().dataSource.query(sql, params as unknown[]);
      expect(rows).toHaveLength(limit);
    }
  });
});
