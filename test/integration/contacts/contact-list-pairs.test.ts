import type { DataSource } from 'typeorm';
import { LIFECYCLE_STAGES, type LifecycleStage } from '../../../entities/contact.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { toSqlDate } from '../../../server/db/sql';
import {
  ContactsQueryService,
  LIST_TOTAL_CAP,
  type ContactListFilter,
  type ContactScope,
} from '../../../server/modules/contacts/contacts-query.service';
import { refreshSearchTerms } from '../../../server/modules/contacts/search-terms';
import { describeEachDatabase } from '../../support/database';
import { recordingStatements } from '../../support/query-plan';

const DAY_MS = 86_400_000;
const CONTACTS = 2_400;
const NOW = new Date('2026-11-23T08:00:00.000Z');

interface SeededContact {
  id: number;
  name: string;
  stage: LifecycleStage;
  source: string | null;
  score: number;
  lastInteractionAt: Date | null;
  mergedIntoId: number | null;
  tagIds: number[];
  /** Reps with an active follow. */
  reps: string[];
}

/**
 * 2,400 contacts whose columns repeat with different periods, so that every pair of filters has
 * matches spread over the ids, some pairs only a few (a short first page), and some none. Every
 * 50th contact is merged away; tags and follows stay on it (the list must still hide it).
 */
function seededContacts(): SeededContact[] {
  return Array.from({ length: CONTACTS }, (_, i) => {
    const id = i + 1;
    const reps = [id % 5 === 0 ? 'rep-a' : null, id % 2 === 0 && id % 7 !== 0 ? 'rep-b' : null].filter((r) => r !== null);
    return {
      id,
      name: `客户${id}`,
      stage: LIFECYCLE_STAGES[(id * 7) % 5],
      source: id % 11 === 0 ? null : ['qr:a', 'qr:b', 'h5'][id % 3],
      score: (id * 37) % 101,
      lastInteractionAt: id % 9 === 0 ? null : new Date(NOW.getTime() - ((id * 13) % 40) * DAY_MS - (id % 1_000) * 1_000),
      mergedIntoId: id % 50 === 0 ? 1 : null,
      tagIds: [id % 3 === 0 ? 1 : null, id % 4 === 1 ? 2 : null, id % 97 === 3 ? 3 : null].filter((t) => t !== null),
      reps,
    };
  });
}

async function insertContacts(ds: DataSource, contacts: SeededContact[]): Promise<void> {
  const created = toSqlDate(new Date('2026-10-01T00:00:00.000Z'));
  await ds.query('INSERT INTO tag_groups (id, name, created_at) VALUES (1, ?, ?)', ['Pairs', created]);
  await ds.query('INSERT INTO tags (id, group_id, name, created_at) VALUES (1, 1, ?, ?), (2, 1, ?, ?), (3, 1, ?, ?)', [
    'thirds',
    created,
    'quarters',
    created,
    'rare',
    created,
  ]);
  for (let i = 0; i < contacts.length; i += 500) {
    const chunk = contacts.slice(i, i + 500);
    await ds.query(
      `INSERT INTO contacts (id, name, score, stage, first_source, last_interaction_at, merged_into_id, created_at, updated_at) VALUES ${chunk
        .map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .join(', ')}`,
      chunk.flatMap((c) => [
        c.id,
        c.name,
        c.score,
        c.stage,
        c.source,
        c.lastInteractionAt ? toSqlDate(c.lastInteractionAt) : null,
        c.mergedIntoId,
        created,
        created,
      ]),
    );
    const tags = chunk.flatMap((c) => c.tagIds.map((tagId) => [c.id, tagId, 'rule:1', created]));
    if (tags.length > 0)
      await ds.query(
        `INSERT INTO contact_tags (contact_id, tag_id, source, created_at) VALUES ${tags.map(() => '(?, ?, ?, ?)').join(', ')}`,
        tags.flat(),
      );
    // Every contact also has a removed follow of rep-a, which must not put it in rep-a's list.
    const follows = chunk.flatMap((c) => [
      ...c.reps.map((userId) => [c.id, userId, 'active', created, created]),
      ...(c.reps.includes('rep-a') ? [] : [[c.id, 'rep-a', 'removed', created, created]]),
    ]);
    await ds.query(
      `INSERT INTO contact_follows (contact_id, user_id, status, created_at, updated_at) VALUES ${follows.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      follows.flat(),
    );
    // What the contact writers do with every name: the text search finds it by its pieces.
    await refreshSearchTerms(
      ds.manager,
      chunk.map((c) => c.id),
    );
  }
}

interface FilterCase {
  key: string;
  name: string;
  filter: ContactListFilter;
  scope?: ContactScope;
  matches: (c: SeededContact) => boolean;
}

const since = (days: number) => NOW.getTime() - days * DAY_MS;

/** The list's filters, each with what it means written out in plain code. */
const FILTERS: FilterCase[] = [
  { key: 'q', name: 'q=name', filter: { q: '客户12' }, matches: (c) => c.name.includes('客户12') },
  { key: 'tagId', name: 'tag', filter: { tagId: 1 }, matches: (c) => c.tagIds.includes(1) },
  { key: 'stage', name: 'stage', filter: { stage: 'retained' }, matches: (c) => c.stage === 'retained' },
  { key: 'source', name: 'source', filter: { source: 'qr:b' }, matches: (c) => c.source === 'qr:b' },
  { key: 'score', name: 'score', filter: { minScore: 80, maxScore: 100 }, matches: (c) => c.score >= 80 && c.score <= 100 },
  {
    key: 'active',
    name: 'active',
    filter: { activeWithinDays: 7 },
    matches: (c) => c.lastInteractionAt !== null && c.lastInteractionAt.getTime() >= since(7),
  },
  {
    key: 'silent',
    name: 'silent',
    filter: { silentForDays: 30 },
    matches: (c) => c.lastInteractionAt === null || c.lastInteractionAt.getTime() < since(30),
  },
  { key: 'scope', name: 'rep', filter: {}, scope: { kind: 'follower', userId: 'rep-a' }, matches: (c) => c.reps.includes('rep-a') },
];

/** Each filter alone and every pair of two different parameters, as bench:contacts times them. */
function filterGroups(): FilterCase[][] {
  const groups = FILTERS.map((f) => [f]);
  FILTERS.forEach((a, i) => FILTERS.slice(i + 1).forEach((b) => a.key !== b.key && groups.push([a, b])));
  return groups;
}

describeEachDatabase('contact list: every filter and every pair of filters', (db) => {
  const clock = new ManualClock(NOW);

  it('pages, counts and chunks the same contacts as the filters written out, for each filter and each pair', async () => {
    const ds = db().dataSource;
    const contacts = seededContacts();
    await insertContacts(ds, contacts);
    const service = new ContactsQueryService({ dataSource: ds, clock });
    const shortPages: string[] = [];

    for (const group of filterGroups()) {
      const name = group.map((f) => f.name).join(' + ');
      const filter = Object.assign({}, ...group.map((f) => f.filter)) as ContactListFilter;
      const scope = group.find((f) => f.scope)?.scope ?? { kind: 'all' };
      const expected = contacts
        .filter((c) => c.mergedIntoId === null && group.every((f) => f.matches(c)))
        .map((c) => c.id)
        .sort((a, b) => b - a);

      const seen: number[] = [];
      let after: number | undefined;
      for (let page = 0; page < 200; page += 1) {
        const answer = await service.searchContacts({ ...filter, scope, limit: 20, after });
        const ids = answer.items.map((item) => item.id);
        seen.push(...ids);
        expect({ name, page, next: answer.next }).toEqual({ name, page, next: ids.length === 20 ? ids[19] : null });
        const total =
          page === 0 ? { total: Math.min(expected.length, LIST_TOTAL_CAP), totalCapped: expected.length > LIST_TOTAL_CAP } : null;
        expect({ name, page, total: page === 0 ? { total: answer.total, totalCapped: answer.totalCapped } : null }).toEqual({
          name,
          page,
          total,
        });
        if (page === 0 && ids.length < 20) shortPages.push(name);
        if (answer.next === null) break;
        after = answer.next;
      }
      expect({ name, ids: seen }).toEqual({ name, ids: expected });
      // The rows are the contacts asked for, with their own columns.
      const first = await service.searchContacts({ ...filter, scope, limit: 5 });
      for (const item of first.items) {
        const contact = contacts[item.id - 1];
        expect({ name, item: [item.name, item.stage, item.source, item.score] }).toEqual({
          name,
          item: [contact.name, contact.stage, contact.source, contact.score],
        });
      }

      const chunks = await service.listContactIds({ ...filter, scope, limit: 70, after: expected[3] });
      expect({ name, chunk: chunks }).toEqual({ name, chunk: expected.filter((id) => id < (expected[3] ?? Infinity)).slice(0, 70) });
      expect({ name, exactly: await service.countContactsExactly({ ...filter, scope }) }).toEqual({ name, exactly: expected.length });
      expect({ name, count: await service.countContacts({ ...filter, scope }) }).toEqual({
        name,
        count: { total: expected.length, totalCapped: false },
      });
    }
    // The data gives some pairs a first page that holds every match, and some none at all.
    expect(shortPages.length).toBeGreaterThanOrEqual(3);
  });

  it('takes the total of a first page that holds every match from the page, without counting', async () => {
    const ds = db().dataSource;
    const contacts = seededContacts();
    await insertContacts(ds, contacts);
    const { dataSource, statements } = recordingStatements(ds);
    const service = new ContactsQueryService({ dataSource, clock });
    const expected = contacts.filter((c) => c.mergedIntoId === null && c.tagIds.includes(3) && c.stage === 'retained');
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(20);

    const page = await service.searchContacts({ tagId: 3, stage: 'retained', scope: { kind: 'all' }, limit: 20 });
    expect(page).toMatchObject({ total: expected.length, totalCapped: false, next: null });
    expect(statements.filter((s) => s.sql.includes('COUNT('))).toEqual([]);

    const full = await service.searchContacts({ tagId: 1, stage: 'retained', scope: { kind: 'all' }, limit: 20 });
    expect(full.items).toHaveLength(20);
    expect(statements.filter((s) => s.sql.includes('COUNT('))).toHaveLength(1);
  });

  it('reads contacts for a page and its total from IDX_contacts_live_list alone, after the tag or rep rows (MySQL plans)', async () => {
    const ds = db().dataSource;
    const mysql = ds.options.type === 'mysql' || ds.options.type === 'mariadb';
    await insertContacts(ds, seededContacts());
    await ds.query(mysql ? 'ANALYZE TABLE contacts, contact_tags, contact_follows' : 'ANALYZE');
    const { dataSource, statements } = recordingStatements(ds);
    const service = new ContactsQueryService({ dataSource, clock });
    const cases: { filter: ContactListFilter; scope: ContactScope; first: string | null }[] = [
      { filter: { tagId: 1, stage: 'retained' }, scope: { kind: 'all' }, first: 'ct' },
      { filter: { source: 'qr:b', activeWithinDays: 7 }, scope: { kind: 'follower', userId: 'rep-a' }, first: 'f' },
      { filter: { stage: 'retained', source: 'qr:b' }, scope: { kind: 'all' }, first: null },
      { filter: { source: 'qr:b', minScore: 50 }, scope: { kind: 'all' }, first: null },
    ];
    for (const { filter, scope, first } of cases) {
      statements.length = 0;
      const page = await service.searchContacts({ ...filter, scope, limit: 20 });
      expect(page.items).toHaveLength(20);
      const reads = statements.filter((s) => /ORDER BY \S+ DESC LIMIT 20$/.test(s.sql) || s.sql.startsWith('SELECT COUNT(*)'));
      expect(reads).toHaveLength(2);
      // SQLite plans these alone: MySQL's index hints are not its syntax.
      if (!mysql) expect(reads.filter((s) => /FORCE INDEX|STRAIGHT_JOIN/.test(s.sql))).toEqual([]);
      for (const statement of mysql ? reads : []) {
        const plan = await ds.query<{ table: string; key: string | null; Extra: string | null }[]>(
          `EXPLAIN ${statement.sql}`,
          statement.params,
        );
        const tables = plan.filter((row) => !row.table.startsWith('<'));
        // The tag's or rep's rows first, in contact id order; each contact then from the index alone.
        if (first) expect(tables[0].table).toBe(first);
        const contactsRead = tables.filter((row) => row.table === 'c');
        expect(contactsRead.map((row) => [row.key, /\bUsing index\b/.test(row.Extra ?? '')])).toEqual([['IDX_contacts_live_list', true]]);
      }
    }
  });
});
