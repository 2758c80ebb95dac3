import { In, type EntityManager } from 'typeorm';
import type { AuditDetail } from '../../../entities/audit-log.entity';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { Contact } from '../../../entities/contact.entity';
import { Operator } from '../../../entities/operator.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { TagRule } from '../../../entities/tag-rule.entity';
import { Tag } from '../../../entities/tag.entity';
import { displayIdentityOf, type DisplayIdentity } from '../contacts/display-identity';

/**
 * What an audit row's target is called, so the log reads "标签 购买意向/需要发票" rather than
 * "tag #35". Names are read when the log is read (one query per target kind on the page): a
 * renamed tag shows its current name. A deleted target falls back to the name the row's detail
 * kept (deletes and creates record it), else the page shows the id.
 */
export interface AuditTarget {
  /** The tag as `group/name`, the group, the rule, or the operator's username. */
  name: string | null;
  /** A contact's display identity; the page words it ("公众号粉丝 A1b2"). */
  contact?: DisplayIdentity;
}

interface TargetRow {
  targetType: string | null;
  targetId: string | null;
  detail: AuditDetail;
}

function idsOf(rows: TargetRow[], type: string): number[] {
  const ids = new Set<number>();
  for (const row of rows) if (row.targetType === type && row.targetId !== null && /^\d+$/.test(row.targetId)) ids.add(Number(row.targetId));
  return [...ids];
}

/** The name a create or delete kept in the detail, for a target that no longer exists. Pure. */
export function nameKeptInDetail(targetType: string | null, detail: AuditDetail): string | null {
  const text = (value: AuditDetail[string] | undefined): string | null => (typeof value === 'string' && value !== '' ? value : null);
  const name = text(detail.name) ?? text(detail['before.name']) ?? text(detail.username);
  if (name === null) return null;
  const group = targetType === 'tag' ? text(detail.group) : null;
  return group ? `${group}/${name}` : name;
}

/** One query per target kind present on the page; keyed `type:id`. */
export async function resolveAuditTargets(manager: EntityManager, rows: TargetRow[]): Promise<Map<string, AuditTarget>> {
  const found = new Map<string, AuditTarget>();
  const tagIds = idsOf(rows, 'tag');
  if (tagIds.length > 0) {
    const tags = await manager.findBy(Tag, { id: In(tagIds) });
    const groups = tags.length > 0 ? await manager.findBy(TagGroup, { id: In([...new Set(tags.map((tag) => tag.groupId))]) }) : [];
    const groupNames = new Map(groups.map((group) => [group.id, group.name]));
    for (const tag of tags) {
      const group = groupNames.get(tag.groupId);
      found.set(`tag:${tag.id}`, { name: group ? `${group}/${tag.name}` : tag.name });
    }
  }
  const groupIds = idsOf(rows, 'tag_group');
  if (groupIds.length > 0)
    for (const group of await manager.findBy(TagGroup, { id: In(groupIds) })) found.set(`tag_group:${group.id}`, { name: group.name });
  const ruleIds = idsOf(rows, 'tag_rule');
  if (ruleIds.length > 0)
    for (const rule of await manager.findBy(TagRule, { id: In(ruleIds) })) found.set(`tag_rule:${rule.id}`, { name: rule.name });
  const operatorIds = idsOf(rows, 'operator');
  if (operatorIds.length > 0)
    for (const operator of await manager.findBy(Operator, { id: In(operatorIds) }))
      found.set(`operator:${operator.id}`, { name: operator.username });
  const contactIds = idsOf(rows, 'contact');
  if (contactIds.length > 0) {
    const contacts = await manager.findBy(Contact, { id: In(contactIds) });
    const identities =
      contacts.length > 0 ? await manager.find(ContactIdentity, { where: { contactId: In(contactIds) }, order: { id: 'ASC' } }) : [];
    for (const contact of contacts) {
      const own = identities.filter((identity) => identity.contactId === contact.id);
      found.set(`contact:${contact.id}`, { name: null, contact: displayIdentityOf({ ...contact, identities: own }) });
    }
  }
  return found;
}

/** The target of one row: as it is now, else as the row's detail named it, else null (the page shows the id). */
export function targetOf(found: Map<string, AuditTarget>, row: TargetRow): AuditTarget | null {
  if (row.targetType === null || row.targetId === null) return null;
  const now = found.get(`${row.targetType}:${row.targetId}`);
  if (now) return now;
  const kept = nameKeptInDetail(row.targetType, row.detail);
  return kept === null ? null : { name: kept };
}
