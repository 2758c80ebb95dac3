import { readSyncFailure, syncFailureMessages, type TagSyncFailureCode } from './sync-failure';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { In, IsNull, Not } from 'typeorm';
import { Contact } from '../../../entities/contact.entity';
import { ContactFollow } from '../../../entities/contact-follow.entity';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import type { Task } from '../../../entities/task.entity';
import type { Logger } from '../../adapters/logger';
import { MAX_OPENIDS_PER_BATCH, type OfficialAccountClient } from '../../adapters/official-account.client';
import { PlatformApiError } from '../../adapters/platform-error';
import type { WecomClient } from '../../adapters/wecom.client';
import { placeholders } from '../../db/sql';
import { describeErrcode } from '../../wechat/errcode';
import type { TaskQueue, TaskResult } from '../tasks/task-queue.service';

export const OA_TAG_SYNC = 'oa_tag_sync';
export const WECOM_TAG_SYNC = 'wecom_tag_sync';
/** Renames and deletions of tags (and WeCom tag groups) made in Flywheel, mirrored to the platform. */
export const OA_TAG_CATALOG_SYNC = 'oa_tag_catalog_sync';
export const WECOM_TAG_CATALOG_SYNC = 'wecom_tag_catalog_sync';

/** The `tasks.subject` of a tag's sync tasks to one platform: its sync state is read by it. */
export function tagSyncSubject(platform: 'oa' | 'wecom', tagId: number): string {
  return `${platform}_tag:${tagId}`;
}

/**
 * A rename carries Flywheel's id and the handler reads the name when it runs, so a later rename
 * simply wins. A deletion carries the platform ids, because Flywheel's rows are gone by then.
 */
type CatalogChange =
  | { op: 'rename_tag'; tagId: number }
  | { op: 'rename_group'; groupId: number }
  | { op: 'delete'; oaTagIds: number[]; wecomTagIds: string[]; wecomGroupIds: string[] };

/** Errcodes that mean the platform's copy is already gone: the deletion is done. */
const ALREADY_GONE = new Set([45159, 40068]);

/** Official Account limits: 100 tags an account, 20 tags a user (50 openids a batch call: the client's MAX_OPENIDS_PER_BATCH). */
export const OA_MAX_TAGS_PER_ACCOUNT = 100;
export const OA_MAX_TAGS_PER_USER = 20;
/** "标签名长度超过30个字节" (45158). */
const OA_MAX_TAG_NAME_BYTES = 30;

/** One tag's mirror on one platform, as the admin page shows it. */
export interface PlatformSyncState {
  state: 'none' | 'pending' | 'done' | 'failed';
  /** For `failed`: the platform's errcode when it gave one, and what it means. */
  errcode?: number;
  meaning?: string;
  error?: string;
  /** For `failed`: why, as a code the page has a sentence for (errors.sync.<code>), and its numbers. */
  code?: TagSyncFailureCode;
  params?: Record<string, number>;
}

export interface TagSyncState {
  oa: PlatformSyncState;
  wecom: PlatformSyncState;
}

/** A limit reached: retrying cannot help, the operator has to act. */
export class TagSyncLimitError extends Error {}

export interface TagChange {
  tag: Tag;
  /** The contact_tags row that was added or removed: unique per change, so the task key is too. */
  contactTagId: number;
}

export interface TagSyncDeps {
  dataSource: DataSource;
  queue: TaskQueue;
  /** null: the platform is not configured; nothing is enqueued for it and no handler runs. */
  officialAccount: { client: OfficialAccountClient; appId: string } | null;
  wecom: { client: WecomClient; corpId: string } | null;
  logger: Logger;
}

/**
 * Mirrors Flywheel tags to Official Account tags and WeCom corp tags through the task queue,
 * never inside a callback: a platform outage delays a sync, it never fails a callback.
 */
export class TagSyncService {
  constructor(private readonly deps: TagSyncDeps) {}

  async enqueueContactTagChanges(
    manager: EntityManager,
    p: { contactId: number; added: TagChange[]; removed: TagChange[]; skip?: 'oa' | 'wecom' },
  ): Promise<void> {
    const changes = [...p.added.map((c) => ({ ...c, op: 'add' as const })), ...p.removed.map((c) => ({ ...c, op: 'remove' as const }))];
    const groups = await manager.findBy(TagGroup, { id: In([...new Set(changes.map((c) => c.tag.groupId))]) });
    const byId = new Map(groups.map((g) => [g.id, g]));
    for (const change of changes) {
      const group = byId.get(change.tag.groupId);
      const payload = { contactId: p.contactId, tagId: change.tag.id, op: change.op };
      if (group?.syncOa && p.skip !== 'oa' && this.deps.officialAccount) {
        await this.deps.queue.enqueue({
          manager,
          kind: OA_TAG_SYNC,
          dedupeKey: `oa_tag:${change.op}:${change.contactTagId}`,
          payload,
          subject: tagSyncSubject('oa', change.tag.id),
        });
      }
      if (group?.syncWecom && p.skip !== 'wecom' && this.deps.wecom) {
        await this.deps.queue.enqueue({
          manager,
          kind: WECOM_TAG_SYNC,
          dedupeKey: `wecom_tag:${change.op}:${change.contactTagId}`,
          payload,
          subject: tagSyncSubject('wecom', change.tag.id),
        });
      }
    }
  }

  /** An operator renamed a tag (or moved it to another group): the platform copies follow. */
  async enqueueTagRenamed(manager: EntityManager, tag: Tag): Promise<void> {
    const change: CatalogChange = { op: 'rename_tag', tagId: tag.id };
    if (tag.oaTagId !== null) await this.enqueueCatalog(manager, OA_TAG_CATALOG_SYNC, change, tagSyncSubject('oa', tag.id));
    if (tag.wecomTagId !== null) await this.enqueueCatalog(manager, WECOM_TAG_CATALOG_SYNC, change, tagSyncSubject('wecom', tag.id));
  }

  /** Official Account tags have no groups; a WeCom tag group is renamed there too. */
  async enqueueGroupRenamed(manager: EntityManager, group: TagGroup): Promise<void> {
    if (group.wecomGroupId !== null) await this.enqueueCatalog(manager, WECOM_TAG_CATALOG_SYNC, { op: 'rename_group', groupId: group.id });
  }

  /**
   * Tags deleted in Flywheel (a whole group when `group` is given) are deleted on the platforms;
   * `skip` leaves out the platform the deletion came from.
   */
  async enqueueTagsDeleted(manager: EntityManager, tags: Tag[], group?: TagGroup, skip?: 'wecom'): Promise<void> {
    const oaTagIds = tags.flatMap((t) => (t.oaTagId === null ? [] : [t.oaTagId]));
    const wecomGroupIds = group?.wecomGroupId ? [group.wecomGroupId] : [];
    const wecomTagIds = wecomGroupIds.length > 0 ? [] : tags.flatMap((t) => (t.wecomTagId === null ? [] : [t.wecomTagId]));
    if (oaTagIds.length > 0)
      await this.enqueueCatalog(manager, OA_TAG_CATALOG_SYNC, { op: 'delete', oaTagIds, wecomTagIds: [], wecomGroupIds: [] });
    if (skip !== 'wecom' && wecomTagIds.length + wecomGroupIds.length > 0)
      await this.enqueueCatalog(manager, WECOM_TAG_CATALOG_SYNC, { op: 'delete', oaTagIds: [], wecomTagIds, wecomGroupIds });
  }

  private async enqueueCatalog(manager: EntityManager, kind: string, change: CatalogChange, subject?: string): Promise<void> {
    if (!(kind === OA_TAG_CATALOG_SYNC ? this.deps.officialAccount : this.deps.wecom)) return;
    // Every change is its own task: renaming A→B→A→B must reach the platform each time.
    await this.deps.queue.enqueue({ manager, kind, dedupeKey: `${kind}:${randomUUID()}`, payload: change, subject });
  }

  /**
   * Each tag's sync state per platform: `failed` when one of its sync tasks failed for good (until
   * re-driven), else `pending` while one waits, else `done` once the platform has the tag, else
   * `none` (the platform is off, the group is not mirrored there, or nothing needed it yet).
   * One grouped query over the (subject, status, id) index.
   */
  async describeSyncStates(tags: Tag[], groups: ReadonlyMap<number, TagGroup>): Promise<Map<number, TagSyncState>> {
    const subjects = tags.flatMap((tag) => [tagSyncSubject('oa', tag.id), tagSyncSubject('wecom', tag.id)]);
    const open = new Map<string, { pending: boolean; failedId: number | null }>();
    const errors = new Map<number, string | null>();
    if (subjects.length > 0) {
      const rows = await this.deps.dataSource.query<{ subject: string; status: string; id: number | string }[]>(
        `SELECT subject, status, MAX(id) AS id FROM tasks WHERE subject IN (${placeholders(subjects.length)}) AND status IN ('pending', 'failed') GROUP BY subject, status`,
        subjects,
      );
      for (const row of rows) {
        const entry = open.get(row.subject) ?? { pending: false, failedId: null };
        if (row.status === 'pending') entry.pending = true;
        else entry.failedId = Number(row.id);
        open.set(row.subject, entry);
      }
      const failedIds = [...open.values()].flatMap((entry) => (entry.failedId === null ? [] : [entry.failedId]));
      if (failedIds.length > 0) {
        const failed = await this.deps.dataSource.query<{ id: number | string; last_error: string | null }[]>(
          `SELECT id, last_error FROM tasks WHERE id IN (${placeholders(failedIds.length)})`,
          failedIds,
        );
        for (const row of failed) errors.set(Number(row.id), row.last_error);
      }
    }
    const describe = (subject: string, mirrored: boolean, enabled: boolean): PlatformSyncState => {
      const entry = open.get(subject);
      if (entry?.failedId !== undefined && entry.failedId !== null) {
        const error = errors.get(entry.failedId) ?? 'failed';
        const errcode = readErrcode(error);
        const reason = readSyncFailure(error, errcode);
        return errcode === null
          ? { state: 'failed', error, ...reason }
          : { state: 'failed', errcode, meaning: describeErrcode(errcode), error, ...reason };
      }
      if (entry?.pending) return { state: 'pending' };
      return enabled && mirrored ? { state: 'done' } : { state: 'none' };
    };
    const states = new Map<number, TagSyncState>();
    for (const tag of tags) {
      const group = groups.get(tag.groupId);
      states.set(tag.id, {
        oa: describe(tagSyncSubject('oa', tag.id), tag.oaTagId !== null, this.deps.officialAccount !== null && group?.syncOa === true),
        wecom: describe(tagSyncSubject('wecom', tag.id), tag.wecomTagId !== null, this.deps.wecom !== null && group?.syncWecom === true),
      });
    }
    return states;
  }

  /** Task handlers for the queue worker: only for configured platforms (other tasks wait). */
  handlers(): Record<string, (tasks: Task[]) => Promise<TaskResult[]>> {
    return {
      ...(this.deps.officialAccount && {
        [OA_TAG_SYNC]: (tasks: Task[]) => this.syncOfficialAccountTags(tasks),
        [OA_TAG_CATALOG_SYNC]: (tasks: Task[]) => this.eachTask(tasks, (change) => this.syncOfficialAccountCatalog(change)),
      }),
      ...(this.deps.wecom && {
        [WECOM_TAG_SYNC]: (tasks: Task[]) => this.syncWecomTags(tasks),
        [WECOM_TAG_CATALOG_SYNC]: (tasks: Task[]) => this.eachTask(tasks, (change) => this.syncWecomCatalog(change)),
      }),
    };
  }

  /** The handlers above run only for configured platforms, so these never throw in practice. */
  private oa(): { client: OfficialAccountClient; appId: string } {
    if (!this.deps.officialAccount) throw new Error('the Official Account is not configured');
    return this.deps.officialAccount;
  }

  private wc(): { client: WecomClient; corpId: string } {
    if (!this.deps.wecom) throw new Error('WeCom is not configured');
    return this.deps.wecom;
  }

  private async eachTask(tasks: Task[], run: (change: CatalogChange) => Promise<void>): Promise<TaskResult[]> {
    const results: TaskResult[] = [];
    for (const task of tasks) {
      try {
        await run(readCatalogChange(task));
        results.push({ id: task.id, ok: true });
      } catch (error) {
        results.push(failure(task, error));
      }
    }
    return results;
  }

  private async syncOfficialAccountCatalog(change: CatalogChange): Promise<void> {
    if (change.op === 'rename_tag') {
      const tag = await this.deps.dataSource.manager.findOneBy(Tag, { id: change.tagId });
      if (!tag || tag.oaTagId === null) return;
      assertOfficialAccountTagName(tag.name);
      await this.oa().client.renameTag(tag.oaTagId, tag.name);
    } else if (change.op === 'delete') {
      for (const id of change.oaTagIds) await ignoreGone(() => this.oa().client.deleteTag(id));
    }
  }

  private async syncWecomCatalog(change: CatalogChange): Promise<void> {
    const m = this.deps.dataSource.manager;
    if (change.op === 'rename_tag') {
      const tag = await m.findOneBy(Tag, { id: change.tagId });
      if (tag?.wecomTagId) await this.wc().client.editCorpTag({ id: tag.wecomTagId, name: tag.name });
    } else if (change.op === 'rename_group') {
      const group = await m.findOneBy(TagGroup, { id: change.groupId });
      if (group?.wecomGroupId) await this.wc().client.editCorpTag({ id: group.wecomGroupId, name: group.name });
    } else {
      await ignoreGone(() => this.wc().client.deleteCorpTags({ tagIds: change.wecomTagIds, groupIds: change.wecomGroupIds }));
    }
  }

  /** Batches the tasks per (tag, add/remove) into calls of at most 50 openids. */
  async syncOfficialAccountTags(tasks: Task[]): Promise<TaskResult[]> {
    const m = this.deps.dataSource.manager;
    const results: TaskResult[] = [];
    const parsed = await this.dropUndone(
      tasks.map((task) => ({ task, ...readPayload(task) })),
      results,
    );
    if (parsed.length === 0) return results;
    const openids = await m.findBy(ContactIdentity, {
      kind: 'oa_openid',
      appId: this.oa().appId,
      contactId: In([...new Set(parsed.map((t) => t.contactId))]),
    });
    const openidOf = new Map(openids.map((i) => [i.contactId, i.value]));

    const batches = new Map<string, { tagId: number; op: 'add' | 'remove'; items: { task: Task; contactId: number; openid: string }[] }>();
    for (const t of parsed) {
      const openid = openidOf.get(t.contactId);
      // A contact who never followed the account has nothing to mirror there.
      if (!openid) {
        results.push({ id: t.task.id, ok: true });
        continue;
      }
      const key = `${t.op}:${t.tagId}`;
      const batch = batches.get(key) ?? { tagId: t.tagId, op: t.op, items: [] };
      batch.items.push({ task: t.task, contactId: t.contactId, openid });
      batches.set(key, batch);
    }

    for (const batch of batches.values()) {
      let oaTagId: number;
      try {
        oaTagId = await this.ensureOfficialAccountTag(batch.tagId);
      } catch (error) {
        results.push(...batch.items.map((i) => failure(i.task, error)));
        continue;
      }
      let items = batch.items;
      if (batch.op === 'add') {
        const overLimit = await this.contactsOverOaTagLimit(
          items.map((i) => i.contactId),
          batch.tagId,
        );
        for (const i of items.filter((x) => overLimit.has(x.contactId))) {
          results.push(failure(i.task, new TagSyncLimitError(syncFailureMessages.oaTagsPerFollower(OA_MAX_TAGS_PER_USER))));
        }
        items = items.filter((x) => !overLimit.has(x.contactId));
      }
      for (let start = 0; start < items.length; start += MAX_OPENIDS_PER_BATCH) {
        const chunk = items.slice(start, start + MAX_OPENIDS_PER_BATCH);
        results.push(...(await this.sendOaBatch(batch.op, oaTagId, chunk)));
      }
    }
    return results;
  }

  private async sendOaBatch(op: 'add' | 'remove', oaTagId: number, chunk: { task: Task; openid: string }[]): Promise<TaskResult[]> {
    const call = (openids: string[]) =>
      op === 'add' ? this.oa().client.batchTag(oaTagId, openids) : this.oa().client.batchUntag(oaTagId, openids);
    try {
      await call(chunk.map((c) => c.openid));
      return chunk.map((c) => ({ id: c.task.id, ok: true }));
    } catch (error) {
      // One bad follower (unfollowed, over the limit) fails the whole batch call: retry them one
      // by one so the others still get their tag.
      if (chunk.length === 1 || !(error instanceof PlatformApiError) || error.retryable) return chunk.map((c) => failure(c.task, error));
      const results: TaskResult[] = [];
      for (const c of chunk) {
        try {
          await call([c.openid]);
          results.push({ id: c.task.id, ok: true });
        } catch (single) {
          results.push(failure(c.task, single));
        }
      }
      return results;
    }
  }

  /**
   * Tasks do not run in the order they were enqueued: one waits out a backoff while a later one
   * goes through. Sending a change the contact has since undone would leave the platform wrong
   * for good (an add landing after its remove re-tags the follower), so such a task is done
   * without a call: an add of a tag the contact no longer holds, a remove of a tag they hold
   * again. The task of the later change brings the platform in line.
   */
  private async dropUndone<T extends { task: Task; contactId: number; tagId: number; op: 'add' | 'remove' }>(
    parsed: T[],
    results: TaskResult[],
  ): Promise<T[]> {
    if (parsed.length === 0) return parsed;
    const held = await this.deps.dataSource.manager.find(ContactTag, {
      select: { contactId: true, tagId: true },
      where: { contactId: In([...new Set(parsed.map((t) => t.contactId))]), tagId: In([...new Set(parsed.map((t) => t.tagId))]) },
    });
    const holds = new Set(held.map((h) => `${h.contactId}:${h.tagId}`));
    const current: T[] = [];
    for (const t of parsed) {
      if (holds.has(`${t.contactId}:${t.tagId}`) === (t.op === 'add')) current.push(t);
      else results.push({ id: t.task.id, ok: true });
    }
    return current;
  }

  /** The Official Account tag id, creating the tag there on first use. */
  private async ensureOfficialAccountTag(tagId: number): Promise<number> {
    const m = this.deps.dataSource.manager;
    const tag = await m.findOneByOrFail(Tag, { id: tagId });
    if (tag.oaTagId !== null) return tag.oaTagId;
    assertOfficialAccountTagName(tag.name);
    const mirrored = await m.countBy(Tag, { oaTagId: Not(IsNull()) });
    if (mirrored >= OA_MAX_TAGS_PER_ACCOUNT) {
      throw new TagSyncLimitError(syncFailureMessages.oaTagsPerAccount(OA_MAX_TAGS_PER_ACCOUNT));
    }
    let oaTagId: number;
    try {
      oaTagId = (await this.oa().client.createTag(tag.name)).id;
    } catch (error) {
      // 45157: the name exists there already (made by hand, or by another instance just now).
      if (!(error instanceof PlatformApiError) || error.errcode !== 45157) throw error;
      const found = (await this.oa().client.listTags()).find((t) => t.name === tag.name);
      if (!found) throw error;
      oaTagId = found.id;
    }
    await m.update(Tag, { id: tagId }, { oaTagId });
    return oaTagId;
  }

  private async contactsOverOaTagLimit(contactIds: number[], exceptTagId: number): Promise<Set<number>> {
    const rows: { contact_id: number | string; n: number | string }[] = await this.deps.dataSource.query(
      `SELECT ct.contact_id, COUNT(*) AS n FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
        WHERE t.oa_tag_id IS NOT NULL AND ct.tag_id <> ? AND ct.contact_id IN (${placeholders(contactIds.length)})
        GROUP BY ct.contact_id`,
      [exceptTagId, ...contactIds],
    );
    return new Set(rows.filter((r) => Number(r.n) >= OA_MAX_TAGS_PER_USER).map((r) => Number(r.contact_id)));
  }

  /** One mark_tag call per (rep, customer) with all of their adds and removes. */
  async syncWecomTags(tasks: Task[]): Promise<TaskResult[]> {
    const m = this.deps.dataSource.manager;
    const results: TaskResult[] = [];
    const parsed = await this.dropUndone(
      tasks.map((task) => ({ task, ...readPayload(task) })),
      results,
    );
    if (parsed.length === 0) return results;
    const contactIds = [...new Set(parsed.map((t) => t.contactId))];
    const [externals, contacts, follows] = await Promise.all([
      m.findBy(ContactIdentity, { kind: 'external_userid', appId: this.wc().corpId, contactId: In(contactIds) }),
      m.findBy(Contact, { id: In(contactIds) }),
      m.find(ContactFollow, { where: { contactId: In(contactIds), status: 'active' }, order: { id: 'ASC' } }),
    ]);
    const externalOf = new Map(externals.map((i) => [i.contactId, i.value]));
    // mark_tag acts as a rep who follows the customer: the owner while they still do, else the
    // longest-standing relation.
    const ownerOf = new Map<number, string>();
    const owners = new Map(contacts.map((c) => [c.id, c.ownerUserId]));
    for (const f of follows) if (!ownerOf.has(f.contactId) || f.userId === owners.get(f.contactId)) ownerOf.set(f.contactId, f.userId);

    const perContact = new Map<number, typeof parsed>();
    for (const t of parsed) {
      if (!externalOf.has(t.contactId)) {
        results.push({ id: t.task.id, ok: true });
        continue;
      }
      perContact.set(t.contactId, [...(perContact.get(t.contactId) ?? []), t]);
    }
    for (const [contactId, items] of perContact) {
      const userId = ownerOf.get(contactId);
      if (!userId) {
        results.push(...items.map((i) => failure(i.task, new TagSyncLimitError(syncFailureMessages.noFollowUser()))));
        continue;
      }
      try {
        const add: string[] = [];
        const remove: string[] = [];
        for (const i of items) (i.op === 'add' ? add : remove).push(await this.ensureWecomTag(i.tagId));
        await this.wc().client.markTag({ userId, externalUserId: externalOf.get(contactId) ?? '', addTagIds: add, removeTagIds: remove });
        results.push(...items.map((i) => ({ id: i.task.id, ok: true as const })));
      } catch (error) {
        results.push(...items.map((i) => failure(i.task, error)));
      }
    }
    return results;
  }

  /** The WeCom corp tag id, creating the tag (and its group) there on first use. */
  private async ensureWecomTag(tagId: number): Promise<string> {
    const m = this.deps.dataSource.manager;
    const tag = await m.findOneByOrFail(Tag, { id: tagId });
    if (tag.wecomTagId) return tag.wecomTagId;
    const group = await m.findOneByOrFail(TagGroup, { id: tag.groupId });
    let created: { groupId: string; tags: { id: string; name: string }[] };
    try {
      created = await this.wc().client.addCorpTag({
        groupName: group.name,
        groupId: group.wecomGroupId ?? undefined,
        tagNames: [tag.name],
      });
    } catch (error) {
      // 40071: the tag exists in WeCom already; find its id.
      if (!(error instanceof PlatformApiError) || error.errcode !== 40071) throw error;
      const list = await this.wc().client.getCorpTagList();
      const g = list.find((x) => x.groupName === group.name);
      const t = g?.tags.find((x) => x.name === tag.name && !x.deleted);
      if (!g || !t) throw error;
      created = { groupId: g.groupId, tags: [t] };
    }
    const wecomTagId = created.tags.find((t) => t.name === tag.name)?.id ?? created.tags[0]?.id;
    if (!wecomTagId) throw new Error(`WeCom did not return an id for tag ${tag.name}`);
    await m.update(TagGroup, { id: group.id }, { wecomGroupId: created.groupId });
    await m.update(Tag, { id: tag.id }, { wecomTagId });
    return wecomTagId;
  }
}

/** The errcode a PlatformApiError's message names ("... failed with errcode 45059 (...)"), or null. */
export function readErrcode(error: string): number | null {
  const match = /\berrcode (-?\d{1,9})\b/.exec(error);
  return match ? Number(match[1]) : null;
}

function readPayload(task: Task): { contactId: number; tagId: number; op: 'add' | 'remove' } {
  const { contactId, tagId, op } = task.payload;
  if (typeof contactId !== 'number' || typeof tagId !== 'number' || (op !== 'add' && op !== 'remove')) {
    throw new Error(`task ${task.id} has a malformed payload`);
  }
  return { contactId, tagId, op };
}

/** A name the Official Account would refuse (45158) fails the task for good, saying why. */
function assertOfficialAccountTagName(name: string): void {
  const bytes = Buffer.byteLength(name);
  if (bytes > OA_MAX_TAG_NAME_BYTES) throw new TagSyncLimitError(syncFailureMessages.tagNameOaBytes(name, bytes, OA_MAX_TAG_NAME_BYTES));
}

function readCatalogChange(task: Task): CatalogChange {
  const p = task.payload;
  const ids = (v: unknown): v is unknown[] => Array.isArray(v);
  if (p.op === 'rename_tag' && typeof p.tagId === 'number') return { op: 'rename_tag', tagId: p.tagId };
  if (p.op === 'rename_group' && typeof p.groupId === 'number') return { op: 'rename_group', groupId: p.groupId };
  if (p.op === 'delete' && ids(p.oaTagIds) && ids(p.wecomTagIds) && ids(p.wecomGroupIds)) {
    return {
      op: 'delete',
      oaTagIds: p.oaTagIds.filter((v): v is number => typeof v === 'number'),
      wecomTagIds: p.wecomTagIds.filter((v): v is string => typeof v === 'string'),
      wecomGroupIds: p.wecomGroupIds.filter((v): v is string => typeof v === 'string'),
    };
  }
  throw new Error(`task ${task.id} has a malformed payload`);
}

/** Runs a platform deletion; "already gone" is the outcome wanted, so it is not an error. */
async function ignoreGone(call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof PlatformApiError) || !ALREADY_GONE.has(error.errcode)) throw error;
  }
}

function failure(task: Task, error: unknown): TaskResult {
  const retryable = !(error instanceof TagSyncLimitError) && (!(error instanceof PlatformApiError) || error.retryable);
  return { id: task.id, ok: false, error: error instanceof Error ? error.message : String(error), retryable };
}
