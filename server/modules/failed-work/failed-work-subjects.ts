import { In, type EntityManager } from 'typeorm';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { Contact } from '../../../entities/contact.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { Tag } from '../../../entities/tag.entity';
import { displayIdentityOf, type DisplayIdentity } from '../contacts/display-identity';

/**
 * What a failed task was about, named for the page ("为客户 公众号粉丝 A1b2 添加标签 购买意向/需要发票")
 * instead of its payload and dedupe key. Read from the task payloads with one query per kind of
 * thing named on the page. A tag or contact deleted since is left out (the page says less).
 */
export interface FailedWorkSubject {
  /** `add` / `remove` for a contact's tag; `rename_tag`, `rename_group`, `delete` for the catalog. */
  op: string | null;
  /** The tag as `group/name`, or the group's name for `rename_group`. */
  tag: string | null;
  contact: DisplayIdentity | null;
  /** How many platform tags a `delete` removes. */
  count: number | null;
}

type Payload = Record<string, unknown>;

/** A payload as the raw query hands it back: simple-json text, or already parsed. Pure. */
export function payloadOf(value: unknown): Payload | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') return value as Payload;
  if (typeof value !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Payload) : null;
  } catch {
    return null;
  }
}

const numberOf = (value: unknown): number | null => (typeof value === 'number' && Number.isInteger(value) ? value : null);

export async function describeFailedWork(manager: EntityManager, payloads: (Payload | null)[]): Promise<(FailedWorkSubject | null)[]> {
  const tagIds = new Set<number>();
  const groupIds = new Set<number>();
  const contactIds = new Set<number>();
  for (const payload of payloads) {
    const tagId = numberOf(payload?.tagId);
    const groupId = numberOf(payload?.groupId);
    const contactId = numberOf(payload?.contactId);
    if (tagId !== null) tagIds.add(tagId);
    if (groupId !== null) groupIds.add(groupId);
    if (contactId !== null) contactIds.add(contactId);
  }
  const tags = tagIds.size > 0 ? await manager.findBy(Tag, { id: In([...tagIds]) }) : [];
  for (const tag of tags) groupIds.add(tag.groupId);
  const groups = groupIds.size > 0 ? await manager.findBy(TagGroup, { id: In([...groupIds]) }) : [];
  const groupNames = new Map(groups.map((group) => [group.id, group.name]));
  const tagNames = new Map(tags.map((tag) => [tag.id, `${groupNames.get(tag.groupId) ?? ''}/${tag.name}`]));
  const contacts = contactIds.size > 0 ? await manager.findBy(Contact, { id: In([...contactIds]) }) : [];
  const identities =
    contacts.length > 0
      ? await manager.find(ContactIdentity, { where: { contactId: In(contacts.map((c) => c.id)) }, order: { id: 'ASC' } })
      : [];
  const displays = new Map(
    contacts.map((contact) => [
      contact.id,
      displayIdentityOf({ ...contact, identities: identities.filter((identity) => identity.contactId === contact.id) }),
    ]),
  );
  return payloads.map((payload) => {
    if (payload === null) return null;
    const op = typeof payload.op === 'string' ? payload.op : null;
    const tagId = numberOf(payload.tagId);
    const groupId = numberOf(payload.groupId);
    const contactId = numberOf(payload.contactId);
    const deleted = Array.isArray(payload.oaTagIds) ? payload.oaTagIds.length : 0;
    const deletedWecom =
      (Array.isArray(payload.wecomTagIds) ? payload.wecomTagIds.length : 0) +
      (Array.isArray(payload.wecomGroupIds) ? payload.wecomGroupIds.length : 0);
    if (op === null && tagId === null && groupId === null && contactId === null) return null;
    return {
      op,
      tag: tagId !== null ? (tagNames.get(tagId) ?? null) : groupId !== null ? (groupNames.get(groupId) ?? null) : null,
      contact: contactId !== null ? (displays.get(contactId) ?? null) : null,
      count: op === 'delete' ? deleted + deletedWecom : null,
    };
  });
}
