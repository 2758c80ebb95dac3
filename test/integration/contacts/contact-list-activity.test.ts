import type { DataSource } from 'typeorm';
import type { LifecycleStage } from '../../../entities/contact.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { toSqlDate } from '../../../server/db/sql';
import { ContactsQueryService, type ContactPage } from '../../../server/modules/contacts/contacts-query.service';
import { describeEachDatabase } from '../../support/database';
import { recordingStatements } from '../../support/query-plan';

const DAY_MS = 86_400_000;
const CONTACTS = 6_000;
const ALL = { kind: 'all' } as const;

interface SeededContact {
  id: number;
  stage: LifecycleStage;
  lastInteractionAt: Date | null;
  mergedIntoId: number | null;
}

/**
 * 6,000 contacts, ids 1 to 6,000. "Active in 7 days" are every fifth contact up to id 3,000 and
 * from id 5,950: the newest 2,000 contacts (the window a page walks first) hold only three of the
 * retained ones, so the first page takes a few from the walk and the rest from the index range, as the
 * bench's million do. Every sixth active retained contact is merged away; the two edges of the
 * 7-day bound sit on contacts 15 (exactly 7 days: in) and 30 (a millisecond more: out).
 */
function seededContacts(now: Date): SeededContact[] {
  return Array.from({ length: CONTACTS }, (_, i) => {
    const id = i + 1;
    const active = id % 5 === 0 && (id <= 3_000 || id >= 5_950);
    let lastInteractionAt = id % 7 === 0 ? null : new Date(now.getTime() - (active ? (id % 6) * DAY_MS : 30 * DAY_MS));
    if (id === 15) lastInteractionAt = new Date(now.getTime() - 7 * DAY_MS);
    if (id === 30) lastInteractionAt = new Date(now.getTime() - 7 * DAY_MS - 1);
    return {
      id,
      stage: id % 3 === 0 ? 'retained' : id % 3 === 1 ? 'acquired' : 'revenue',
      lastInteractionAt,
      mergedIntoId: active && id % 90 === 0 ? 1 : null,
    };
  });
}

async function insertContacts(ds: DataSource, contacts: SeededContact[]): Promise<void> {
  const created = toSqlDate(new Date('2026-10-01T00:00:00.000Z'));
  for (let i = 0; i < contacts.length; i += 1_000) {
    const chunk = contacts.slice(i, i + 1_000);
    await ds.query(
      `INSERT INTO contacts (id, name, score, stage, last_interaction_at, merged_into_id, created_at, updated_at) VALUES ${chunk
        .map(() => '(?, ?, 0, ?, ?, ?, ?, ?)')
        .join(', ')}`,
      chunk.flatMap((c) => [
        c.id,
        `contact ${c.id}`,
        c.stage,
        c.lastInteractionAt ? toSqlDate(c.lastInteractionAt) : null,
        c.mergedIntoId,
        created,
        created,
      ]),
    );
  }
}

describeEachDatabase('contact list: active in N days with a stage', (db) => {
  const clock = new ManualClock(new Date('2026-11-23T08:00:00.000Z'));
  const filter = { stage: 'retained', activeWithinDays: 7 } as const;

  const expectedIds = (contacts: SeededContact[]) => {
    const since = clock.now().getTime() - 7 * DAY_MS;
    return contacts
      .filter((c) => c.mergedIntoId === null && c.stage === 'retained' && c.lastInteractionAt !== null)
      .filter((c) => (c.lastInteractionAt?.getTime() ?? 0) >= since)
      .map((c) => c.id)
      .sort((a, b) => b - a);
  };

  it('pages the same contacts in the same order as a walk of every contact, with the same keyset next', async () => {
    const ds = db().dataSource;
    const contacts = seededContacts(clock.now());
    await insertContacts(ds, contacts);
    const expected = expectedIds(contacts);
    expect(expected.slice(0, 4)).toEqual([6_000, 5_970, 5_955, 3_000]);
    expect(expected).toContain(15);
    expect(expected).not.toContain(30);
    expect(expected).not.toContain(2_970); // merged

    const service = new ContactsQueryService({ dataSource: ds, clock });
    const pages: ContactPage[] = [];
    let after: number | undefined;
    do {
      const page = await service.searchContacts({ ...filter, scope: ALL, limit: 20, after });
      pages.push(page);
      after = page.next ?? undefined;
    } while (after !== undefined && pages.length < 100);

    const seen = pages.flatMap((page) => page.items.map((item) => item.id));
    expect(seen).toEqual(expected);
    // Every full page hands back its last id, the last page none; the total is on the first page.
    pages.forEach((page, i) => {
      expect(page.next).toBe(page.items.length === 20 ? page.items[19].id : null);
      expect(page.total).toBe(i === 0 ? expected.length : null);
      expect(page.items.every((item) => item.stage === 'retained')).toBe(true);
    });
    expect(pages.at(-1)?.next).toBeNull();

    // Bulk jobs walk the same filter in chunks of ids, and count it.
    const chunks: number[] = [];
    let last: number | undefined;
    for (;;) {
      const chunk = await service.listContactIds({ ...filter, scope: ALL, limit: 50, after: last });
      chunks.push(...chunk);
      if (chunk.length < 50) break;
      last = chunk.at(-1);
    }
    expect(chunks).toEqual(expected);
    expect(await service.countContactsExactly({ ...filter, scope: ALL })).toBe(expected.length);
  });

  it('reads the matches below the walked window from the (merged_into_id, stage, last_interaction_at) index alone', async () => {
    const ds = db().dataSource;
    const contacts = seededContacts(clock.now());
    await insertContacts(ds, contacts);
    const mysql = ds.options.type === 'mysql' || ds.options.type === 'mariadb';
    await ds.query(mysql ? 'ANALYZE TABLE contacts' : 'ANALYZE');
    const { dataSource, statements } = recordingStatements(ds);
    const service = new ContactsQueryService({ dataSource, clock });

    const page = await service.searchContacts({ ...filter, scope: ALL, limit: 20 });
    expect(page.items.map((item) => item.id)).toEqual(expectedIds(contacts).slice(0, 20));

    // Below the window (which found three): the rest of the page, sorted from the index; then the
    // page's total.
    const fromIndex = statements.filter((s) => s.sql.includes('COUNT(*) OVER ()') || /^SELECT COUNT\(\*\)/.test(s.sql));
    expect(fromIndex).toHaveLength(2);
    for (const statement of fromIndex) {
      if (mysql) {
        const plan = await ds.query<{ table: string; key: string | null; Extra: string | null }[]>(
          `EXPLAIN ${statement.sql}`,
          statement.params,
        );
        // Besides the outer query's primary-key lookups, contacts are read once: from the index alone.
        const contactsRead = plan.filter((row) => row.table === 'c' && row.key !== 'PRIMARY');
        expect(contactsRead.map((row) => [row.key, /\bUsing index\b/.test(row.Extra ?? '')])).toEqual([
          ['IDX_contacts_live_stage_last_interaction', true],
        ]);
      } else {
        const plan = await ds.query<{ detail: string }[]>(`EXPLAIN QUERY PLAN ${statement.sql}`, statement.params);
        expect(plan.map((row) => row.detail)).toContainEqual(
          'SEARCH c USING COVERING INDEX IDX_contacts_live_stage_last_interaction (merged_into_id=? AND stage=? AND last_interaction_at>?)',
        );
      }
    }
  });

  it('walks on below the window when more than 60,000 matches lie there, rather than sorting them', async () => {
    const ds = db().dataSource;
    const now = clock.now();
    const contacts = Array.from({ length: 62_002 }, (_, i): SeededContact => {
      const id = i + 1;
      const quiet = id > 60_002; // the newest 2,000: the window
      return { id, stage: 'retained', lastInteractionAt: new Date(now.getTime() - (quiet ? 30 : 1) * DAY_MS), mergedIntoId: null };
    });
    await insertContacts(ds, contacts);
    const { dataSource, statements } = recordingStatements(ds);
    const service = new ContactsQueryService({ dataSource, clock });

    const first = await service.searchContacts({ ...filter, scope: ALL, limit: 20 });
    expect(first.items.map((item) => item.id)).toEqual(Array.from({ length: 20 }, (_, i) => 60_002 - i));
    expect(first).toMatchObject({ total: 1_000, totalCapped: true, next: 59_983 });
    // The walk went on below the window (ids under 60,003), after the index range said "too many".
    expect(statements.some((s) => s.sql.endsWith('c.id < ? ORDER BY c.id DESC LIMIT 20') && s.params.at(-1) === 60_003)).toBe(true);
    const second = await service.searchContacts({ ...filter, scope: ALL, limit: 20, after: first.next ?? 0 });
    expect(second.items.map((item) => item.id)).toEqual(Array.from({ length: 20 }, (_, i) => 59_982 - i));
  });
});
