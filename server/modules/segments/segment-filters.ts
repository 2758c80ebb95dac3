import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import { isMysqlManager, placeholders } from '../../db/sql';
import type { FilterNode } from '../../../web/shared/segment-filter';
import { compileFilter, type CompiledFilter } from './filter-compiler';

export interface SegmentFiltersDeps {
  dataSource: DataSource;
  clock: Clock;
}

export interface CountFilterParams {
  filter: FilterNode;
  /** Inside the caller's transaction, when given. */
  manager?: EntityManager;
}

export interface MatchesFilterParams {
  filter: FilterNode;
  contactId: number;
  manager?: EntityManager;
}

export interface FilterContactIdsParams {
  filter: FilterNode;
  contactIds: readonly number[];
  manager?: EntityManager;
}

/** Ids per statement in filterContactIds: far below SQLite's 32,766 variables with the filter's own. */
const IDS_PER_QUERY = 1_000;

/**
 * Filters run against the database: what the segment builder's preview, the saved segments and
 * journeys' conditions call. Every method is one query (per 1,000 ids) built by compileFilter over
 * live (unmerged) contacts, on the injected clock.
 */
export class SegmentFilters {
  constructor(private readonly deps: SegmentFiltersDeps) {}

  /** The condition on `contacts c` for a filter now: live contacts matching it. */
  compileLive(filter: FilterNode, manager: EntityManager = this.deps.dataSource.manager): CompiledFilter {
    const compiled = compileFilter({ filter, now: this.deps.clock.now(), mysql: isMysqlManager(manager) });
    return { sql: `c.merged_into_id IS NULL AND ${compiled.sql}`, params: compiled.params };
  }

  /** How many live contacts match, exactly (the builder's preview). */
  async countFilter(params: CountFilterParams): Promise<number> {
    const manager = params.manager ?? this.deps.dataSource.manager;
    const where = this.compileLive(params.filter, manager);
    const rows = await manager.query<{ n: number | string }[]>(`SELECT COUNT(*) AS n FROM contacts c WHERE ${where.sql}`, where.params);
    return Number(rows[0]?.n ?? 0);
  }

  /** Does this contact match the filter now? (A merged contact matches nothing: ask about its survivor.) */
  async matchesFilter(params: MatchesFilterParams): Promise<boolean> {
    const matched = await this.filterContactIds({ filter: params.filter, contactIds: [params.contactId], manager: params.manager });
    return matched.length > 0;
  }

  /** Which of these contacts match the filter now, in ascending id order: one query per 1,000 ids. */
  async filterContactIds(params: FilterContactIdsParams): Promise<number[]> {
    const manager = params.manager ?? this.deps.dataSource.manager;
    const ids = [...new Set(params.contactIds)];
    const matched: number[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const chunk = ids.slice(i, i + IDS_PER_QUERY);
      const where = this.compileLive(params.filter, manager);
      const rows = await manager.query<{ id: number | string }[]>(
        `SELECT c.id AS id FROM contacts c WHERE c.id IN (${placeholders(chunk.length)}) AND ${where.sql} ORDER BY c.id`,
        [...chunk, ...where.params],
      );
      matched.push(...rows.map((row) => Number(row.id)));
    }
    return matched;
  }
}
