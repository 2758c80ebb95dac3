import { randomUUID } from 'node:crypto';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { Task } from '../../../entities/task.entity';
import type { Logger } from '../../adapters/logger';
import type { Transactor } from '../../db/transaction';
import type { AuditActor, AuditService } from '../audit/audit.service';
import type { ContactListFilter, ContactScope, ContactsQueryService } from '../contacts/contacts-query.service';
import { lockContactRows } from '../contacts/contacts.service';
import type { TaskQueue, TaskResult } from '../tasks/task-queue.service';
import type { ContactTagsService, TagChangeActor, TagChangeCause } from './contact-tags.service';

export const BULK_TAG = 'bulk_tag';

/** Contacts per chunk of a bulk job: one transaction each, so a crash loses at most one chunk's work (redone, idempotently). */
const DEFAULT_CHUNK_SIZE = 500;

export interface TagChangeInput {
  add: number[];
  remove: number[];
}

export interface SetContactTagsParams extends TagChangeInput {
  contactId: number;
  scope: ContactScope;
  actor: AuditActor;
  /** The audit row's action: `contact.tags` from the admin page, `sidebar.tags` from the WeCom sidebar. */
  auditAction?: string;
}

export interface BulkTagContactsParams extends TagChangeInput {
  contactIds: number[];
  actor: AuditActor;
}

export interface EnqueueBulkTagJobParams extends TagChangeInput {
  filter: ContactListFilter;
  actor: AuditActor;
}

export type TaggingResult<T> =
  { ok: true; value: T } | { ok: false; reason: 'not_found' } | { ok: false; reason: 'unknown_tags'; tagIds: number[] };

export interface ContactTagView {
  id: number;
  group: string;
  name: string;
}

export interface BulkJobView {
  id: number;
  status: 'pending' | 'running' | 'done' | 'failed';
  /** Contacts matching the filter when the job started; null until then. */
  total: number | null;
  done: number;
  error: string | null;
}

export interface ManualTaggingDeps {
  dataSource: DataSource;
  transactor: Transactor;
  contactTags: ContactTagsService;
  audit: AuditService;
  queue: TaskQueue;
  contactsQuery: ContactsQueryService;
  logger: Logger;
  chunkSize?: number;
}

/** What a bulk job's task carries; `cursor` and `done` move with each committed chunk. */
interface BulkJobState {
  filter: ContactListFilter;
  add: number[];
  remove: number[];
  operatorId: number | null;
  /** The smallest contact id done so far (the filter is walked newest first); null before the first chunk. */
  cursor: number | null;
  done: number;
  total: number | null;
}

/**
 * Operators tagging contacts by hand: one contact, the selected rows, or everyone matching a
 * filter as a queued job, audited. Every change goes through ContactTagsService.applyTags, so
 * the platform syncs are enqueued in the same transaction as for any other tag change, and
 * re-applying is a no-op.
 */
export class ManualTaggingService {
  private readonly chunkSize: number;

  constructor(private readonly deps: ManualTaggingDeps) {
    this.chunkSize = deps.chunkSize ?? DEFAULT_CHUNK_SIZE;
  }

  /** Adds and removes tags on one contact the operator may see; answers the contact's tags afterwards. */
  async setContactTags(params: SetContactTagsParams): Promise<TaggingResult<ContactTagView[]>> {
    const contact = await this.deps.contactsQuery.findVisibleContact(params.contactId, params.scope);
    if (!contact || contact.mergedIntoId !== null) return { ok: false, reason: 'not_found' };
    return this.deps.transactor.runRetrying(async (manager) => {
      // The contact is locked before anything is read: the same change sent twice at once waits
      // for the first to commit, then sees its tags and answers as the first did; a merge either
      // waits for this change or moved the tags first (the contact is then gone, as for a later request).
      const [locked] = await lockContactRows(manager, [contact.id]);
      if (!locked || locked.mergedIntoId !== null) return { ok: false, reason: 'not_found' };
      const tags = await this.loadTags(manager, params);
      if (!tags.ok) return tags;
      const changed = await this.deps.contactTags.applyTags(manager, {
        contactId: contact.id,
        add: tags.value.add,
        remove: tags.value.remove,
        actor: { kind: 'operator', id: params.actor.operatorId },
        cause: 'manual',
      });
      if (changed.added.length + changed.removed.length > 0) {
        await this.deps.audit.record({
          manager,
          operatorId: params.actor.operatorId,
          ip: params.actor.ip,
          action: params.auditAction ?? 'contact.tags',
          targetType: 'contact',
          targetId: contact.id,
          detail: { added: changed.added.map((t) => t.name), removed: changed.removed.map((t) => t.name) },
        });
      }
      return { ok: true, value: await this.listContactTags(manager, contact.id) };
    });
  }

  /** The selected contacts (at most 500, checked by the route), in one transaction; `updated` counts contacts whose tags changed. */
  async bulkTagContacts(params: BulkTagContactsParams): Promise<TaggingResult<{ updated: number }>> {
    return this.deps.transactor.runRetrying(async (manager) => {
      // Locked first, in id order, as for one contact (setContactTags).
      const contacts = (await lockContactRows(manager, params.contactIds)).filter((c) => c.mergedIntoId === null);
      const tags = await this.loadTags(manager, params);
      if (!tags.ok) return tags;
      const updated = await this.applyToContacts(
        manager,
        contacts.map((c) => c.id),
        tags.value,
        { kind: 'operator', id: params.actor.operatorId },
        'bulk_selected',
      );
      await this.deps.audit.record({
        manager,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'contact.bulk_tags',
        targetType: 'contact',
        detail: {
          contactIds: contacts.map((c) => c.id),
          add: tags.value.add.map((t) => t.name),
          remove: tags.value.remove.map((t) => t.name),
          updated,
        },
      });
      return { ok: true, value: { updated } };
    });
  }

  /** Queues a job over everyone matching the filter; it commits with its audit row. */
  async enqueueBulkTagJob(params: EnqueueBulkTagJobParams): Promise<TaggingResult<{ jobId: number }>> {
    return this.deps.transactor.runRetrying(async (manager) => {
      const tags = await this.loadTags(manager, params);
      if (!tags.ok) return tags;
      const dedupeKey = `${BULK_TAG}:${randomUUID()}`;
      const state: BulkJobState = {
        filter: params.filter,
        add: params.add,
        remove: params.remove,
        operatorId: params.actor.operatorId,
        cursor: null,
        done: 0,
        total: null,
      };
      await this.deps.queue.enqueue({ manager, kind: BULK_TAG, dedupeKey, payload: toPayload(state) });
      const task = await manager.findOneByOrFail(Task, { dedupeKey });
      await this.deps.audit.record({
        manager,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'contact.bulk_tags_job',
        targetType: 'bulk_job',
        targetId: task.id,
        detail: {
          filter: JSON.stringify(params.filter),
          add: tags.value.add.map((t) => t.name),
          remove: tags.value.remove.map((t) => t.name),
        },
      });
      return { ok: true, value: { jobId: task.id } };
    });
  }

  async getBulkJob(id: number): Promise<BulkJobView | null> {
    const task = await this.deps.dataSource.manager.findOneBy(Task, { id, kind: BULK_TAG });
    if (!task) return null;
    const state = readState(task);
    const status =
      task.status === 'done'
        ? 'done'
        : task.status === 'failed'
          ? 'failed'
          : task.leaseHolder !== null || state.total !== null
            ? 'running'
            : 'pending';
    return { id: task.id, status, total: state.total, done: state.done, error: task.status === 'failed' ? task.lastError : null };
  }

  /** The queue handler: each job runs to its end under the task's lease (renewed while it runs). */
  handlers(): Record<string, (tasks: Task[]) => Promise<TaskResult[]>> {
    return {
      [BULK_TAG]: async (tasks) => {
        const results: TaskResult[] = [];
        for (const task of tasks) {
          try {
            while (await this.processBulkChunk(task.id));
            results.push({ id: task.id, ok: true });
          } catch (error) {
            this.deps.logger.error('bulk tag job chunk failed', { taskId: task.id, error });
            results.push({ id: task.id, ok: false, error: error instanceof Error ? error.message : String(error), retryable: true });
          }
        }
        return results;
      },
    };
  }

  /**
   * One chunk of a job: the next contacts after the cursor get the tags, and the cursor and count
   * move in the same transaction. A worker that dies mid-job leaves the last committed cursor; the
   * next holder of the lease goes on from there, so no chunk is counted (or applied) twice.
   * Returns false when the job has no contacts left.
   */
  async processBulkChunk(taskId: number): Promise<boolean> {
    const task = await this.deps.dataSource.manager.findOneByOrFail(Task, { id: taskId });
    let state = readState(task);
    if (state.total === null) {
      state = { ...state, total: await this.deps.contactsQuery.countContactsExactly({ ...state.filter, scope: { kind: 'all' } }) };
      await this.deps.dataSource.manager.update(Task, { id: taskId }, { payload: toPayload(state) });
    }
    const ids = await this.deps.contactsQuery.listContactIds({
      ...state.filter,
      scope: { kind: 'all' },
      limit: this.chunkSize,
      after: state.cursor ?? undefined,
    });
    if (ids.length === 0) return false;
    const current = state;
    await this.deps.transactor.runRetrying(async (manager) => {
      // Locked first, in id order; a contact merged since it was listed is left to its survivor.
      const live = (await lockContactRows(manager, ids)).filter((c) => c.mergedIntoId === null).map((c) => c.id);
      const tags = await this.loadTags(manager, current);
      // A tag deleted since the job was queued is skipped; the others still apply.
      const found = tags.ok ? tags.value : await this.loadExistingTags(manager, current);
      await this.applyToContacts(manager, live, found, { kind: 'operator', id: current.operatorId }, 'bulk_filter');
      const next: BulkJobState = { ...current, cursor: ids[ids.length - 1], done: current.done + ids.length };
      await manager.update(Task, { id: taskId }, { payload: toPayload(next) });
    });
    return ids.length === this.chunkSize;
  }

  private async applyToContacts(
    manager: EntityManager,
    contactIds: number[],
    tags: { add: Tag[]; remove: Tag[] },
    actor: TagChangeActor,
    cause: TagChangeCause,
  ): Promise<number> {
    let updated = 0;
    for (const contactId of contactIds) {
      const changed = await this.deps.contactTags.applyTags(manager, { contactId, add: tags.add, remove: tags.remove, actor, cause });
      if (changed.added.length + changed.removed.length > 0) updated += 1;
    }
    return updated;
  }

  private async loadTags(manager: EntityManager, input: TagChangeInput): Promise<TaggingResult<{ add: Tag[]; remove: Tag[] }>> {
    const found = await this.loadExistingTags(manager, input);
    const known = new Set([...found.add, ...found.remove].map((t) => t.id));
    const missing = [...new Set([...input.add, ...input.remove])].filter((id) => !known.has(id));
    return missing.length > 0 ? { ok: false, reason: 'unknown_tags', tagIds: missing } : { ok: true, value: found };
  }

  private async loadExistingTags(manager: EntityManager, input: TagChangeInput): Promise<{ add: Tag[]; remove: Tag[] }> {
    const ids = [...new Set([...input.add, ...input.remove])];
    const tags = ids.length === 0 ? [] : await manager.findBy(Tag, { id: In(ids) });
    const byId = new Map(tags.map((t) => [t.id, t]));
    const pick = (list: number[]) => list.flatMap((id) => byId.get(id) ?? []);
    return { add: pick(input.add), remove: pick(input.remove) };
  }

  private async listContactTags(manager: EntityManager, contactId: number): Promise<ContactTagView[]> {
    const rows = await manager
      .createQueryBuilder(ContactTag, 'ct')
      .innerJoin(Tag, 't', 't.id = ct.tagId')
      .innerJoin(TagGroup, 'g', 'g.id = t.groupId')
      .select('t.id', 'id')
      .addSelect('g.name', 'group')
      .addSelect('t.name', 'name')
      .where('ct.contactId = :contactId', { contactId })
      .orderBy('g.name', 'ASC')
      .addOrderBy('t.name', 'ASC')
      .getRawMany<{ id: number | string; group: string; name: string }>();
    return rows.map((row) => ({ id: Number(row.id), group: row.group, name: row.name }));
  }
}

function toPayload(state: BulkJobState): Task['payload'] {
  return {
    filter: JSON.stringify(state.filter),
    add: state.add,
    remove: state.remove,
    operatorId: state.operatorId,
    cursor: state.cursor,
    done: state.done,
    total: state.total,
  };
}

function readState(task: Task): BulkJobState {
  const p = task.payload;
  const numbers = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const filter: unknown = typeof p.filter === 'string' ? JSON.parse(p.filter) : {};
  return {
    filter: typeof filter === 'object' && filter !== null ? (filter satisfies object) : {},
    add: numbers(p.add),
    remove: numbers(p.remove),
    operatorId: num(p.operatorId),
    cursor: num(p.cursor),
    done: num(p.done) ?? 0,
    total: num(p.total),
  };
}
