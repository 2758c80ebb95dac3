import { In, type EntityManager, type EntityTarget, type FindOptionsWhere, type ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { ContactTagChange } from '../../../entities/contact-tag-change.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import type { TagRef } from '../../../entities/tag-rule.entity';
import type { Clock } from '../../adapters/clock';
import { isUniqueViolation } from '../../db/errors';
import { insertedId, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import { countChanges, forgetDims, STAT_METRICS, tagChange } from '../stats/stat-counters';
import type { TagSyncService } from '../tag-sync/tag-sync.service';

/** Who changed a contact's tags, as the timeline names them. */
export type TagChangeActor =
  | { kind: 'operator'; id: number | null }
  | { kind: 'rule'; id: number; name: string }
  | { kind: 'platform'; platform: 'oa' | 'wecom' }
  /** A journey's action node (its name then, as a stage move by a journey keeps it). */
  | { kind: 'journey'; id: number; name: string }
  | { kind: 'system' };

/**
 * Why: one contact by hand, the selected rows, a filter's job, a rule hit, an edit made in a
 * platform, the silent-customers job (and the contact's return), a journey's action node.
 */
export type TagChangeCause =
  'manual' | 'bulk_selected' | 'bulk_filter' | 'rule' | 'platform_edit' | 'silent' | 'channel' | 'journey' | 'import';

export interface ApplyTagsParams {
  contactId: number;
  add: Tag[];
  remove: Tag[];
  actor: TagChangeActor;
  cause: TagChangeCause;
  /** The interaction that fired a rule. */
  interactionId?: number;
  /** Set when the change came from a platform itself: it is not synced back there. */
  origin?: 'oa' | 'wecom';
}

/**
 * Which contact holds which tag: the one writer of `contact_tags`, inside the caller's
 * transaction, for every cause (tag rules, WeCom edits coming back, operators' manual tagging),
 * and of the contact's tag history `contact_tag_changes` with who made each change.
 * The tag module's three services split by question: TagCatalogService edits the groups and tags
 * themselves, ContactTagsService puts them on contacts, ManualTaggingService is what an operator
 * does by hand (audited, one contact or a filter as a job). Every change here is mirrored to the
 * platforms through the sync queue (tag-sync/), enqueued in the caller's transaction so a
 * rolled-back change never syncs.
 */
export class ContactTagsService {
  constructor(private readonly deps: { clock: Clock; tagSync: TagSyncService }) {}

  /** Finds or creates the tag (and its group) by name; one another transaction is creating is waited for and returned. */
  async ensureTag(manager: EntityManager, ref: TagRef): Promise<Tag> {
    const groupName = ref.group.trim().slice(0, 64);
    const tagName = ref.name.trim().slice(0, 64);
    const group = await this.ensureGroup(manager, groupName);
    return findOrInsert(
      manager,
      Tag,
      { groupId: group.id, name: tagName },
      { groupId: group.id, name: tagName, createdAt: this.deps.clock.now() },
    );
  }

  async ensureGroup(manager: EntityManager, name: string): Promise<TagGroup> {
    return findOrInsert(manager, TagGroup, { name }, { name, syncOa: true, syncWecom: true, createdAt: this.deps.clock.now() });
  }

  /** Adds and removes tags; returns what actually changed. Re-applying is a no-op. */
  async applyTags(manager: EntityManager, p: ApplyTagsParams): Promise<{ added: Tag[]; removed: Tag[] }> {
    const now = this.deps.clock.now();
    const current = await manager.find(ContactTag, { where: { contactId: p.contactId } });
    const held = new Map(current.map((ct) => [ct.tagId, ct.id]));
    const added: { tag: Tag; contactTagId: number }[] = [];
    for (const tag of p.add) {
      if (held.has(tag.id)) continue;
      try {
        const inserted = await manager.insert(ContactTag, {
          contactId: p.contactId,
          tagId: tag.id,
          source: sourceOf(p.actor),
          createdAt: now,
        });
        const contactTagId = insertedId(inserted.identifiers);
        added.push({ tag, contactTagId });
        held.set(tag.id, contactTagId);
      } catch (error) {
        // Deliberate: another transaction applied the same tag meanwhile; the contact has it.
        if (!isUniqueViolation(error)) throw error;
      }
    }
    const removed: { tag: Tag; contactTagId: number }[] = [];
    const addIds = new Set(p.add.map((t) => t.id));
    for (const tag of p.remove) {
      const contactTagId = held.get(tag.id);
      if (contactTagId === undefined || addIds.has(tag.id)) continue;
      // Counted only if this transaction removed it (a concurrent one may have first).
      const deleted = await manager.delete(ContactTag, { id: contactTagId });
      if (!deleted.affected) continue;
      removed.push({ tag, contactTagId });
    }
    await recordTagChanges(manager, p, now, [
      ...added.map((a) => ({ tag: a.tag, op: 'add' as const })),
      ...removed.map((r) => ({ tag: r.tag, op: 'remove' as const })),
    ]);
    await countChanges(manager, [...added.map((a) => tagChange(a.tag.id, 1)), ...removed.map((r) => tagChange(r.tag.id, -1))]);
    if (added.length > 0 || removed.length > 0) {
      await this.deps.tagSync.enqueueContactTagChanges(manager, { contactId: p.contactId, added, removed, skip: p.origin });
    }
    return { added: added.map((a) => a.tag), removed: removed.map((r) => r.tag) };
  }

  /**
   * Puts one tag on every live contact of a set that lacks it, set-based: one SELECT finds them,
   * then the tags and their history go in as multi-row INSERTs of a thousand rows, with the
   * counters, for jobs over many contacts (the silent customers). A concurrent writer tagging one
   * of them first fails the INSERT on the unique key, and the caller's runRetrying tries again.
   * Returns the contacts tagged. A tag whose group syncs to a platform is enqueued per contact, like
   * applyTags; the jobs' tags live in groups that sync nowhere, so they cost no per-contact statement.
   */
  async tagContactSet(manager: EntityManager, p: TagContactSetParams): Promise<number[]> {
    const now = this.deps.clock.now();
    const at = toSqlDate(now);
    const source = sourceOf(p.actor);
    const found: { id: number | string }[] = await manager.query(
      `SELECT c.id FROM contacts c WHERE c.merged_into_id IS NULL AND (${p.contacts.where})
          AND NOT EXISTS (SELECT 1 FROM contact_tags h WHERE h.contact_id = c.id AND h.tag_id = ?) ORDER BY c.id`,
      [...p.contacts.params, p.tag.id],
    );
    const ids = found.map((r) => Number(r.id));
    if (ids.length === 0) return [];
    const { actorId, actorName } = actorColumns(p.actor);
    for (let i = 0; i < ids.length; i += SET_CHUNK) {
      const chunk = ids.slice(i, i + SET_CHUNK);
      await manager.query(
        `INSERT INTO contact_tags (contact_id, tag_id, source, created_at) VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(',')}`,
        chunk.flatMap((id) => [id, p.tag.id, source, at]),
      );
      await manager.query(
        `INSERT INTO contact_tag_changes (contact_id, tag_id, tag_name, op, actor_kind, actor_id, actor_name, cause, interaction_id, at) VALUES ${chunk
          .map(() => "(?, ?, ?, 'add', ?, ?, ?, ?, NULL, ?)")
          .join(',')}`,
        chunk.flatMap((id) => [id, p.tag.id, p.tag.name.slice(0, 64), p.actor.kind, actorId, actorName, p.cause, at]),
      );
    }
    await countChanges(manager, [tagChange(p.tag.id, ids.length)]);
    const group = await manager.findOneBy(TagGroup, { id: p.tag.groupId });
    if (group?.syncOa || group?.syncWecom) {
      // Only contacts with a platform identity have a copy to sync: a lead imported with its
      // phone alone has none, and 100,000 of them must not cost 100,000 queued syncs.
      const rows: { id: number | string; contact_id: number | string }[] = [];
      for (let i = 0; i < ids.length; i += SET_CHUNK) {
        const chunk = ids.slice(i, i + SET_CHUNK);
        const synced: { id: number | string; contact_id: number | string }[] = await manager.query(
          `SELECT ct.id, ct.contact_id FROM contact_tags ct WHERE ct.tag_id = ? AND ct.contact_id IN (${placeholders(chunk.length)})
             AND EXISTS (SELECT 1 FROM contact_identities ci WHERE ci.contact_id = ct.contact_id AND ci.kind IN ('oa_openid', 'external_userid'))`,
          [p.tag.id, ...chunk],
        );
        rows.push(...synced);
      }
      for (const raw of rows) {
        const row = { id: Number(raw.id), contactId: Number(raw.contact_id) };
        await this.deps.tagSync.enqueueContactTagChanges(manager, {
          contactId: row.contactId,
          added: [{ tag: p.tag, contactTagId: row.id }],
          removed: [],
        });
      }
    }
    return ids;
  }
}

/** Rows per INSERT of tagContactSet. */
const SET_CHUNK = 1_000;

/** A set of contacts named by SQL over `contacts c`: `c.id IN (...)`, a range, a silence bound. */
export interface ContactSetSql {
  where: string;
  params: unknown[];
}

export interface TagContactSetParams {
  tag: Tag;
  contacts: ContactSetSql;
  actor: TagChangeActor;
  cause: TagChangeCause;
}

/** contact_tags.source: `operator:1`, `rule:3`, `wecom`, `system`. */
function sourceOf(actor: TagChangeActor): string {
  switch (actor.kind) {
    case 'operator':
      return actor.id === null ? 'operator' : `operator:${actor.id}`;
    case 'rule':
      return `rule:${actor.id}`;
    case 'platform':
      return actor.platform;
    case 'journey':
      return `journey:${actor.id}`;
    case 'system':
      return 'system';
  }
}

/** The history's actor_id and actor_name: a rule's or a journey's id and name then, a platform's name. */
function actorColumns(actor: TagChangeActor): { actorId: number | null; actorName: string | null } {
  switch (actor.kind) {
    case 'operator':
      return { actorId: actor.id, actorName: null };
    case 'rule':
    case 'journey':
      return { actorId: actor.id, actorName: actor.name.slice(0, 64) };
    case 'platform':
      return { actorId: null, actorName: actor.platform };
    case 'system':
      return { actorId: null, actorName: null };
  }
}

/** The contact's tag history (contact_tag_changes), one statement for every change of one call. */
async function recordTagChanges(
  manager: EntityManager,
  p: ApplyTagsParams,
  at: Date,
  changes: { tag: Tag; op: 'add' | 'remove' }[],
): Promise<void> {
  if (changes.length === 0) return;
  const actor = p.actor;
  const { actorId, actorName } = actorColumns(actor);
  await manager.insert(
    ContactTagChange,
    changes.map((c) => ({
      contactId: p.contactId,
      tagId: c.tag.id,
      tagName: c.tag.name.slice(0, 64),
      op: c.op,
      actorKind: actor.kind,
      actorId,
      actorName,
      cause: p.cause,
      interactionId: p.interactionId ?? null,
      at,
    })),
  );
}

/**
 * The row with this unique key, inserted if missing. Two transactions inserting the same key at
 * once: the second INSERT waits for the first transaction, then fails alone (both databases undo
 * just the statement), and the row is read with a locking read, which on MySQL sees a row
 * committed after this transaction's snapshot where a plain read would not.
 */
async function findOrInsert<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  key: FindOptionsWhere<T>,
  values: QueryDeepPartialEntity<T>,
): Promise<T> {
  const existing = await manager.findOneBy(entity, key);
  if (existing) return existing;
  try {
    await manager.insert(entity, values);
  } catch (error) {
    // Deliberate: a concurrent transaction inserted the same key first; its row is read below.
    if (!isUniqueViolation(error)) throw error;
  }
  const locking = isMysqlManager(manager) && manager.queryRunner?.isTransactionActive === true;
  return manager.findOneOrFail(entity, { where: key, ...(locking ? { lock: { mode: 'pessimistic_read' as const } } : {}) });
}

/**
 * Deletes tags wherever they are held: off every contact, their dashboard counters, the tags
 * themselves (a tag deleted in Flywheel, or in WeCom). Returns how many contact tags went.
 */
export async function deleteTags(manager: EntityManager, tagIds: number[]): Promise<number> {
  if (tagIds.length === 0) return 0;
  const removed = await manager.delete(ContactTag, { tagId: In(tagIds) });
  await forgetDims(manager, STAT_METRICS.contactsByTag, tagIds.map(String));
  await manager.delete(Tag, { id: In(tagIds) });
  return removed.affected ?? 0;
}
