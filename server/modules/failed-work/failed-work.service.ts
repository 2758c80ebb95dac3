import type { DataSource, EntityManager } from 'typeorm';
import type { LeaseQueue } from '../../db/lease-queue';
import { placeholders } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { describeErrcode } from '../../wechat/errcode';
import { describeFailedWork, payloadOf, type FailedWorkSubject } from './failed-work-subjects';
import type { AuditActor, AuditService } from '../audit/audit.service';

/** The work tables whose failed rows an operator can see and re-drive. */
export const FAILED_WORK_KINDS = ['tasks', 'reactions'] as const;
export type FailedWorkKind = (typeof FAILED_WORK_KINDS)[number];

/** One row that failed for good: what it was, how often it failed, and the last error. */
export interface FailedWorkItem {
  id: number;
  /** The task kind (`oa-tag-sync` ...), or the interaction's type for reaction work. */
  kind: string | null;
  dedupeKey: string;
  attempts: number;
  lastError: string | null;
  /** The WeChat / WeCom errcode the error text carries, with its documented meaning. */
  errcode: { code: number; meaning: string } | null;
  updatedAt: string;
  /** Reaction work only: the channel of the interaction the row belongs to. */
  channel?: string | null;
  /** Tasks only: what the task was about (the tag, the contact), for the page's sentence. */
  subject?: FailedWorkSubject | null;
}

/**
 * Where one kind's failed rows live. A source is a lease table (server/db/lease-queue.ts) plus how
 * to label its rows; a new one plugs in with a few lines in compose.ts.
 */
export interface FailedWorkSource {
  /** The table's lease queue: re-driving is its `redrive`. */
  queue: LeaseQueue;
  /** FROM clause; the work table is aliased `w`, e.g. `tasks w`. */
  from: string;
  /** Extra SELECT columns named `kind` and optionally `channel` and `payload`. */
  columns: string;
  /** Whether rows carry a task payload that names their subject (failed-work-subjects.ts). */
  describes?: boolean;
}

export interface FailedWorkServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  audit: AuditService;
  sources: Record<FailedWorkKind, FailedWorkSource>;
}

export interface ListFailedWorkParams {
  kind: FailedWorkKind;
  limit: number;
  /** A row id: only older rows are returned (keyset paging, newest first). */
  before?: number;
}

export interface RetryFailedWorkParams {
  kind: FailedWorkKind;
  ids: number[];
  actor: AuditActor;
}

interface FailedRow {
  id: number | string;
  kind: string | null;
  channel?: string | null;
  dedupe_key: string;
  attempts: number | string;
  last_error: string | null;
  updated_at: Date | string;
  payload?: unknown;
}

/** Tasks and reaction work that failed for good, listed for operators and re-driven on request. */
export class FailedWorkService {
  constructor(private readonly deps: FailedWorkServiceDeps) {}

  async list(params: ListFailedWorkParams): Promise<{ items: FailedWorkItem[]; nextBefore: number | null }> {
    const source = this.deps.sources[params.kind];
    const limit = Math.max(1, Math.floor(params.limit));
    const before = params.before === undefined ? '' : ' AND w.id < ?';
    const rows: FailedRow[] = await this.deps.dataSource.query(
      `SELECT w.id, w.dedupe_key, w.attempts, w.last_error, w.updated_at, ${source.columns} FROM ${source.from} WHERE w.status = 'failed'${before} ORDER BY w.id DESC LIMIT ${limit}`,
      params.before === undefined ? [] : [params.before],
    );
    const subjects = source.describes
      ? await describeFailedWork(
          this.deps.dataSource.manager,
          rows.map((row) => payloadOf(row.payload)),
        )
      : [];
    const items = rows.map((row, index): FailedWorkItem => ({
      id: Number(row.id),
      kind: row.kind,
      dedupeKey: row.dedupe_key,
      attempts: Number(row.attempts),
      lastError: row.last_error,
      errcode: parseErrcode(row.last_error),
      updatedAt: toIso(row.updated_at),
      ...(row.channel === undefined ? {} : { channel: row.channel }),
      ...(source.describes ? { subject: subjects[index] ?? null } : {}),
    }));
    const last = items.at(-1);
    return { items, nextBefore: items.length === limit && last ? last.id : null };
  }

  /**
   * Makes the failed rows among `ids` pending and due now, with their attempts reset, and audits
   * each one in the same transaction. Ids that are not failed (unknown, pending, done) are left
   * alone and not counted. Returns the ids re-driven.
   */
  async retry(params: RetryFailedWorkParams): Promise<number[]> {
    const source = this.deps.sources[params.kind];
    const ids = [...new Set(params.ids)];
    if (ids.length === 0) return [];
    return this.deps.transactor.run(async (manager) => {
      const failed = await this.failedIds(manager, source, ids);
      if (failed.length === 0) return [];
      await source.queue.redrive(failed, manager);
      for (const id of failed) {
        await this.deps.audit.record({
          manager,
          operatorId: params.actor.operatorId,
          ip: params.actor.ip,
          action: 'failed_work.retry',
          targetType: source.queue.table,
          targetId: id,
          detail: { kind: params.kind },
        });
      }
      return failed;
    });
  }

  private async failedIds(manager: EntityManager, source: FailedWorkSource, ids: number[]): Promise<number[]> {
    const rows: { id: number | string }[] = await manager.query(
      `SELECT id FROM ${source.queue.table} WHERE status = 'failed' AND id IN (${placeholders(ids.length)}) ORDER BY id`,
      ids,
    );
    return rows.map((row) => Number(row.id));
  }
}

/** The two sources Flywheel has: the task queue, and the reaction work rows behind interactions. */
export function createFailedWorkSources(queues: { tasks: LeaseQueue; reactions: LeaseQueue }): Record<FailedWorkKind, FailedWorkSource> {
  return {
    tasks: { queue: queues.tasks, from: 'tasks w', columns: 'w.kind AS kind, w.payload AS payload', describes: true },
    // A work row finds its interaction by the dedupe key both carry.
    reactions: {
      queue: queues.reactions,
      from: 'reaction_work w LEFT JOIN interactions i ON i.dedupe_key = w.dedupe_key',
      columns: 'i.type AS kind, i.channel AS channel',
    },
  };
}

/** Platform errors read `... failed with errcode 45159 (invalid tag id): ...` (PlatformApiError). */
export function parseErrcode(text: string | null): { code: number; meaning: string } | null {
  const match = text === null ? null : /errcode[ =:]*(-?\d+)/i.exec(text);
  if (!match) return null;
  const code = Number(match[1]);
  return { code, meaning: describeErrcode(code) };
}

function toIso(value: Date | string): string {
  if (value instanceof Date) return value.toISOString();
  // SQLite hands datetime(3) back as text in UTC: `2026-11-23 00:00:00.000`.
  return new Date(`${value.replace(' ', 'T')}Z`).toISOString();
}
