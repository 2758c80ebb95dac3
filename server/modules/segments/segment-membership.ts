import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { fromSqlDate, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { referencedSegmentIds, SEGMENT_ENTERED_TYPE, SEGMENT_EXITED_TYPE, type FilterNode } from '../../../web/shared/segment-filter';
import type { InteractionDraft, InteractionsService } from '../interactions/interactions.service';
import { defineReaction, type Reaction } from '../reactions/reaction';
import type { SegmentFilters } from './segment-filters';

export interface SegmentMembershipDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  filters: SegmentFilters;
  interactions: Pick<InteractionsService, 'recordInteractions'>;
  logger?: Logger;
}

/** A saved segment as membership needs it. */
export interface SegmentDefinition {
  id: number;
  name: string;
  filter: FilterNode;
}

export interface RefreshSegmentParams {
  manager: EntityManager;
  segment: SegmentDefinition;
  /**
   * Record `segment_entered` / `segment_exited` on the timeline. False for the first fill of a new
   * segment: its members did not enter at that moment, the segment began (a journey starting on
   * entry takes those who enter after it exists; to take the first members, enrol the segment).
   */
  recordEvents: boolean;
}

export interface RefreshResult {
  entered: number;
  exited: number;
  count: number;
}

/** Timeline events per recordInteractions call: 10 values a row, far below SQLite's variable limit. */
const EVENTS_PER_CALL = 500;

/**
 * Keeps segment_members true to each saved segment's filter, two ways:
 * - the reaction (registered last in compose.ts, so it sees the batch's tags, stage and scores)
 *   re-evaluates every segment for the contacts of each batch of arriving interactions: one query
 *   per segment over those ids, whatever the filter;
 * - the `segments-refresh` job refreshes every segment in set-based SQL: one INSERT ... SELECT of
 *   the entrants and one DELETE of the leavers per segment, never a loop over contacts. Time
 *   alone moves "did X in the last 7 days"; an operator's tagging and bulk jobs write no interaction.
 * Entering and leaving go on the timeline through recordInteraction (outbound, channel system,
 * ref {segment, id}), keyed `segment:<id>:<contact>:<entered ms>` (and `:exit`), so an entry is
 * recorded once whoever saw it first. Both ways lock the segment's row before writing its members
 * (MySQL; SQLite has one writer), so they never both see the same contact enter.
 */
export class SegmentMembership {
  constructor(private readonly deps: SegmentMembershipDeps) {}

  /** Every saved segment, those another one reads (inSegment) before it. */
  async listDefinitions(manager: EntityManager = this.deps.dataSource.manager): Promise<SegmentDefinition[]> {
    const rows = await manager.query<{ id: number | string; name: string; filter: unknown }[]>(
      'SELECT id, name, filter FROM segments ORDER BY id',
    );
    return orderByDependencies(rows.map((row) => ({ id: Number(row.id), name: row.name, filter: parseFilter(row.filter) })));
  }

  /** The job: every segment refreshed in its own transaction. */
  async refreshAll(): Promise<{ segments: number; entered: number; exited: number }> {
    const totals = { segments: 0, entered: 0, exited: 0 };
    for (const segment of await this.listDefinitions()) {
      const result = await this.deps.transactor.run(async (manager) => {
        if (!(await this.lockSegments(manager, [segment.id])).has(segment.id)) return null;
        return this.refreshSegment({ manager, segment, recordEvents: true });
      });
      if (!result) continue;
      totals.segments += 1;
      totals.entered += result.entered;
      totals.exited += result.exited;
    }
    if (totals.entered + totals.exited > 0) this.deps.logger?.info('segments refreshed', totals);
    return totals;
  }

  /**
   * One segment's members made true to its filter, inside the caller's transaction (which holds
   * the segment's row lock): the leavers read then deleted in one statement, the entrants read then
   * inserted in one INSERT ... SELECT, their events recorded, the count kept.
   */
  async refreshSegment(params: RefreshSegmentParams): Promise<RefreshResult> {
    const { manager, segment } = params;
    const now = this.deps.clock.now();
    const where = this.deps.filters.compileLive(segment.filter, manager);
    const matching = `SELECT c.id FROM contacts c WHERE ${where.sql}`;

    const leavers = await manager.query<{ contact_id: number | string; entered_at: unknown }[]>(
      `SELECT m.contact_id, m.entered_at FROM segment_members m WHERE m.segment_id = ? AND m.contact_id NOT IN (${matching})`,
      [segment.id, ...where.params],
    );
    if (leavers.length > 0)
      // The derived table makes MySQL read the matches first: it refuses a DELETE whose subquery
      // reads the table deleted from (an inSegment condition reads segment_members).
      await manager.query(
        `DELETE FROM segment_members WHERE segment_id = ? AND contact_id NOT IN (SELECT id FROM (${matching}) keep_ids)`,
        [segment.id, ...where.params],
      );
    const absent = 'NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = ? AND m.contact_id = c.id)';
    const entrants = await manager.query<{ id: number | string }[]>(`${matching} AND ${absent}`, [...where.params, segment.id]);
    if (entrants.length > 0)
      await manager.query(
        `INSERT INTO segment_members (segment_id, contact_id, entered_at) SELECT ?, c.id, ? FROM contacts c WHERE ${where.sql} AND ${absent}`,
        [segment.id, toSqlDate(now), ...where.params, segment.id],
      );
    if (params.recordEvents)
      await this.recordEvents(manager, segment, [
        ...entrants.map((row) => ({ contactId: Number(row.id), enteredAt: now, entered: true })),
        ...leavers.map((row) => ({ contactId: Number(row.contact_id), enteredAt: fromSqlDate(row.entered_at), entered: false })),
      ]);
    const count = await this.storeCount(manager, segment.id);
    return { entered: entrants.length, exited: leavers.length, count };
  }

  /**
   * The reaction's work for a batch: every segment re-evaluated for these contacts (one query per
   * segment), in dependency order so a segment that reads another sees its new members. A segment
   * with a change is locked (always in that same order, so two batches cannot deadlock), read again
   * under the lock (the job may have written these members meanwhile), and written.
   */
  async applyToContacts(manager: EntityManager, contactIds: readonly number[]): Promise<void> {
    const ids = [...new Set(contactIds)];
    if (ids.length === 0) return;
    const segments = await this.listDefinitions(manager);
    if (segments.length === 0) return;
    const members = await this.readMembers(manager, ids);
    const now = this.deps.clock.now();
    for (const segment of segments) {
      const matched = new Set(await this.deps.filters.filterContactIds({ filter: segment.filter, contactIds: ids, manager }));
      const before = members.get(segment.id) ?? new Map<number, Date>();
      if (!ids.some((id) => matched.has(id) !== before.has(id))) continue;
      if (!(await this.lockSegments(manager, [segment.id])).has(segment.id)) continue;
      const current = (await this.readMembers(manager, ids, segment.id)).get(segment.id) ?? new Map<number, Date>();
      const entrants = ids.filter((id) => matched.has(id) && !current.has(id));
      const leavers = ids.filter((id) => !matched.has(id) && current.has(id));
      if (entrants.length === 0 && leavers.length === 0) continue;
      if (entrants.length > 0)
        await manager.query(
          `INSERT INTO segment_members (segment_id, contact_id, entered_at) VALUES ${entrants.map(() => '(?, ?, ?)').join(',')}`,
          entrants.flatMap((id) => [segment.id, id, toSqlDate(now)]),
        );
      if (leavers.length > 0)
        await manager.query(`DELETE FROM segment_members WHERE segment_id = ? AND contact_id IN (${placeholders(leavers.length)})`, [
          segment.id,
          ...leavers,
        ]);
      await this.recordEvents(manager, segment, [
        ...entrants.map((contactId) => ({ contactId, enteredAt: now, entered: true })),
        ...leavers.map((contactId) => ({ contactId, enteredAt: current.get(contactId) ?? now, entered: false })),
      ]);
      await manager.query('UPDATE segments SET count = count + ?, counted_at = ? WHERE id = ?', [
        entrants.length - leavers.length,
        toSqlDate(now),
        segment.id,
      ]);
    }
  }

  /**
   * The membership reaction: gathers the batch's contacts (as they are after its merges) and
   * re-evaluates the segments for them once, at the batch's end. Registered after the tag rules,
   * whose tags and points it must see.
   */
  createReaction(): Reaction {
    return defineReaction<true, Set<number>>({
      name: 'segment-membership',
      prepare: () => Promise.resolve(true),
      createState: () => new Set<number>(),
      write(_m, row, _prepared, contacts) {
        if (row.contactId !== null) contacts.add(row.contactId);
        return Promise.resolve();
      },
      finish: (m, contacts, batch) => this.applyToContacts(m, batch.survivors(contacts)),
    });
  }

  /** Locks the segments' rows (MySQL, id order) and answers those that still exist. */
  private async lockSegments(manager: EntityManager, ids: number[]): Promise<Set<number>> {
    const sorted = [...new Set(ids)].sort((a, b) => a - b);
    const rows = await manager.query<{ id: number | string }[]>(
      `SELECT id FROM segments WHERE id IN (${placeholders(sorted.length)}) ORDER BY id${isMysqlManager(manager) ? ' FOR UPDATE' : ''}`,
      sorted,
    );
    return new Set(rows.map((row) => Number(row.id)));
  }

  /** segment id → contact id → entered at, for these contacts. */
  private async readMembers(manager: EntityManager, contactIds: number[], segmentId?: number): Promise<Map<number, Map<number, Date>>> {
    const rows = await manager.query<{ segment_id: number | string; contact_id: number | string; entered_at: unknown }[]>(
      `SELECT segment_id, contact_id, entered_at FROM segment_members WHERE contact_id IN (${placeholders(contactIds.length)})` +
        (segmentId === undefined ? '' : ' AND segment_id = ?'),
      segmentId === undefined ? contactIds : [...contactIds, segmentId],
    );
    const bySegment = new Map<number, Map<number, Date>>();
    for (const row of rows) {
      const id = Number(row.segment_id);
      const members = bySegment.get(id) ?? new Map<number, Date>();
      members.set(Number(row.contact_id), fromSqlDate(row.entered_at));
      bySegment.set(id, members);
    }
    return bySegment;
  }

  private async recordEvents(
    manager: EntityManager,
    segment: SegmentDefinition,
    changes: { contactId: number; enteredAt: Date; entered: boolean }[],
  ): Promise<void> {
    const now = this.deps.clock.now();
    const drafts = changes.map((change): InteractionDraft => ({
      type: change.entered ? SEGMENT_ENTERED_TYPE : SEGMENT_EXITED_TYPE,
      channel: 'system',
      direction: 'out',
      occurredAt: now,
      detail: { segmentId: segment.id, segmentName: segment.name },
      identity: null,
      contactId: change.contactId,
      dedupeKey: `segment:${segment.id}:${change.contactId}:${change.enteredAt.getTime()}${change.entered ? '' : ':exit'}`,
      ref: { type: 'segment', id: String(segment.id) },
    }));
    for (let i = 0; i < drafts.length; i += EVENTS_PER_CALL)
      await this.deps.interactions.recordInteractions(manager, drafts.slice(i, i + EVENTS_PER_CALL));
  }

  private async storeCount(manager: EntityManager, segmentId: number): Promise<number> {
    const rows = await manager.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM segment_members WHERE segment_id = ?', [
      segmentId,
    ]);
    const count = Number(rows[0]?.n ?? 0);
    await manager.query('UPDATE segments SET count = ?, counted_at = ? WHERE id = ?', [count, toSqlDate(this.deps.clock.now()), segmentId]);
    return count;
  }
}

/** A stored filter: an object on MySQL's driver, JSON text on SQLite's raw queries. */
export function parseFilter(value: unknown): FilterNode {
  return (typeof value === 'string' ? JSON.parse(value) : value) as FilterNode;
}

/** Segments another reads first (saving refuses cycles, so this ends); unknown references are ignored. */
export function orderByDependencies(segments: SegmentDefinition[]): SegmentDefinition[] {
  const byId = new Map(segments.map((segment) => [segment.id, segment]));
  const ordered: SegmentDefinition[] = [];
  const seen = new Set<number>();
  const visit = (segment: SegmentDefinition, depth: number) => {
    if (seen.has(segment.id) || depth > segments.length) return;
    for (const id of referencedSegmentIds(segment.filter)) {
      const dependency = byId.get(id);
      if (dependency) visit(dependency, depth + 1);
    }
    if (!seen.has(segment.id)) {
      seen.add(segment.id);
      ordered.push(segment);
    }
  };
  for (const segment of segments) visit(segment, 0);
  return ordered;
}
