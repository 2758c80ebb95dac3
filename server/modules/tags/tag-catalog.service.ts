import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import type { AuditDetail } from '../../../entities/audit-log.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { TagRule, type TagRef } from '../../../entities/tag-rule.entity';
import type { Clock } from '../../adapters/clock';
import { Transactor } from '../../db/transaction';
import { describeChanges, describeRecord, type AuditActor, type AuditService } from '../audit/audit.service';
import { deleteTags } from './contact-tags.service';
import type { TagSyncService, TagSyncState } from '../tag-sync/tag-sync.service';
import { tagNameProblemsOf, type TagNameProblem } from '../../../web/shared/field-rules';

export interface TagGroupView {
  id: number;
  name: string;
  syncOa: boolean;
  syncWecom: boolean;
  wecomGroupId: string | null;
  tagCount: number;
  createdAt: string;
}

export interface TagView {
  id: number;
  groupId: number;
  group: string;
  name: string;
  contactCount: number;
  oaTagId: number | null;
  wecomTagId: string | null;
  createdAt: string;
  /** Whether the tag reached the Official Account and WeCom (listTags only). */
  sync?: TagSyncState;
}

export type TagCatalogFailureReason = 'not_found' | 'group_not_found' | 'duplicate_name' | 'group_not_empty';
export type TagCatalogResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: TagCatalogFailureReason }
  /** A platform the name syncs to would refuse it (web/shared/field-rules.ts, which the page checks too). */
  | { ok: false; reason: 'name_too_long'; problems: TagNameProblem[] };

export interface CreateTagGroupParams {
  name: string;
  syncOa?: boolean;
  syncWecom?: boolean;
  actor: AuditActor;
}

export interface UpdateTagGroupParams {
  id: number;
  name?: string;
  syncOa?: boolean;
  syncWecom?: boolean;
  actor: AuditActor;
}

export interface DeleteTagGroupParams {
  id: number;
  /** Also delete the group's tags (and their contact tags); without it a non-empty group is refused. */
  force: boolean;
  actor: AuditActor;
}

export interface CreateTagParams {
  groupId: number;
  name: string;
  actor: AuditActor;
}

export interface UpdateTagParams {
  id: number;
  name?: string;
  groupId?: number;
  actor: AuditActor;
}

export interface DeleteTagParams {
  id: number;
  actor: AuditActor;
}

export interface TagCatalogServiceDeps {
  dataSource: DataSource;
  clock: Clock;
  audit: AuditService;
  /** Renames and deletions are mirrored to the Official Account and WeCom through its queue. */
  tagSync: Pick<TagSyncService, 'enqueueTagRenamed' | 'enqueueGroupRenamed' | 'enqueueTagsDeleted' | 'describeSyncStates'>;
  /** Rules name tags by group and name; after a rename they are rewritten, and cached rules dropped. */
  onRulesChanged: () => void;
  /** The application's shared Transactor (SQLite needs one queue per connection). */
  transactor?: Transactor;
}

/**
 * The tag catalog operators edit: groups and tags. Each change and its audit row commit in one
 * transaction. Tag names are unique within a group, group names overall (database unique keys).
 */
export class TagCatalogService {
  private readonly transactor: Transactor;

  constructor(private readonly deps: TagCatalogServiceDeps) {
    this.transactor = deps.transactor ?? new Transactor(deps.dataSource);
  }

  async listTagGroups(): Promise<TagGroupView[]> {
    const manager = this.deps.dataSource.manager;
    const groups = await manager.find(TagGroup, { order: { name: 'ASC', id: 'ASC' } });
    const counts = await manager
      .createQueryBuilder(Tag, 't')
      .select('t.groupId', 'groupId')
      .addSelect('COUNT(*)', 'n')
      .groupBy('t.groupId')
      .getRawMany<{ groupId: number | string; n: number | string }>();
    const byGroup = new Map(counts.map((row) => [Number(row.groupId), Number(row.n)]));
    return groups.map((group) => toGroupView(group, byGroup.get(group.id) ?? 0));
  }

  async createTagGroup(params: CreateTagGroupParams): Promise<TagCatalogResult<TagGroupView>> {
    // A group's name reaches WeCom only (the Official Account has no tag groups).
    const problems = tagNameProblemsOf(params.name, { oa: false, wecom: params.syncWecom ?? true });
    if (problems.length > 0) return { ok: false, reason: 'name_too_long', problems };
    return this.runCatchingDuplicates(async (manager) => {
      if (await manager.existsBy(TagGroup, { name: params.name })) return { ok: false, reason: 'duplicate_name' };
      await manager.insert(TagGroup, {
        name: params.name,
        syncOa: params.syncOa ?? true,
        syncWecom: params.syncWecom ?? true,
        wecomGroupId: null,
        createdAt: this.deps.clock.now(),
      });
      const group = await manager.findOneByOrFail(TagGroup, { name: params.name });
      await this.audit(
        manager,
        params.actor,
        'tag_group.create',
        group.id,
        describeRecord({ name: group.name, syncOa: group.syncOa, syncWecom: group.syncWecom }),
      );
      return { ok: true, value: toGroupView(group, 0) };
    });
  }

  async updateTagGroup(params: UpdateTagGroupParams): Promise<TagCatalogResult<TagGroupView>> {
    let rulesUpdated = 0;
    const result = await this.runCatchingDuplicates(async (manager) => {
      const current = await manager.findOneBy(TagGroup, { id: params.id });
      if (!current) return { ok: false, reason: 'not_found' };
      if (params.name !== undefined && params.name !== current.name && (await manager.existsBy(TagGroup, { name: params.name })))
        return { ok: false, reason: 'duplicate_name' };
      // Checked when the name changes: a long name that came from WeCom itself is not refused on an unrelated edit.
      if (params.name !== undefined && params.name !== current.name) {
        const problems = tagNameProblemsOf(params.name, { oa: false, wecom: params.syncWecom ?? current.syncWecom });
        if (problems.length > 0) return { ok: false, reason: 'name_too_long', problems };
      }
      const patch: Partial<TagGroup> = {};
      if (params.name !== undefined) patch.name = params.name;
      if (params.syncOa !== undefined) patch.syncOa = params.syncOa;
      if (params.syncWecom !== undefined) patch.syncWecom = params.syncWecom;
      if (Object.keys(patch).length > 0) await manager.update(TagGroup, { id: current.id }, patch);
      const updated = await manager.findOneByOrFail(TagGroup, { id: current.id });
      if (updated.name !== current.name) {
        rulesUpdated = await this.renameInRules(manager, (ref) => (ref.group === current.name ? { ...ref, group: updated.name } : ref));
        await this.deps.tagSync.enqueueGroupRenamed(manager, updated);
      }
      const fields = (g: TagGroup) => ({ name: g.name, syncOa: g.syncOa, syncWecom: g.syncWecom });
      await this.audit(manager, params.actor, 'tag_group.update', current.id, {
        ...describeChanges(fields(current), fields(updated)),
        ...(rulesUpdated > 0 ? { rulesUpdated } : {}),
      });
      return { ok: true, value: toGroupView(updated, await manager.countBy(Tag, { groupId: current.id })) };
    });
    if (rulesUpdated > 0) this.deps.onRulesChanged();
    return result;
  }

  async deleteTagGroup(params: DeleteTagGroupParams): Promise<TagCatalogResult<{ deletedTags: number; removedContactTags: number }>> {
    return this.transactor.runRetrying(async (manager) => {
      const group = await manager.findOneBy(TagGroup, { id: params.id });
      if (!group) return { ok: false, reason: 'not_found' };
      const tags = await manager.find(Tag, { where: { groupId: group.id }, order: { id: 'ASC' } });
      if (tags.length > 0 && !params.force) return { ok: false, reason: 'group_not_empty' };
      const tagIds = tags.map((tag) => tag.id);
      const removedContactTags = await deleteTags(manager, tagIds);
      await manager.delete(TagGroup, { id: group.id });
      await this.deps.tagSync.enqueueTagsDeleted(manager, tags, group);
      await this.audit(manager, params.actor, 'tag_group.delete', group.id, {
        name: group.name,
        deletedTags: tags.map((tag) => tag.name),
        removedContactTags,
      });
      return { ok: true, value: { deletedTags: tags.length, removedContactTags } };
    });
  }

  /** Every tag with its group name and how many contacts carry it. */
  async listTags(params: { groupId?: number } = {}): Promise<TagView[]> {
    const manager = this.deps.dataSource.manager;
    const tags = await manager.find(Tag, {
      where: params.groupId === undefined ? {} : { groupId: params.groupId },
      order: { groupId: 'ASC', name: 'ASC', id: 'ASC' },
    });
    if (tags.length === 0) return [];
    const groups = await manager.findBy(TagGroup, { id: In([...new Set(tags.map((tag) => tag.groupId))]) });
    const counts = await manager
      .createQueryBuilder(ContactTag, 'ct')
      .select('ct.tagId', 'tagId')
      .addSelect('COUNT(*)', 'n')
      .where('ct.tagId IN (:...ids)', { ids: tags.map((tag) => tag.id) })
      .groupBy('ct.tagId')
      .getRawMany<{ tagId: number | string; n: number | string }>();
    const groupNames = new Map(groups.map((group) => [group.id, group.name]));
    const byTag = new Map(counts.map((row) => [Number(row.tagId), Number(row.n)]));
    const sync = await this.deps.tagSync.describeSyncStates(tags, new Map(groups.map((group) => [group.id, group])));
    return tags.map((tag) => ({ ...toTagView(tag, groupNames.get(tag.groupId) ?? '', byTag.get(tag.id) ?? 0), sync: sync.get(tag.id) }));
  }

  async createTag(params: CreateTagParams): Promise<TagCatalogResult<TagView>> {
    return this.runCatchingDuplicates(async (manager) => {
      const group = await manager.findOneBy(TagGroup, { id: params.groupId });
      if (!group) return { ok: false, reason: 'group_not_found' };
      const problems = tagNameProblemsOf(params.name, { oa: group.syncOa, wecom: group.syncWecom });
      if (problems.length > 0) return { ok: false, reason: 'name_too_long', problems };
      if (await manager.existsBy(Tag, { groupId: group.id, name: params.name })) return { ok: false, reason: 'duplicate_name' };
      await manager.insert(Tag, {
        groupId: group.id,
        name: params.name,
        oaTagId: null,
        wecomTagId: null,
        createdAt: this.deps.clock.now(),
      });
      const tag = await manager.findOneByOrFail(Tag, { groupId: group.id, name: params.name });
      await this.audit(manager, params.actor, 'tag.create', tag.id, { group: group.name, name: tag.name });
      return { ok: true, value: toTagView(tag, group.name, 0) };
    });
  }

  /**
   * Renames a tag or moves it to another group. Rules that name the tag follow it, and a new name
   * is mirrored to the platforms (a WeCom corp tag cannot change groups, so its copy stays in the
   * old group there).
   */
  async updateTag(params: UpdateTagParams): Promise<TagCatalogResult<TagView>> {
    let rulesUpdated = 0;
    const result = await this.runCatchingDuplicates(async (manager) => {
      const current = await manager.findOneBy(Tag, { id: params.id });
      if (!current) return { ok: false, reason: 'not_found' };
      const groupId = params.groupId ?? current.groupId;
      const name = params.name ?? current.name;
      const group = await manager.findOneBy(TagGroup, { id: groupId });
      if (!group) return { ok: false, reason: 'group_not_found' };
      if (name !== current.name || groupId !== current.groupId) {
        const problems = tagNameProblemsOf(name, { oa: group.syncOa, wecom: group.syncWecom });
        if (problems.length > 0) return { ok: false, reason: 'name_too_long', problems };
      }
      const clash = await manager.findOneBy(Tag, { groupId, name });
      if (clash && clash.id !== current.id) return { ok: false, reason: 'duplicate_name' };
      await manager.update(Tag, { id: current.id }, { groupId, name });
      const updated = await manager.findOneByOrFail(Tag, { id: current.id });
      if (name !== current.name || groupId !== current.groupId) {
        const oldGroup = groupId === current.groupId ? group : await manager.findOneByOrFail(TagGroup, { id: current.groupId });
        rulesUpdated = await this.renameInRules(manager, (ref) =>
          ref.group === oldGroup.name && ref.name === current.name ? { group: group.name, name } : ref,
        );
      }
      if (name !== current.name) await this.deps.tagSync.enqueueTagRenamed(manager, updated);
      const changes = describeChanges({ groupId: current.groupId, name: current.name }, { groupId: updated.groupId, name: updated.name });
      await this.audit(manager, params.actor, 'tag.update', current.id, { ...changes, ...(rulesUpdated > 0 ? { rulesUpdated } : {}) });
      return { ok: true, value: toTagView(updated, group.name, await manager.countBy(ContactTag, { tagId: current.id })) };
    });
    if (rulesUpdated > 0) this.deps.onRulesChanged();
    return result;
  }

  /** Deletes the tag and takes it off every contact, in one transaction. */
  async deleteTag(params: DeleteTagParams): Promise<TagCatalogResult<{ removedContactTags: number }>> {
    return this.transactor.runRetrying(async (manager) => {
      const tag = await manager.findOneBy(Tag, { id: params.id });
      if (!tag) return { ok: false, reason: 'not_found' };
      const group = await manager.findOneBy(TagGroup, { id: tag.groupId });
      const removedContactTags = await deleteTags(manager, [tag.id]);
      await this.deps.tagSync.enqueueTagsDeleted(manager, [tag]);
      await this.audit(manager, params.actor, 'tag.delete', tag.id, { group: group?.name ?? null, name: tag.name, removedContactTags });
      return { ok: true, value: { removedContactTags } };
    });
  }

  /**
   * Rewrites the tag references of every rule with `rename`; returns how many rules changed.
   * Rule templates such as `{scene}` are left alone: they name no one tag. The caller drops the
   * rule cache once the transaction has committed, so no reader caches the old rules again.
   */
  private async renameInRules(manager: EntityManager, rename: (ref: TagRef) => TagRef): Promise<number> {
    let changed = 0;
    for (const rule of await manager.find(TagRule)) {
      const addTags = rule.addTags.map(rename);
      const removeTags = rule.removeTags.map(rename);
      // `rename` hands back the same object for a reference it leaves alone.
      if (addTags.every((ref, i) => ref === rule.addTags[i]) && removeTags.every((ref, i) => ref === rule.removeTags[i])) continue;
      await manager.update(TagRule, { id: rule.id }, { addTags, removeTags, updatedAt: this.deps.clock.now() });
      changed += 1;
    }
    return changed;
  }

  /**
   * A parallel writer can pass the existence check and lose on the unique key, or deadlock with
   * another one waiting for the same key: the unit runs again, and its check answers 409 as for
   * any duplicate.
   */
  private runCatchingDuplicates<T>(work: (manager: EntityManager) => Promise<TagCatalogResult<T>>): Promise<TagCatalogResult<T>> {
    return this.transactor.runRetrying(work, { onDuplicate: () => ({ ok: false, reason: 'duplicate_name' }) });
  }

  private async audit(manager: EntityManager, actor: AuditActor, action: string, targetId: number, detail: AuditDetail): Promise<void> {
    const targetType = action.split('.')[0];
    await this.deps.audit.record({ manager, operatorId: actor.operatorId, ip: actor.ip, action, targetType, targetId, detail });
  }
}

function toGroupView(group: TagGroup, tagCount: number): TagGroupView {
  return {
    id: group.id,
    name: group.name,
    syncOa: group.syncOa,
    syncWecom: group.syncWecom,
    wecomGroupId: group.wecomGroupId,
    tagCount,
    createdAt: group.createdAt.toISOString(),
  };
}

function toTagView(tag: Tag, group: string, contactCount: number): TagView {
  return {
    id: tag.id,
    groupId: tag.groupId,
    group,
    name: tag.name,
    contactCount,
    oaTagId: tag.oaTagId,
    wecomTagId: tag.wecomTagId,
    createdAt: tag.createdAt.toISOString(),
  };
}
