import type { DataSource, EntityManager } from 'typeorm';
import { AuditLog, type AuditDetail } from '../../../entities/audit-log.entity';
import type { Clock } from '../../adapters/clock';
import { resolveAuditTargets, targetOf, type AuditTarget } from './audit-targets';

/** Who made a change and from where; every admin write carries one. */
export interface AuditActor {
  operatorId: number | null;
  ip: string | null;
}

export interface RecordAuditParams {
  operatorId: number | null;
  /** e.g. `login`, `login_failed`, `tag.create`, `tag_rule.update`. */
  action: string;
  targetType?: string | null;
  targetId?: string | number | null;
  detail?: AuditDetail;
  ip?: string | null;
  /** Pass the caller's transaction so the audit row commits or rolls back with the change. */
  manager?: EntityManager;
}

export interface ListAuditParams {
  limit: number;
  /** An audit row id: only older rows are returned (keyset paging). */
  before?: number;
  operatorId?: number;
  /** Exactly this action (`tag.create`), or every action under a prefix ending in a dot (`tag.`). */
  action?: string;
  /** At or after this time. */
  from?: Date;
  /** Before this time. */
  to?: Date;
}

export interface AuditEntry {
  id: number;
  operatorId: number | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  /** The target's name (see audit-targets.ts); null when none is known. */
  target: AuditTarget | null;
  detail: AuditDetail;
  ip: string | null;
  at: string;
}

export interface AuditServiceDeps {
  dataSource: DataSource;
  clock: Clock;
}

/** The audit log: every operator change and every login attempt, newest first. */
export class AuditService {
  constructor(private readonly deps: AuditServiceDeps) {}

  async record(params: RecordAuditParams): Promise<void> {
    const manager = params.manager ?? this.deps.dataSource.manager;
    await manager.insert(AuditLog, {
      operatorId: params.operatorId,
      action: params.action,
      targetType: params.targetType ?? null,
      targetId: params.targetId === undefined || params.targetId === null ? null : String(params.targetId),
      detail: params.detail ?? {},
      ip: params.ip?.slice(0, 64) ?? null,
      at: this.deps.clock.now(),
    });
  }

  async list(params: ListAuditParams): Promise<{ items: AuditEntry[]; nextBefore: number | null }> {
    const query = this.deps.dataSource
      .getRepository(AuditLog)
      .createQueryBuilder('a')
      .where('1 = 1')
      .orderBy('a.id', 'DESC')
      .take(params.limit);
    if (params.before !== undefined) query.andWhere('a.id < :before', { before: params.before });
    if (params.operatorId !== undefined) query.andWhere('a.operatorId = :operatorId', { operatorId: params.operatorId });
    if (params.action?.endsWith('.'))
      query.andWhere("a.action LIKE :prefix ESCAPE '!'", { prefix: `${params.action.replace(/[!%_]/g, (c) => `!${c}`)}%` });
    else if (params.action !== undefined) query.andWhere('a.action = :action', { action: params.action });
    if (params.from !== undefined) query.andWhere('a.at >= :from', { from: params.from });
    if (params.to !== undefined) query.andWhere('a.at < :to', { to: params.to });
    const rows = await query.getMany();
    const targets = await resolveAuditTargets(this.deps.dataSource.manager, rows);
    const items = rows.map((row) => ({
      id: row.id,
      operatorId: row.operatorId,
      action: row.action,
      targetType: row.targetType,
      targetId: row.targetId,
      target: targetOf(targets, row),
      detail: row.detail,
      ip: row.ip,
      at: row.at.toISOString(),
    }));
    const last = items.at(-1);
    return { items, nextBefore: items.length === params.limit && last ? last.id : null };
  }
}

type AuditValue = AuditDetail[string];

/**
 * What an update changed, as audit detail: `changed` lists the fields, `before.x` / `after.x`
 * hold the values. Structured values (tag lists, news articles) are kept as JSON text.
 */
export function describeChanges(before: Record<string, unknown>, after: Record<string, unknown>): AuditDetail {
  const changed: string[] = [];
  const detail: AuditDetail = {};
  for (const key of Object.keys(after)) {
    const from = toAuditValue(before[key]);
    const to = toAuditValue(after[key]);
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    changed.push(key);
    detail[`before.${key}`] = from;
    detail[`after.${key}`] = to;
  }
  return { changed, ...detail };
}

/** A snapshot of a created or deleted record for the audit detail. */
export function describeRecord(record: Record<string, unknown>): AuditDetail {
  const detail: AuditDetail = {};
  for (const [key, value] of Object.entries(record)) detail[key] = toAuditValue(value);
  return detail;
}

function toAuditValue(value: unknown): AuditValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}
