import { Brackets, In, type DataSource, type SelectQueryBuilder } from 'typeorm';
import { Contact, type LifecycleStage } from '../../../entities/contact.entity';
import { ContactIdentity, type IdentityKind } from '../../../entities/contact-identity.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Interaction, type Channel, type InteractionDetail } from '../../../entities/interaction.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { maskPersonalData } from '../../adapters/logger';

/** Which contacts a reader may see: all of them, or those a sales rep owns (none when the rep has no WeCom userid). */
export type ContactScope = { kind: 'all' } | { kind: 'owner'; ownerUserId: string | null };

export interface SearchContactsParams {
  /** Matches the name (substring), an identity value (exactly), or the contact id. */
  q?: string;
  limit: number;
  offset: number;
  scope: ContactScope;
}

/** One row of the admin contact list; the shape is a public contract (DESIGN.md). */
export interface ContactListItem {
  id: number;
  name: string | null;
  openid: string | null;
  unionid: string | null;
  externalUserId: string | null;
  tags: string[];
  score: number;
  stage: LifecycleStage;
  source: string | null;
}

export interface GetContactParams {
  id: number;
  scope: ContactScope;
  /** Show phone numbers as 138****5678. */
  maskPhones: boolean;
}

export interface ContactDetail {
  id: number;
  name: string | null;
  avatarUrl: string | null;
  openid: string | null;
  unionid: string | null;
  externalUserId: string | null;
  identities: { kind: IdentityKind; appId: string; value: string }[];
  tags: { id: number; group: string; name: string }[];
  score: number;
  stage: LifecycleStage;
  firstSource: string | null;
  firstSourceAt: string | null;
  lastSource: string | null;
  lastSourceAt: string | null;
  ownerUserId: string | null;
  mergedIntoId: number | null;
  createdAt: string;
}

/** Keyset position in a timeline: strictly older than `at`, or than (`at`, `id`) when the id is known. */
export interface TimelineCursor {
  at: Date;
  id?: number;
}

export interface ListTimelineParams {
  contactId: number;
  scope: ContactScope;
  limit: number;
  before?: TimelineCursor;
}

export interface TimelineItem {
  id: number;
  type: string;
  channel: Channel;
  at: string;
  detail: InteractionDetail;
}

export interface ContactsQueryServiceDeps {
  dataSource: DataSource;
}

/** Read side of contacts for the admin page and the sidebar: search, profile, timeline. */
export class ContactsQueryService {
  constructor(private readonly deps: ContactsQueryServiceDeps) {}

  /** Newest first. Four queries whatever the page size: count, page, its identities, its tags. */
  async searchContacts(params: SearchContactsParams): Promise<{ items: ContactListItem[]; total: number }> {
    const query = this.deps.dataSource.getRepository(Contact).createQueryBuilder('c').where('c.mergedIntoId IS NULL');
    applyScope(query, params.scope);
    const q = params.q?.trim();
    if (q) applySearch(query, q);
    const [contacts, total] = await query.orderBy('c.createdAt', 'DESC').addOrderBy('c.id', 'DESC').offset(params.offset).limit(params.limit).getManyAndCount();

    const ids = contacts.map((contact) => contact.id);
    const identities = await this.loadIdentities(ids);
    const tagNames = new Map<number, string[]>();
    if (ids.length > 0) {
      const rows = await this.deps.dataSource
        .getRepository(ContactTag)
        .createQueryBuilder('ct')
        .innerJoin(Tag, 't', 't.id = ct.tagId')
        .select('ct.contactId', 'contactId')
        .addSelect('t.name', 'name')
        .where('ct.contactId IN (:...ids)', { ids })
        .orderBy('t.name', 'ASC')
        .getRawMany<{ contactId: number | string; name: string }>();
      for (const row of rows) pushTo(tagNames, Number(row.contactId), row.name);
    }

    const items = contacts.map((contact) => {
      const own = identities.get(contact.id) ?? [];
      return {
        id: contact.id,
        name: contact.name,
        ...primaryIdentities(own),
        tags: tagNames.get(contact.id) ?? [],
        score: contact.score,
        stage: contact.stage,
        source: contact.firstSource,
      };
    });
    return { items, total };
  }

  /** The full profile, or null when it does not exist or is outside the reader's scope. */
  async getContact(params: GetContactParams): Promise<ContactDetail | null> {
    const contact = await this.findVisibleContact(params.id, params.scope);
    if (!contact) return null;
    const identities = (await this.loadIdentities([contact.id])).get(contact.id) ?? [];
    const tags = await this.deps.dataSource
      .getRepository(ContactTag)
      .createQueryBuilder('ct')
      .innerJoin(Tag, 't', 't.id = ct.tagId')
      .innerJoin(TagGroup, 'g', 'g.id = t.groupId')
      .select('t.id', 'id')
      .addSelect('g.name', 'group')
      .addSelect('t.name', 'name')
      .where('ct.contactId = :id', { id: contact.id })
      .orderBy('g.name', 'ASC')
      .addOrderBy('t.name', 'ASC')
      .getRawMany<{ id: number | string; group: string; name: string }>();
    const shown = identities.map((identity) => ({
      kind: identity.kind,
      appId: identity.appId,
      value: params.maskPhones && identity.kind === 'phone' ? maskPhone(identity.value) : identity.value,
    }));
    return {
      id: contact.id,
      name: contact.name,
      avatarUrl: contact.avatarUrl,
      ...primaryIdentities(identities),
      identities: shown,
      tags: tags.map((tag) => ({ id: Number(tag.id), group: tag.group, name: tag.name })),
      score: contact.score,
      stage: contact.stage,
      firstSource: contact.firstSource,
      firstSourceAt: contact.firstSourceAt?.toISOString() ?? null,
      lastSource: contact.lastSource,
      lastSourceAt: contact.lastSourceAt?.toISOString() ?? null,
      ownerUserId: contact.ownerUserId,
      mergedIntoId: contact.mergedIntoId,
      createdAt: contact.createdAt.toISOString(),
    };
  }

  /**
   * Interactions newest first, ordered by (occurred_at, id) descending: a total order, so SQLite
   * and MySQL page identically even when two events share a millisecond. Null when the contact
   * is not visible to the reader.
   */
  async listTimeline(params: ListTimelineParams): Promise<{ items: TimelineItem[]; nextBefore: string | null } | null> {
    const contact = await this.findVisibleContact(params.contactId, params.scope);
    if (!contact) return null;
    const query = this.deps.dataSource.getRepository(Interaction).createQueryBuilder('i').where('i.contactId = :contactId', { contactId: contact.id });
    const before = params.before;
    if (before?.id !== undefined) {
      query.andWhere('(i.occurredAt < :at OR (i.occurredAt = :at AND i.id < :id))', { at: before.at, id: before.id });
    } else if (before) {
      query.andWhere('i.occurredAt < :at', { at: before.at });
    }
    const rows = await query.orderBy('i.occurredAt', 'DESC').addOrderBy('i.id', 'DESC').limit(params.limit).getMany();
    const items = rows.map((row) => ({ id: row.id, type: row.type, channel: row.channel, at: row.occurredAt.toISOString(), detail: row.detail }));
    const last = items.at(-1);
    return { items, nextBefore: items.length === params.limit && last ? formatTimelineCursor({ at: new Date(last.at), id: last.id }) : null };
  }

  private async findVisibleContact(id: number, scope: ContactScope): Promise<Contact | null> {
    const query = this.deps.dataSource.getRepository(Contact).createQueryBuilder('c').where('c.id = :id', { id });
    applyScope(query, scope);
    return query.getOne();
  }

  private async loadIdentities(contactIds: number[]): Promise<Map<number, ContactIdentity[]>> {
    const byContact = new Map<number, ContactIdentity[]>();
    if (contactIds.length === 0) return byContact;
    const rows = await this.deps.dataSource.getRepository(ContactIdentity).find({ where: { contactId: In(contactIds) }, order: { id: 'ASC' } });
    for (const row of rows) pushTo(byContact, row.contactId, row);
    return byContact;
  }
}

/** `nextBefore` as handed to clients: `<ISO time>_<interaction id>`. */
export function formatTimelineCursor(cursor: Required<TimelineCursor>): string {
  return `${cursor.at.toISOString()}_${cursor.id}`;
}

/** Accepts a `nextBefore` cursor or a bare ISO time; null when it is neither. */
export function parseTimelineCursor(text: string): TimelineCursor | null {
  const [time, id, ...rest] = text.split('_');
  if (rest.length > 0) return null;
  const at = new Date(time);
  if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(time)) return null;
  if (id === undefined) return { at };
  if (!/^\d{1,10}$/.test(id)) return null;
  return { at, id: Number(id) };
}

/** 13812345678 → 138****5678; numbers of another shape keep only their ends. */
export function maskPhone(value: string): string {
  const masked = maskPersonalData(value);
  if (masked !== value) return masked;
  return value.length >= 8 ? `${value.slice(0, 3)}****${value.slice(-4)}` : '****';
}

function applyScope(query: SelectQueryBuilder<Contact>, scope: ContactScope): void {
  if (scope.kind === 'all') return;
  if (scope.ownerUserId === null) query.andWhere('1 = 0');
  else query.andWhere('c.ownerUserId = :ownerUserId', { ownerUserId: scope.ownerUserId });
}

function applySearch(query: SelectQueryBuilder<Contact>, q: string): void {
  // '!' escapes LIKE wildcards the same way on SQLite and MySQL (MySQL's default is '\').
  const like = `%${q.replace(/[!%_]/g, (c) => `!${c}`)}%`;
  const values = identityCandidates(q);
  query.andWhere(
    new Brackets((where) => {
      where.where("c.name LIKE :like ESCAPE '!'", { like });
      where.orWhere('c.id IN (SELECT ci.contact_id FROM contact_identities ci WHERE ci.value IN (:...values))', { values });
      // Operators look people up by the channel they came through and by tag, too.
      where.orWhere('c.firstSource = :exact OR c.lastSource = :exact', { exact: q });
      where.orWhere('c.id IN (SELECT ct.contact_id FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE t.name = :exact)', { exact: q });
      if (/^\d{1,10}$/.test(q)) where.orWhere('c.id = :exactId', { exactId: Number(q) });
    }),
  );
}

/** Identity values to look up: the text itself, and for a mainland mobile number its usual spellings. */
function identityCandidates(q: string): string[] {
  const compact = q.replace(/[\s-]/g, '');
  const mobile = /^(?:\+?86)?(1[3-9]\d{9})$/.exec(compact);
  if (!mobile) return [q];
  const national = mobile[1];
  return [...new Set([q, national, `+86${national}`, `86${national}`])];
}

/** The Official Account openid, unionid and WeCom external_userid shown in lists (the oldest of each kind). */
function primaryIdentities(identities: ContactIdentity[]): { openid: string | null; unionid: string | null; externalUserId: string | null } {
  const first = (kind: IdentityKind) => identities.find((identity) => identity.kind === kind)?.value ?? null;
  return { openid: first('oa_openid'), unionid: first('unionid'), externalUserId: first('external_userid') };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
