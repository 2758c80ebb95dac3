import type { DataSource } from 'typeorm';
import { ManualClock } from '../../../server/adapters/clock';
import { toSqlDate } from '../../../server/db/sql';
import { SegmentFilters } from '../../../server/modules/segments/segment-filters';
import type { FilterCondition, FilterNode } from '../../../web/shared/segment-filter';
import { describeEachDatabase } from '../../support/database';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const NOW = new Date('2026-11-23T08:00:00.000Z');
const CONTACTS = 60;
const STAGES = ['acquired', 'activated', 'retained', 'revenue', 'referral'] as const;
const TAGS = { a: 1, b: 2, c: 3 };

interface SeedInteraction {
  type: string;
  at: Date;
  detail: Record<string, string | number>;
  ref?: { type: string; id: string };
}

interface SeedContact {
  id: number;
  score: number;
  stage: (typeof STAGES)[number];
  firstSource: string | null;
  lastSource: string | null;
  phone: string | null;
  phoneIdentity: boolean;
  openid: boolean;
  createdAt: Date;
  lastInteractionAt: Date | null;
  merged: boolean;
  tags: number[];
  interactions: SeedInteraction[];
}

const ago = (ms: number) => new Date(NOW.getTime() - ms);

/** Sixty contacts whose attributes cycle at different periods, so every condition splits them differently. */
function seedContacts(): SeedContact[] {
  return Array.from({ length: CONTACTS }, (_, index) => {
    const i = index + 1;
    const interactions: SeedInteraction[] = [];
    for (let k = 0; k < i % 4; k += 1)
      interactions.push({
        type: 'text',
        at: ago((i % 10) * DAY_MS + k * HOUR_MS),
        detail: { content: i % 3 === 0 ? '我想问 价格' : 'Hello' },
      });
    if (i % 5 === 0) interactions.push({ type: 'scan', at: ago((i % 20) * DAY_MS), detail: { scene: i % 10 === 0 ? 'expo' : 'shop' } });
    if (i % 9 === 0) interactions.push({ type: 'click', at: ago(DAY_MS), detail: { menuKey: 'buy' } });
    if (i % 11 === 0) interactions.push({ type: 'link_clicked', at: ago(3 * DAY_MS), detail: {}, ref: { type: 'journey', id: '7' } });
    if (i % 13 === 0) interactions.push({ type: 'link_clicked', at: ago(30 * DAY_MS), detail: {}, ref: { type: 'journey', id: '7' } });
    if (i % 2 === 0) interactions.push({ type: 'subscribe', at: ago(20 * DAY_MS), detail: {} });
    if (i % 8 === 0) interactions.push({ type: 'unsubscribe', at: ago(5 * DAY_MS), detail: {} });
    if (i % 16 === 0) interactions.push({ type: 'subscribe', at: ago(2 * DAY_MS), detail: {} });
    if (i % 4 === 1) interactions.push({ type: 'survey_answer', at: ago(3 * DAY_MS), detail: { eventId: 1, satisfaction: (i % 5) + 1 } });
    return {
      id: i,
      score: (i * 7) % 50,
      stage: STAGES[i % 5],
      firstSource: ['展会/A', '展会/B', '官网', null][i % 4],
      lastSource: ['广告/1', '展会/A', null][i % 3],
      phone: i % 6 === 0 ? `1380000${String(i).padStart(4, '0')}` : null,
      phoneIdentity: i % 10 === 1,
      openid: i % 2 === 0,
      createdAt: ago(i * DAY_MS),
      lastInteractionAt: i % 7 === 0 ? null : ago((i % 40) * DAY_MS),
      merged: i === 59,
      tags: [...(i % 2 === 0 ? [TAGS.a] : []), ...(i % 3 === 0 ? [TAGS.b] : []), ...(i % 5 === 0 ? [TAGS.c] : [])],
      interactions,
    };
  });
}

async function insertSeed(ds: DataSource, contacts: SeedContact[]): Promise<void> {
  const created = toSqlDate(NOW);
  // contact_tags needs no tag rows (no foreign keys): the compiler reads tag ids alone.
  let interactionId = 0;
  for (const c of contacts) {
    await ds.query(
      'INSERT INTO contacts (id, name, score, stage, first_source, last_source, phone, last_interaction_at, merged_into_id, created_at, updated_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        c.id,
        `c${c.id}`,
        c.score,
        c.stage,
        c.firstSource,
        c.lastSource,
        c.phone,
        c.lastInteractionAt ? toSqlDate(c.lastInteractionAt) : null,
        c.merged ? 1 : null,
        toSqlDate(c.createdAt),
        created,
      ],
    );
    const identities = [...(c.openid ? [['oa_openid', `o_${c.id}`]] : []), ...(c.phoneIdentity ? [['phone', `1390000${c.id}`]] : [])];
    for (const [kind, value] of identities)
      await ds.query('INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES (?, ?, ?, ?, ?)', [
        c.id,
        kind,
        'wx1',
        value,
        created,
      ]);
    for (const tagId of c.tags)
      await ds.query('INSERT INTO contact_tags (contact_id, tag_id, source, created_at) VALUES (?, ?, ?, ?)', [
        c.id,
        tagId,
        'test',
        created,
      ]);
    for (const it of c.interactions) {
      interactionId += 1;
      await ds.query(
        'INSERT INTO interactions (contact_id, type, channel, direction, occurred_at, detail, dedupe_key, ref_type, ref_id, created_at) ' +
          "VALUES (?, ?, 'oa', 'in', ?, ?, ?, ?, ?, ?)",
        [
          c.id,
          it.type,
          toSqlDate(it.at),
          JSON.stringify(it.detail),
          `test:${interactionId}`,
          it.ref?.type ?? null,
          it.ref?.id ?? null,
          created,
        ],
      );
    }
  }
}

/** The same filter evaluated in JavaScript over the seed: what the SQL must answer. */
function referenceMatch(node: FilterNode, c: SeedContact, members: Map<number, Set<number>>): boolean {
  if (node.kind === 'and') return node.conditions.every((child) => referenceMatch(child, c, members));
  if (node.kind === 'or') return node.conditions.some((child) => referenceMatch(child, c, members));
  const cond = node as FilterCondition;
  const since = (days: number) => NOW.getTime() - days * DAY_MS;
  const matcherOk = (it: SeedInteraction, matcher: Extract<FilterCondition, { kind: 'did' }>['matcher']) => {
    if (!matcher) return true;
    const text = (key: string) => (it.detail[key] === undefined ? null : String(it.detail[key]));
    switch (matcher.kind) {
      case 'keyword_exact':
        return (text('content') ?? '').trim().toLowerCase() === matcher.value.trim().toLowerCase();
      case 'keyword_contains':
        return (text('content') ?? '').toLowerCase().includes(matcher.value.toLowerCase());
      case 'scene':
        return text('scene') !== null && text('scene') !== '' && (matcher.value === '*' || text('scene') === matcher.value);
      case 'menu_key':
        return text('menuKey') === matcher.value;
      case 'event_id':
        return text('eventId') === matcher.value;
      case 'content_id':
        return text('contentId') === matcher.value;
      case 'satisfaction_at_most':
        return text('satisfaction') !== null && Number(text('satisfaction')) <= Number(matcher.value);
      case 'satisfaction_at_least':
        return text('satisfaction') !== null && Number(text('satisfaction')) >= Number(matcher.value);
    }
  };
  switch (cond.kind) {
    case 'tags':
      if (cond.match === 'all') return cond.tagIds.every((id) => c.tags.includes(id));
      if (cond.match === 'any') return cond.tagIds.some((id) => c.tags.includes(id));
      return !cond.tagIds.some((id) => c.tags.includes(id));
    case 'score':
      return (cond.min === undefined || c.score >= cond.min) && (cond.max === undefined || c.score <= cond.max);
    case 'stage':
      return (cond.stages as string[]).includes(c.stage);
    case 'source': {
      const value = cond.which === 'first' ? c.firstSource : c.lastSource;
      return value !== null && value.startsWith(cond.prefix);
    }
    case 'hasPhone':
      return (c.phone !== null || c.phoneIdentity) === cond.value;
    case 'followsOa': {
      const newest = c.interactions
        .filter((it) => it.type === 'subscribe' || it.type === 'unsubscribe')
        .sort((x, y) => y.at.getTime() - x.at.getTime())[0];
      return (c.openid && newest?.type !== 'unsubscribe') === cond.value;
    }
    case 'created':
    case 'lastInteraction': {
      const value = cond.kind === 'created' ? c.createdAt : c.lastInteractionAt;
      if (value === null) return false;
      return (cond.from === undefined || value >= new Date(cond.from)) && (cond.to === undefined || value <= new Date(cond.to));
    }
    case 'activeWithin':
      return c.lastInteractionAt !== null && c.lastInteractionAt.getTime() >= since(cond.days);
    case 'silentFor':
      return c.lastInteractionAt === null || c.lastInteractionAt.getTime() < since(cond.days);
    case 'did':
      return (
        c.interactions.filter((it) => it.type === cond.type && it.at.getTime() >= since(cond.days) && matcherOk(it, cond.matcher)).length >=
        cond.atLeast
      );
    case 'didNot':
      return !c.interactions.some((it) => it.type === cond.type && it.at.getTime() >= since(cond.days) && matcherOk(it, cond.matcher));
    case 'clickedJourney':
      return c.interactions.some(
        (it) =>
          it.type === 'link_clicked' &&
          it.ref?.type === 'journey' &&
          it.ref.id === cond.journeyId &&
          (cond.days === undefined || it.at.getTime() >= since(cond.days)),
      );
    case 'inSegment':
      return members.get(cond.segmentId)?.has(c.id) ?? false;
  }
}

const CASES: [string, FilterNode][] = [
  ['tags all', { kind: 'tags', match: 'all', tagIds: [TAGS.a, TAGS.b] }],
  ['tags any', { kind: 'tags', match: 'any', tagIds: [TAGS.b, TAGS.c] }],
  ['tags none', { kind: 'tags', match: 'none', tagIds: [TAGS.a, TAGS.c] }],
  ['score min', { kind: 'score', min: 30 }],
  ['score range', { kind: 'score', min: 10, max: 20 }],
  ['stage', { kind: 'stage', stages: ['retained', 'referral'] }],
  ['first source prefix', { kind: 'source', which: 'first', prefix: '展会/' }],
  ['last source prefix', { kind: 'source', which: 'last', prefix: '广告' }],
  ['has phone', { kind: 'hasPhone', value: true }],
  ['has no phone', { kind: 'hasPhone', value: false }],
  ['follows the Official Account', { kind: 'followsOa', value: true }],
  ['does not follow', { kind: 'followsOa', value: false }],
  ['created between', { kind: 'created', from: ago(30 * DAY_MS).toISOString(), to: ago(10 * DAY_MS).toISOString() }],
  ['last interaction since', { kind: 'lastInteraction', from: ago(15 * DAY_MS).toISOString() }],
  ['active within 7 days', { kind: 'activeWithin', days: 7 }],
  ['silent for 20 days', { kind: 'silentFor', days: 20 }],
  ['did text in 5 days', { kind: 'did', type: 'text', atLeast: 1, days: 5 }],
  ['did text 3 times in 10 days', { kind: 'did', type: 'text', atLeast: 3, days: 10 }],
  ['did text with a keyword', { kind: 'did', type: 'text', matcher: { kind: 'keyword_contains', value: '价格' }, atLeast: 1, days: 30 }],
  [
    'did text with an exact keyword',
    { kind: 'did', type: 'text', matcher: { kind: 'keyword_exact', value: ' hello ' }, atLeast: 2, days: 30 },
  ],
  ['did scan with a scene', { kind: 'did', type: 'scan', matcher: { kind: 'scene', value: 'expo' }, atLeast: 1, days: 30 }],
  ['did scan with any scene', { kind: 'did', type: 'scan', matcher: { kind: 'scene', value: '*' }, atLeast: 1, days: 10 }],
  ['did click a menu key', { kind: 'did', type: 'click', matcher: { kind: 'menu_key', value: 'buy' }, atLeast: 1, days: 2 }],
  [
    'rated an event 2 or less',
    { kind: 'did', type: 'survey_answer', matcher: { kind: 'satisfaction_at_most', value: '2' }, atLeast: 1, days: 30 },
  ],
  [
    'rated an event 4 or more',
    { kind: 'did', type: 'survey_answer', matcher: { kind: 'satisfaction_at_least', value: '4' }, atLeast: 1, days: 30 },
  ],
  ['did not text in 3 days', { kind: 'didNot', type: 'text', days: 3 }],
  ['did not say 价格 in 30 days', { kind: 'didNot', type: 'text', matcher: { kind: 'keyword_contains', value: '价格' }, days: 30 }],
  ['clicked journey 7', { kind: 'clickedJourney', journeyId: '7' }],
  ['clicked journey 7 in 7 days', { kind: 'clickedJourney', journeyId: '7', days: 7 }],
  [
    'nested and/or',
    {
      kind: 'or',
      conditions: [
        {
          kind: 'and',
          conditions: [
            { kind: 'tags', match: 'any', tagIds: [TAGS.a] },
            { kind: 'score', max: 20 },
          ],
        },
        {
          kind: 'and',
          conditions: [
            { kind: 'stage', stages: ['activated'] },
            {
              kind: 'or',
              conditions: [
                { kind: 'didNot', type: 'text', days: 5 },
                { kind: 'hasPhone', value: true },
              ],
            },
          ],
        },
      ],
    },
  ],
];

/** A small deterministic generator of random trees (no Math.random: a failure must replay). */
function randomTrees(count: number): FilterNode[] {
  let state = 42;
  const next = (n: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % n;
  };
  const leaves = CASES.filter(([name]) => name !== 'nested and/or').map(([, node]) => node);
  const tree = (depth: number): FilterNode => {
    if (depth >= 3 || next(3) === 0) return leaves[next(leaves.length)];
    return { kind: next(2) === 0 ? 'and' : 'or', conditions: Array.from({ length: 2 + next(2) }, () => tree(depth + 1)) };
  };
  return Array.from({ length: count }, () => tree(0));
}

describeEachDatabase('the filter compiler', (db) => {
  let contacts: SeedContact[];
  let filters: SegmentFilters;

  beforeEach(async () => {
    contacts = seedContacts();
    await insertSeed(db().dataSource, contacts);
    filters = new SegmentFilters({ dataSource: db().dataSource, clock: new ManualClock(NOW) });
  });

  const expected = (filter: FilterNode, members = new Map<number, Set<number>>()) =>
    contacts.filter((c) => !c.merged && referenceMatch(filter, c, members)).map((c) => c.id);

  it.each(CASES)('%s: the SQL answers what the filter means', async (_name, filter) => {
    const want = expected(filter);
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(CONTACTS - 1);
    const all = contacts.map((c) => c.id);
    expect(await filters.filterContactIds({ filter, contactIds: all })).toEqual(want);
    expect(await filters.countFilter({ filter })).toBe(want.length);
  });

  it('answers random nested trees as the reference does', async () => {
    const all = contacts.map((c) => c.id);
    for (const filter of randomTrees(25)) expect(await filters.filterContactIds({ filter, contactIds: all })).toEqual(expected(filter));
  });

  it('tells whether one contact matches, a merged contact never', async () => {
    const filter: FilterNode = { kind: 'tags', match: 'any', tagIds: [TAGS.a] };
    expect(await filters.matchesFilter({ filter, contactId: 2 })).toBe(true);
    expect(await filters.matchesFilter({ filter, contactId: 3 })).toBe(false);
    expect(await filters.matchesFilter({ filter: { kind: 'score', min: 0 }, contactId: 59 })).toBe(false);
  });

  it('reads a saved segment’s members for inSegment', async () => {
    const ds = db().dataSource;
    const at = toSqlDate(NOW);
    await ds.query("INSERT INTO segments (id, name, filter, count, created_at, updated_at) VALUES (5, 'vip', '{}', 0, ?, ?)", [at, at]);
    for (const id of [4, 8, 15, 16])
      await ds.query('INSERT INTO segment_members (segment_id, contact_id, entered_at) VALUES (5, ?, ?)', [id, at]);
    const filter: FilterNode = {
      kind: 'and',
      conditions: [
        { kind: 'inSegment', segmentId: 5 },
        { kind: 'tags', match: 'any', tagIds: [TAGS.a] },
      ],
    };
    expect(await filters.filterContactIds({ filter, contactIds: contacts.map((c) => c.id) })).toEqual(
      expected(filter, new Map([[5, new Set([4, 8, 15, 16])]])),
    );
  });

  it('moves relative times with the injected clock', async () => {
    const clock = new ManualClock(NOW);
    const moving = new SegmentFilters({ dataSource: db().dataSource, clock });
    const filter: FilterNode = { kind: 'did', type: 'click', atLeast: 1, days: 2 };
    expect(await moving.countFilter({ filter })).toBe(contacts.filter((c) => c.id % 9 === 0).length);
    clock.advance(2 * DAY_MS);
    expect(await moving.countFilter({ filter })).toBe(0);
  });
});
