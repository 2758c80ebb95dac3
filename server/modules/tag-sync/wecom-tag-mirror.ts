import type { DataSource, EntityManager } from 'typeorm';
import { In, IsNull, Not } from 'typeorm';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import type { Clock } from '../../adapters/clock';
import type { WecomClient } from '../../adapters/wecom.client';
import type { Reaction } from '../reactions/reaction';
import { deleteTags, type ContactTagsService } from '../tags/contact-tags.service';
import type { TagSyncService } from './tag-sync.service';

type CorpTagGroups = Awaited<ReturnType<WecomClient['getCorpTagList']>>;

export interface WecomTagMirrorDeps {
  dataSource: DataSource;
  wecom: WecomClient;
  contactTags: ContactTagsService;
  tagSync: TagSyncService;
  clock: Clock;
}

/**
 * The WeCom side of the tag mirror: corp tags created, renamed or deleted inside WeCom come
 * back as Flywheel tags, and a rep's tagging of a customer in WeCom becomes the customer's tags.
 * Groups first seen in WeCom are not mirrored to the Official Account (it holds at most 100 tags;
 * an operator turns syncOa on for the groups worth it); a tag deleted in WeCom is deleted here
 * and its Official Account copy too.
 * @link https://developer.work.weixin.qq.com/document/path/92117 (企业客户标签管理)
 */
export class WecomTagMirror {
  constructor(private readonly deps: WecomTagMirrorDeps) {}

  /** For a rep's edit of a customer: fetches tags not known yet; the returned write reconciles. */
  async prepareReconcile(wecomTagIds: string[]): Promise<(m: EntityManager, contactId: number) => Promise<void>> {
    const unknown = await this.unknownTagIds(wecomTagIds);
    const groups = unknown.length > 0 ? await this.deps.wecom.getCorpTagList({ tagIds: unknown }) : [];
    return async (m, contactId) => {
      await this.upsertCorpTags(m, groups);
      await this.reconcile(m, contactId, wecomTagIds);
    };
  }

  /** The reaction to change_external_tag pushes (create, update, delete, shuffle). */
  createCatalogReaction(): Reaction {
    return {
      name: 'wecom-tag-catalog',
      prepare: async (interaction) => {
        if (interaction.channel !== 'wecom' || !interaction.type.startsWith('external_tag_')) return null;
        const ids = interaction.detail.tagIds;
        const tagIds = Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
        const tagType = interaction.detail.tagType === 'tag_group' ? 'tag_group' : 'tag';
        if (interaction.type === 'external_tag_delete') return (m) => this.deleteCorpTags(m, tagIds, tagType);
        const groups = await this.deps.wecom.getCorpTagList(tagType === 'tag' ? { tagIds } : { groupIds: tagIds });
        return (m) => this.upsertCorpTags(m, groups);
      },
    };
  }

  private async unknownTagIds(tagIds: string[]): Promise<string[]> {
    if (tagIds.length === 0) return [];
    const known = await this.deps.dataSource.manager.find(Tag, { where: { wecomTagId: In(tagIds) }, select: { wecomTagId: true } });
    const knownIds = new Set(known.map((t) => t.wecomTagId));
    return tagIds.filter((id) => !knownIds.has(id));
  }

  /** The customer's corp tags in WeCom become their WeCom-mirrored tags here (not synced back). */
  private async reconcile(m: EntityManager, contactId: number, wecomTagIds: string[]): Promise<void> {
    const wanted = wecomTagIds.length > 0 ? await m.findBy(Tag, { wecomTagId: In(wecomTagIds) }) : [];
    const held = await findWecomTagIds(m, contactId);
    const wantedIds = new Set(wecomTagIds);
    const remove = await m.findBy(Tag, { id: In([...held].filter(([wecomId]) => !wantedIds.has(wecomId)).map(([, id]) => id)) });
    await this.deps.contactTags.applyTags(m, {
      contactId,
      add: wanted,
      remove,
      actor: { kind: 'platform', platform: 'wecom' },
      cause: 'platform_edit',
      origin: 'wecom',
    });
  }

  /** Mirrors corp tag groups and tags from WeCom (create, rename, shuffle). */
  private async upsertCorpTags(m: EntityManager, groups: CorpTagGroups): Promise<void> {
    const now = this.deps.clock.now();
    for (const g of groups) {
      let group = (await m.findOneBy(TagGroup, { wecomGroupId: g.groupId })) ?? (await m.findOneBy(TagGroup, { name: g.groupName }));
      if (!group) {
        await m.insert(TagGroup, {
          name: g.groupName.slice(0, 64),
          syncOa: false,
          syncWecom: true,
          wecomGroupId: g.groupId,
          createdAt: now,
        });
        group = await m.findOneByOrFail(TagGroup, { wecomGroupId: g.groupId });
      } else if (group.wecomGroupId !== g.groupId || group.name !== g.groupName) {
        await m.update(TagGroup, { id: group.id }, { wecomGroupId: g.groupId, name: g.groupName.slice(0, 64) });
      }
      for (const t of g.tags) {
        const existing = (await m.findOneBy(Tag, { wecomTagId: t.id })) ?? (await m.findOneBy(Tag, { groupId: group.id, name: t.name }));
        if (t.deleted) {
          if (existing) await this.deleteCorpTags(m, [t.id], 'tag');
        } else if (!existing) {
          await m.insert(Tag, { groupId: group.id, name: t.name.slice(0, 64), wecomTagId: t.id, createdAt: now });
        } else if (existing.name !== t.name || existing.wecomTagId !== t.id || existing.groupId !== group.id) {
          await m.update(Tag, { id: existing.id }, { name: t.name.slice(0, 64), wecomTagId: t.id, groupId: group.id });
        }
      }
    }
  }

  /** A corp tag (or group) deleted in WeCom disappears here, with its contact tags and its Official Account copy. */
  private async deleteCorpTags(m: EntityManager, ids: string[], type: 'tag' | 'tag_group'): Promise<void> {
    if (ids.length === 0) return;
    const groups = type === 'tag_group' ? await m.findBy(TagGroup, { wecomGroupId: In(ids) }) : [];
    const tags =
      type === 'tag'
        ? await m.findBy(Tag, { wecomTagId: In(ids) })
        : groups.length > 0
          ? await m.findBy(Tag, { groupId: In(groups.map((g) => g.id)) })
          : [];
    if (tags.length === 0) return;
    await deleteTags(
      m,
      tags.map((t) => t.id),
    );
    await this.deps.tagSync.enqueueTagsDeleted(m, tags, undefined, 'wecom');
  }
}

/** Tags of a contact that came from WeCom corp tags, by their WeCom id. */
export async function findWecomTagIds(manager: EntityManager, contactId: number): Promise<Map<string, number>> {
  const rows = await manager.find(ContactTag, { where: { contactId } });
  if (rows.length === 0) return new Map();
  const tags = await manager.findBy(Tag, { id: In(rows.map((r) => r.tagId)), wecomTagId: Not(IsNull()) });
  return new Map(tags.map((t) => [t.wecomTagId ?? '', t.id]));
}
