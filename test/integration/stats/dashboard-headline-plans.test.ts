import { isMysqlManager, toSqlDate } from '../../../server/db/sql';
import { newContactCountsSql } from '../../../server/modules/stats/stats.service';
import { describeEachDatabase } from '../../support/database';
import { queryPlan } from '../../support/query-plan';

const DAY_MS = 86_400_000;
const CONTACTS = 3_000;

/**
 * The new-contact figures of the dashboard's headline read IDX_contacts_live_created (covering),
 * never the contacts table: 3,000 contacts
 * created over 100 days, most with an interaction time, a few (every 50th) still without one (their
 * reactions pending), every 20th merged away.
 */
describeEachDatabase('dashboard headline: new contacts are counted from IDX_contacts_live_created', (db) => {
  const now = new Date('2026-11-23T08:00:00.000Z');
  const at = (daysAgo: number) => toSqlDate(new Date(now.getTime() - daysAgo * DAY_MS));

  beforeAll(async () => {
    const rows = Array.from({ length: CONTACTS }, (_, i) => {
      const created = at((i % 100) + 0.5);
      const last = i % 50 === 0 ? null : at(i % 30);
      return [i % 20 === 0 ? 1 : null, created, last];
    });
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      await db().dataSource.query(
        `INSERT INTO contacts (stage, score, merged_into_id, created_at, updated_at, last_interaction_at) VALUES ${chunk
          .map(() => "('acquired', 0, ?, ?, ?, ?)")
          .join(',')}`,
        chunk.flatMap(([merged, created, last]) => [merged, created, created, last]),
      );
    }
    if (db().dataSource.options.type !== 'better-sqlite3') await db().dataSource.query('ANALYZE TABLE contacts');
    else await db().dataSource.query('ANALYZE');
  });

  it('new contacts today, yesterday and by week: from IDX_contacts_live_created alone', async () => {
    const params = [at(0.3), at(1.3), at(0.3), at(7), at(14), at(7), at(14)];
    const sql = newContactCountsSql(isMysqlManager(db().dataSource.manager));
    const plan = await queryPlan(db().dataSource, { sql, params });
    expect(plan.map((step) => [step.index, step.text])).toEqual([['IDX_contacts_live_created', expect.any(String)]]);
  });
});
