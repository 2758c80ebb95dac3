import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import { fromSqlDate, insertReturningId, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { referencedSegmentIds, type FilterNode } from '../../../web/shared/segment-filter';
import { describeChanges, describeRecord, type AuditActor, type AuditService } from '../audit/audit.service';
import type { ContactScope } from '../contacts/contacts-query.service';
import type { SegmentFilters } from './segment-filters';
import { parseFilter, type SegmentMembership } from './segment-membership';

export interface SegmentsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  filters: SegmentFilters;
  membership: SegmentMembership;
}

export interface SegmentView {
  id: number;
  name: string;
  filter: FilterNode;
  /** Members, kept with every membership change (never recomputed on read). */
  count: number;
  countedAt: string | null;
  createdBy: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface SegmentIssue {
  path: string;
  code: string;
  message: string;
}

export type SegmentResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' | 'duplicate_name' }
  | { ok: false; reason: 'invalid' | 'in_use'; issues: SegmentIssue[] };

export interface CreateSegmentParams {
  name: string;
  filter: FilterNode;
  actor: AuditActor;
}

export interface UpdateSegmentParams {
  id: number;
  name?: string;
  filter?: FilterNode;
  actor: AuditActor;
}

export interface DeleteSegmentParams {
  id: number;
  actor: AuditActor;
}

export interface ListMembersParams {
  id: number;
  limit: number;
  /** The `next` of the previous page: members with a smaller contact id. */
  after?: number;
  scope: ContactScope;
}

export interface SegmentMemberItem {
  id: number;
  name: string | null;
  remark: string | null;
  score: number;
  stage: string;
  enteredAt: string;
}

/** Saved segments: CRUD (audited), their members, and the builder's preview count. */
export class SegmentsService {
  constructor(private readonly deps: SegmentsServiceDeps) {}

  /** The builder's live count: the filter run now, exactly (bench:segments measures it). */
  async previewCount(filter: FilterNode): Promise<number> {
    const issues = await this.checkReferences(this.deps.dataSource.manager, filter, null);
    if (issues.length > 0) return 0;
    return this.deps.filters.countFilter({ filter });
  }

  async listSegments(): Promise<SegmentView[]> {
    const rows = await this.deps.dataSource.query<SegmentRow[]>(`${SELECT_SEGMENT} ORDER BY id DESC`);
    return rows.map(toView);
  }

  async getSegment(id: number): Promise<SegmentView | null> {
    const rows = await this.deps.dataSource.query<SegmentRow[]>(`${SELECT_SEGMENT} WHERE id = ?`, [id]);
    return rows[0] ? toView(rows[0]) : null;
  }

  /** Saves it and fills its members (no timeline events for this first fill, see RefreshSegmentParams). */
  async createSegment(params: CreateSegmentParams): Promise<SegmentResult<{ id: number; count: number }>> {
    return this.deps.transactor.runRetrying(
      async (manager): Promise<SegmentResult<{ id: number; count: number }>> => {
        const issues = await this.checkReferences(manager, params.filter, null);
        if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
        if (await this.nameTaken(manager, params.name, null)) return { ok: false, reason: 'duplicate_name' };
        const now = toSqlDate(this.deps.clock.now());
        const id = await insertReturningId(
          manager,
          'INSERT INTO segments (name, filter, count, counted_at, created_by, created_at, updated_at) VALUES (?, ?, 0, NULL, ?, ?, ?)',
          [params.name, JSON.stringify(params.filter), params.actor.operatorId, now, now],
        );
        const { count } = await this.deps.membership.refreshSegment({
          manager,
          segment: { id, name: params.name, filter: params.filter },
          recordEvents: false,
        });
        await this.deps.audit.record({
          manager,
          operatorId: params.actor.operatorId,
          ip: params.actor.ip,
          action: 'segment.create',
          targetType: 'segment',
          targetId: id,
          detail: describeRecord({ name: params.name, filter: params.filter, count }),
        });
        return { ok: true, value: { id, count } };
      },
      { onDuplicate: () => ({ ok: false, reason: 'duplicate_name' }) },
    );
  }

  /** A new filter refreshes the members at once, recording who entered and who left. */
  async updateSegment(params: UpdateSegmentParams): Promise<SegmentResult<SegmentView>> {
    return this.deps.transactor.runRetrying(
      async (manager): Promise<SegmentResult<SegmentView>> => {
        const current = await this.lockedSegment(manager, params.id);
        if (!current) return { ok: false, reason: 'not_found' };
        const before = { name: current.name, filter: parseFilter(current.filter) };
        const after = { name: params.name ?? before.name, filter: params.filter ?? before.filter };
        if (params.filter) {
          const issues = await this.checkReferences(manager, params.filter, params.id);
          if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
        }
        if (after.name !== before.name && (await this.nameTaken(manager, after.name, params.id)))
          return { ok: false, reason: 'duplicate_name' };
        await manager.query('UPDATE segments SET name = ?, filter = ?, updated_at = ? WHERE id = ?', [
          after.name,
          JSON.stringify(after.filter),
          toSqlDate(this.deps.clock.now()),
          params.id,
        ]);
        if (JSON.stringify(after.filter) !== JSON.stringify(before.filter))
          await this.deps.membership.refreshSegment({ manager, segment: { id: params.id, ...after }, recordEvents: true });
        await this.deps.audit.record({
          manager,
          operatorId: params.actor.operatorId,
          ip: params.actor.ip,
          action: 'segment.update',
          targetType: 'segment',
          targetId: params.id,
          detail: describeChanges(before, after),
        });
        const rows = await manager.query<SegmentRow[]>(`${SELECT_SEGMENT} WHERE id = ?`, [params.id]);
        return { ok: true, value: toView(rows[0]) };
      },
      { onDuplicate: () => ({ ok: false, reason: 'duplicate_name' }) },
    );
  }

  /** Refused while another segment reads it (inSegment): that one would silently match nobody. */
  async deleteSegment(params: DeleteSegmentParams): Promise<SegmentResult<{ id: number }>> {
    return this.deps.transactor.run(async (manager): Promise<SegmentResult<{ id: number }>> => {
      const current = await this.lockedSegment(manager, params.id);
      if (!current) return { ok: false, reason: 'not_found' };
      const readers = (await this.deps.membership.listDefinitions(manager)).filter((segment) =>
        referencedSegmentIds(segment.filter).includes(params.id),
      );
      if (readers.length > 0)
        return {
          ok: false,
          reason: 'in_use',
          issues: [{ path: 'id', code: 'segment_in_use', message: `Read by segment ${readers.map((s) => s.name).join(', ')}` }],
        };
      await manager.query('DELETE FROM segment_members WHERE segment_id = ?', [params.id]);
      await manager.query('DELETE FROM segments WHERE id = ?', [params.id]);
      await this.deps.audit.record({
        manager,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'segment.delete',
        targetType: 'segment',
        targetId: params.id,
        detail: describeRecord({ name: current.name, filter: parseFilter(current.filter), count: Number(current.count) }),
      });
      return { ok: true, value: { id: params.id } };
    });
  }

  /**
   * Members newest contact first, keyset-paged by contact id (the primary key's range of the
   * segment); a sales rep sees only the contacts they follow in WeCom, as on the contact list.
   */
  async listMembers(params: ListMembersParams): Promise<{ items: SegmentMemberItem[]; next: number | null } | null> {
    if (!(await this.getSegment(params.id))) return null;
    if (params.scope.kind === 'follower' && params.scope.userId === null) return { items: [], next: null };
    const conditions = ['m.segment_id = ?'];
    const values: unknown[] = [params.id];
    if (params.after !== undefined) {
      conditions.push('m.contact_id < ?');
      values.push(params.after);
    }
    if (params.scope.kind === 'follower') {
      conditions.push(
        "EXISTS (SELECT 1 FROM contact_follows f WHERE f.contact_id = m.contact_id AND f.user_id = ? AND f.status = 'active')",
      );
      values.push(params.scope.userId);
    }
    const rows = await this.deps.dataSource.query<
      { id: number | string; name: string | null; remark: string | null; score: number | string; stage: string; entered_at: unknown }[]
    >(
      'SELECT c.id, c.name, c.remark, c.score, c.stage, m.entered_at FROM segment_members m JOIN contacts c ON c.id = m.contact_id ' +
        `WHERE ${conditions.join(' AND ')} ORDER BY m.contact_id DESC LIMIT ${Math.trunc(params.limit)}`,
      values,
    );
    const items = rows.map((row) => ({
      id: Number(row.id),
      name: row.name,
      remark: row.remark,
      score: Number(row.score),
      stage: row.stage,
      enteredAt: fromSqlDate(row.entered_at).toISOString(),
    }));
    const last = items.at(-1);
    return { items, next: items.length === params.limit && last ? last.id : null };
  }

  /**
   * inSegment conditions must name saved segments, and none may lead back to the segment being
   * saved (it would read its own members while they are being written).
   */
  private async checkReferences(manager: EntityManager, filter: FilterNode, selfId: number | null): Promise<SegmentIssue[]> {
    if (referencedSegmentIds(filter).length === 0) return [];
    const definitions = new Map((await this.deps.membership.listDefinitions(manager)).map((segment) => [segment.id, segment]));
    const issues: SegmentIssue[] = [];
    const reaches = (from: number, seen: Set<number>): boolean => {
      if (from === selfId) return true;
      if (seen.has(from)) return false;
      seen.add(from);
      const next = definitions.get(from);
      return next ? referencedSegmentIds(next.filter).some((id) => reaches(id, seen)) : false;
    };
    const walk = (node: FilterNode, path: string) => {
      if (node.kind === 'and' || node.kind === 'or') {
        node.conditions.forEach((child, i) => walk(child, `${path}.conditions.${i}`));
        return;
      }
      if (node.kind !== 'inSegment') return;
      if (!definitions.has(node.segmentId))
        issues.push({ path: `${path}.segmentId`, code: 'segment_unknown', message: `No segment ${node.segmentId}` });
      else if (selfId !== null && reaches(node.segmentId, new Set()))
        issues.push({ path: `${path}.segmentId`, code: 'segment_cycle', message: 'A segment cannot contain itself' });
    };
    walk(filter, 'filter');
    return issues;
  }

  private async nameTaken(manager: EntityManager, name: string, exceptId: number | null): Promise<boolean> {
    const rows = await manager.query<{ id: number | string }[]>('SELECT id FROM segments WHERE name = ?', [name]);
    return rows.some((row) => Number(row.id) !== exceptId);
  }

  private async lockedSegment(manager: EntityManager, id: number): Promise<SegmentRow | null> {
    const mysql = manager.connection.options.type === 'mysql' || manager.connection.options.type === 'mariadb';
    const rows = await manager.query<SegmentRow[]>(`${SELECT_SEGMENT} WHERE id = ?${mysql ? ' FOR UPDATE' : ''}`, [id]);
    return rows[0] ?? null;
  }
}

const SELECT_SEGMENT = 'SELECT id, name, filter, count, counted_at, created_by, created_at, updated_at FROM segments';

interface SegmentRow {
  id: number | string;
  name: string;
  filter: unknown;
  count: number | string;
  counted_at: unknown;
  created_by: number | string | null;
  created_at: unknown;
  updated_at: unknown;
}

function toView(row: SegmentRow): SegmentView {
  return {
    id: Number(row.id),
    name: row.name,
    filter: parseFilter(row.filter),
    count: Number(row.count),
    countedAt: row.counted_at === null ? null : fromSqlDate(row.counted_at).toISOString(),
    createdBy: row.created_by === null ? null : Number(row.created_by),
    createdAt: fromSqlDate(row.created_at).toISOString(),
    updatedAt: fromSqlDate(row.updated_at).toISOString(),
  };
}
