import type { DataSource } from 'typeorm';
import { LIFECYCLE_STAGES, type LifecycleStage } from '../../../entities/contact.entity';
import type { Channel } from '../../../entities/interaction.entity';
import type { Clock } from '../../adapters/clock';
import { placeholders, toSqlDate } from '../../db/sql';
import { getUtcOffsetMinutes, lastDays } from '../reports/business-day';

export interface GetStatsParams {
  /** Days of history for the per-day series, ending today in the business time zone. */
  days: number;
  /** A contact is active with an interaction in the last `silentDays` days, silent otherwise. */
  silentDays: number;
}

export interface DashboardStats {
  timezone: string;
  /** First and last day of the series ('YYYY-MM-DD', business time zone). */
  from: string;
  to: string;
  days: string[];
  newContacts: { day: string; source: string | null; count: number }[];
  funnel: { stage: LifecycleStage; count: number }[];
  activity: { active: number; silent: number; silentDays: number };
  interactions: { day: string; channel: Channel; count: number }[];
  topTags: { tagId: number; group: string; name: string; count: number }[];
}

export interface StatsServiceDeps {
  dataSource: DataSource;
  clock: Clock;
  /** IANA name of the business time zone the days are counted in. */
  timezone: string;
}

const TOP_TAGS = 10;
const DAY_MS = 86_400_000;

/**
 * The dashboard's figures, each one GROUP BY over one index range (migration 1795600500000):
 * live contacts are those with merged_into_id IS NULL, the leading column of their indexes.
 */
export class StatsService {
  constructor(private readonly deps: StatsServiceDeps) {}

  async getStats(params: GetStatsParams): Promise<DashboardStats> {
    const now = this.deps.clock.now();
    const offset = getUtcOffsetMinutes(this.deps.timezone, now);
    const range = lastDays(now, params.days, offset);
    const from = toSqlDate(range.fromUtc);
    const to = toSqlDate(range.toUtc);
    const db = this.deps.dataSource;
    const day = (column: string) => this.localDay(column, offset);

    // Independent statements: on MySQL they run on separate pool connections at once.
    const [created, stages, active, interactions, tagCounts] = await Promise.all([
      db.query<{ day: string; source: string | null; n: number | string }[]>(
        `SELECT ${day('created_at')} AS day, first_source AS source, COUNT(*) AS n FROM contacts
         WHERE merged_into_id IS NULL AND created_at >= ? AND created_at < ? GROUP BY day, first_source`,
        [from, to],
      ),
      db.query<{ stage: string; n: number | string }[]>('SELECT stage, COUNT(*) AS n FROM contacts WHERE merged_into_id IS NULL GROUP BY stage'),
      db.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM contacts WHERE merged_into_id IS NULL AND last_interaction_at >= ?', [
        toSqlDate(new Date(now.getTime() - params.silentDays * DAY_MS)),
      ]),
      db.query<{ day: string; channel: Channel; n: number | string }[]>(
        `SELECT ${day('occurred_at')} AS day, channel, COUNT(*) AS n FROM interactions WHERE occurred_at >= ? AND occurred_at < ? GROUP BY day, channel`,
        [from, to],
      ),
      db.query<{ tag_id: number | string; n: number | string }[]>(`SELECT tag_id, COUNT(*) AS n FROM contact_tags GROUP BY tag_id ORDER BY n DESC, tag_id ASC LIMIT ${TOP_TAGS}`),
    ]);

    const byStage = new Map(stages.map((row) => [row.stage, Number(row.n)]));
    const funnel = LIFECYCLE_STAGES.map((stage) => ({ stage, count: byStage.get(stage) ?? 0 }));
    const live = stages.reduce((sum, row) => sum + Number(row.n), 0);
    const activeCount = Number(active[0]?.n ?? 0);

    const tagIds = tagCounts.map((row) => Number(row.tag_id));
    const names = new Map<number, { group: string; name: string }>();
    if (tagIds.length > 0) {
      const rows = await db.query<{ id: number | string; name: string; group_name: string }[]>(
        `SELECT t.id, t.name, g.name AS group_name FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.id IN (${placeholders(tagIds.length)})`,
        tagIds,
      );
      for (const row of rows) names.set(Number(row.id), { group: row.group_name, name: row.name });
    }

    const bySeries = <T extends { day: string }>(a: T, b: T) => a.day.localeCompare(b.day);
    return {
      timezone: this.deps.timezone,
      from: range.days[0],
      to: range.days[range.days.length - 1],
      days: range.days,
      newContacts: created
        .map((row) => ({ day: String(row.day), source: row.source, count: Number(row.n) }))
        .sort((a, b) => bySeries(a, b) || (a.source ?? '').localeCompare(b.source ?? '')),
      funnel,
      activity: { active: activeCount, silent: Math.max(0, live - activeCount), silentDays: params.silentDays },
      interactions: interactions.map((row) => ({ day: String(row.day), channel: row.channel, count: Number(row.n) })).sort((a, b) => bySeries(a, b) || a.channel.localeCompare(b.channel)),
      topTags: tagCounts.flatMap((row) => {
        const tag = names.get(Number(row.tag_id));
        return tag ? [{ tagId: Number(row.tag_id), group: tag.group, name: tag.name, count: Number(row.n) }] : [];
      }),
    };
  }

  /** The business-zone day of a UTC datetime column, as 'YYYY-MM-DD' text, on either database. */
  private localDay(column: string, offsetMinutes: number): string {
    const minutes = Math.trunc(offsetMinutes);
    if (this.deps.dataSource.options.type === 'better-sqlite3') return `strftime('%Y-%m-%d', ${column}, '${minutes >= 0 ? '+' : ''}${minutes} minutes')`;
    return `DATE_FORMAT(${column} + INTERVAL ${minutes} MINUTE, '%Y-%m-%d')`;
  }
}
