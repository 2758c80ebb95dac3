import { toSqlDate } from '../../../server/db/sql';
import type { InteractionDraft } from '../../../server/modules/interactions/interactions.service';
import type { FilterNode } from '../../../web/shared/segment-filter';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

const DAY_MS = 86_400_000;
const ACTOR = { operatorId: null, ip: null };

interface EventRow {
  contact_id: number | string;
  type: string;
  channel: string;
  direction: string;
  dedupe_key: string;
  ref_type: string;
  ref_id: string;
  detail: unknown;
}

describeEachDatabase('segment membership: kept by the reaction and the refresh job', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const ds = () => db().dataSource;
  let sent = 0;
  const text = (openid: string, content: string): InteractionDraft => ({
    type: 'text',
    channel: 'oa',
    occurredAt: stack.clock.now(),
    detail: { openid, content },
    identity: { kind: 'oa_openid', appId: stack.config.officialAccount.appId, value: openid },
    dedupeKey: `oa:test:${(sent += 1)}`,
  });
  const record = async (draft: InteractionDraft) => {
    const [result] = await stack.services.transactor.run((m) => stack.services.interactions.recordInteractions(m, [draft]));
    await stack.services.reactions.processDue();
    return result.contactId ?? 0;
  };
  const createSegment = async (name: string, filter: FilterNode) => {
    const created = await stack.services.segments.createSegment({ name, filter, actor: ACTOR });
    if (!created.ok) throw new Error(`segment not created: ${created.reason}`);
    return created.value;
  };
  const members = async (segmentId: number) =>
    (
      await ds().query<{ contact_id: number | string }[]>(
        'SELECT contact_id FROM segment_members WHERE segment_id = ? ORDER BY contact_id',
        [segmentId],
      )
    ).map((row) => Number(row.contact_id));
  const events = () =>
    ds().query<EventRow[]>(
      "SELECT contact_id, type, channel, direction, dedupe_key, ref_type, ref_id, detail FROM interactions WHERE type LIKE 'segment_%' ORDER BY id",
    );
  const storedCount = async (segmentId: number) =>
    Number((await ds().query<{ count: number | string }[]>('SELECT count FROM segments WHERE id = ?', [segmentId]))[0].count);

  it('a contact tagged by a rule enters at once, on the timeline as an outbound system event, once', async () => {
    const s = stack.services;
    const tag = await s.transactor.run((m) => s.contactTags.ensureTag(m, { group: '兴趣', name: '价格' }));
    const rule = await s.tagRules.createTagRule({
      rule: {
        name: '问价',
        interactionType: 'text',
        matchKind: 'keyword_contains',
        matchValue: '价格',
        addTags: [{ group: '兴趣', name: '价格' }],
      },
      actor: ACTOR,
    });
    expect(rule.ok).toBe(true);
    const segment = await createSegment('问过价格', { kind: 'tags', match: 'any', tagIds: [tag.id] });
    expect(segment.count).toBe(0);

    const quiet = await record(text('o_quiet', '你好'));
    expect(await members(segment.id)).toEqual([]);
    const asker = await record(text('o_asker', '价格多少？'));
    expect(await members(segment.id)).toEqual([asker]);
    expect(await storedCount(segment.id)).toBe(1);
    await record(text('o_asker', '还是问价格'));
    expect(quiet).not.toBe(asker);

    const rows = await events();
    expect(rows).toHaveLength(1);
    const [entered] = rows;
    const enteredAt = (
      await ds().query<{ entered_at: unknown }[]>('SELECT entered_at FROM segment_members WHERE segment_id = ?', [segment.id])
    )[0].entered_at;
    const enteredMs = (enteredAt instanceof Date ? enteredAt : new Date(`${String(enteredAt).replace(' ', 'T')}Z`)).getTime();
    expect({
      ...entered,
      contact_id: Number(entered.contact_id),
      detail: typeof entered.detail === 'string' ? (JSON.parse(entered.detail) as unknown) : entered.detail,
    }).toEqual({
      contact_id: asker,
      type: 'segment_entered',
      channel: 'system',
      direction: 'out',
      dedupe_key: `segment:${segment.id}:${asker}:${enteredMs}`,
      ref_type: 'segment',
      ref_id: String(segment.id),
      detail: { segmentId: segment.id, segmentName: '问过价格' },
    });
    // Outbound, yet with one work row: journeys' entry reaction asks for segment entries (a journey
    // may start on one), and only for those.
    const work = await ds().query<unknown[]>("SELECT 1 FROM reaction_work WHERE dedupe_key LIKE 'segment:%'");
    expect(work).toHaveLength(1);
  });

  it('the job lets a "did X in the last 7 days" member go when the week is over, and takes in a contact tagged without an interaction', async () => {
    const s = stack.services;
    const segment = await createSegment('本周聊过', { kind: 'did', type: 'text', atLeast: 1, days: 7 });
    const talker = await record(text('o_talker', '在吗'));
    expect(await members(segment.id)).toEqual([talker]);

    stack.clock.advance(8 * DAY_MS);
    expect(await s.segmentMembership.refreshAll()).toEqual({ segments: 1, entered: 0, exited: 1 });
    expect(await members(segment.id)).toEqual([]);
    expect(await storedCount(segment.id)).toBe(0);
    expect((await events()).map((row) => [row.type, Number(row.contact_id)])).toEqual([
      ['segment_entered', talker],
      ['segment_exited', talker],
    ]);
    expect((await events())[1].dedupe_key).toMatch(new RegExp(`^segment:${segment.id}:${talker}:\\d+:exit$`));

    // An operator's tag writes no interaction: the job finds the new member.
    const tag = await s.transactor.run((m) => s.contactTags.ensureTag(m, { group: '等级', name: 'VIP' }));
    const vip = await createSegment('VIP', { kind: 'tags', match: 'all', tagIds: [tag.id] });
    await ds().query('INSERT INTO contact_tags (contact_id, tag_id, source, created_at) VALUES (?, ?, ?, ?)', [
      talker,
      tag.id,
      'operator:1',
      toSqlDate(stack.clock.now()),
    ]);
    expect(await s.segmentMembership.refreshAll()).toEqual({ segments: 2, entered: 1, exited: 0 });
    expect(await members(vip.id)).toEqual([talker]);
    // A second run finds nothing new to record.
    expect(await s.segmentMembership.refreshAll()).toEqual({ segments: 2, entered: 0, exited: 0 });
    expect(await storedCount(vip.id)).toBe(1);
  });

  it('a new segment takes its first members without events; a segment reading another is refreshed after it', async () => {
    const s = stack.services;
    const a = await record(text('o_a', 'hi'));
    const b = await record(text('o_b', 'hi'));
    const all = await createSegment('聊过', { kind: 'did', type: 'text', atLeast: 1, days: 30 });
    expect(all.count).toBe(2);
    expect(await events()).toHaveLength(0);
    const inner = await createSegment('聊过且 A', {
      kind: 'and',
      conditions: [
        { kind: 'inSegment', segmentId: all.id },
        { kind: 'score', min: -1000 },
      ],
    });
    expect(await members(inner.id)).toEqual([a, b].sort((x, y) => x - y));
    expect(await s.segmentFilters.matchesFilter({ filter: { kind: 'inSegment', segmentId: inner.id }, contactId: a })).toBe(true);

    stack.clock.advance(31 * DAY_MS);
    expect(await s.segmentMembership.refreshAll()).toEqual({ segments: 2, entered: 0, exited: 4 });
    expect(await members(inner.id)).toEqual([]);
  });
});
