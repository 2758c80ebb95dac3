import { In, type DataSource } from 'typeorm';
import { Contact, type LifecycleStage } from '../../../entities/contact.entity';
import { ContactIdentity, type IdentityKind } from '../../../entities/contact-identity.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Interaction, type Channel, type InteractionDetail, type InteractionDirection } from '../../../entities/interaction.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import type { Clock } from '../../adapters/clock';
import { maskPersonalData } from '../../adapters/logger';
import { placeholders, toSqlDate } from '../../db/sql';

/**
 * Which contacts a reader may see: all of them, or those a sales rep follows in WeCom (an active
 * contact_follows row for their userid; none when the rep has no WeCom userid).
 */
export type ContactScope = { kind: 'all' } | { kind: 'follower'; userId: string | null };

/** The admin list's filters; every one is served by an index (see the migration 1795600200000). */
export interface ContactListFilter {
  /**
   * An exact identity value (openid, unionid, external_userid, phone in its usual spellings), the
   * contact id, a tag name or a first-touch source; when nothing matches exactly, a name substring.
   */
  q?: string;
  tagId?: number;
  stage?: LifecycleStage;
  /** First-touch source, exactly. */
  source?: string;
  minScore?: number;
  maxScore?: number;
  /** Did anything in the last N days (contacts.last_interaction_at). */
  activeWithinDays?: number;
  /** Did nothing in the last N days, or never. */
  silentForDays?: number;
}

export interface SearchContactsParams extends ContactListFilter {
  limit: number;
  /** The `next` of the previous page: the page holds contacts with a smaller id. */
  after?: number;
  scope: ContactScope;
  /** Count the total on the first page (default true); exports and jobs page without it. */
  countTotal?: boolean;
}

export interface ListContactIdsParams extends ContactListFilter {
  scope: ContactScope;
  limit: number;
  /** Only contacts with a smaller id (the last id of the previous chunk). */
  after?: number;
}

export interface ListScoreLedgerParams {
  contactId: number;
  scope: ContactScope;
  limit: number;
  /** A ledger entry id: only older entries. */
  before?: number;
}

export interface ScoreLedgerEntry {
  id: number;
  points: number;
  reason: string;
  ruleId: number | null;
  interactionId: number | null;
  at: string;
}

export interface CountContactsParams extends ContactListFilter {
  scope: ContactScope;
}

export interface ContactPage {
  items: ContactListItem[];
  /** Contacts matching the filter, counted up to LIST_TOTAL_CAP; on the first page only (null after). */
  total: number | null;
  /** True when there are more than `total`. */
  totalCapped: boolean;
  /** Pass back as `after` for the next page; null on the last page. */
  next: number | null;
}

export interface ContactCount {
  total: number;
  totalCapped: boolean;
}

/**
 * Counts stop here: an operator needs "more than 10,000", not the exact figure, and counting a
 * million index entries on every page was most of a page's 500 ms.
 */
export const CONTACT_COUNT_CAP = 10_000;

/**
 * The total a list's first page carries stops sooner: counting checks each matching row (merged?
 * in scope?), and 10,001 such checks on a cold cache were 300 ms of a 20 ms page
 * (docs/BENCHMARKS.md). The UI asks GET /api/admin/contacts/count for the larger figure.
 */
export const LIST_TOTAL_CAP = 1_000;

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
  /** `out` for what was sent to the contact (entities/interaction.entity.ts). */
  direction: InteractionDirection;
  at: string;
  detail: InteractionDetail;
}

export interface ContactsQueryServiceDeps {
  dataSource: DataSource;
  clock: Clock;
}

/** Read side of contacts for the admin page and the sidebar: search, profile, timeline. */
export class ContactsQueryService {
  constructor(private readonly deps: ContactsQueryServiceDeps) {}

  /**
   * Newest first (by id, which grows with creation), keyset-paged: a page is one index range
   * whatever its depth. Five queries on the first page (page ids, their rows, identities, tags,
   * the total up to the cap), four after; a page of "active in N days" may take two or three more
   * (findPage). A first page shorter than the limit holds every match: it is its own total.
   */
  async searchContacts(params: SearchContactsParams): Promise<ContactPage> {
    const where = await this.buildListQuery(params, params.scope);
    if (!where) return { items: [], total: params.after === undefined ? 0 : null, totalCapped: false, next: null };
    const pageIds = await this.findPage(where, { after: params.after, limit: params.limit });
    const counted =
      params.after !== undefined || params.countTotal === false
        ? null
        : pageIds.length < params.limit
          ? { total: pageIds.length, totalCapped: false }
          : await this.countWhere(where, LIST_TOTAL_CAP);
    const rows = await this.loadListRows(pageIds);

    const ids = [...rows.keys()];
    const identities = await this.loadIdentities(ids);
    const tagNames = new Map<number, string[]>();
    if (ids.length > 0) {
      const tagRows = await this.deps.dataSource
        .getRepository(ContactTag)
        .createQueryBuilder('ct')
        .innerJoin(Tag, 't', 't.id = ct.tagId')
        .select('ct.contactId', 'contactId')
        .addSelect('t.name', 'name')
        .where('ct.contactId IN (:...ids)', { ids })
        .orderBy('t.name', 'ASC')
        .getRawMany<{ contactId: number | string; name: string }>();
      for (const row of tagRows) pushTo(tagNames, Number(row.contactId), row.name);
    }

    const items = pageIds.flatMap((id) => {
      const row = rows.get(id);
      if (!row) return [];
      return {
        id,
        name: row.name,
        ...primaryIdentities(identities.get(id) ?? []),
        tags: tagNames.get(id) ?? [],
        score: Number(row.score),
        stage: row.stage,
        source: row.first_source,
      };
    });
    const last = items.at(-1);
    return {
      items,
      total: counted?.total ?? null,
      totalCapped: counted?.totalCapped ?? false,
      next: items.length === params.limit && last ? last.id : null,
    };
  }

  /** Ids of matching contacts, newest first, one keyset chunk (bulk jobs walk the filter with it). */
  async listContactIds(params: ListContactIdsParams): Promise<number[]> {
    const where = await this.buildListQuery(params, params.scope);
    if (!where) return [];
    return this.findPage(where, { after: params.after, limit: Math.trunc(params.limit) });
  }

  /** Every matching contact, counted without a cap (a bulk job's total, counted once when it starts). */
  async countContactsExactly(params: CountContactsParams): Promise<number> {
    const where = await this.buildListQuery(params, params.scope);
    if (!where) return 0;
    const rows = await this.deps.dataSource.query<{ n: number | string }[]>(
      `SELECT COUNT(*) AS n FROM ${where.countFrom} WHERE ${where.conditions.join(' AND ')}`,
      where.params,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Where a contact's score came from, newest first, keyset-paged by entry id (the contact_id index
   * ends in the primary key on both databases). Null when the contact is not visible to the reader.
   */
  async listScoreLedger(params: ListScoreLedgerParams): Promise<{ items: ScoreLedgerEntry[]; nextBefore: number | null } | null> {
    const contact = await this.findVisibleContact(params.contactId, params.scope);
    if (!contact) return null;
    const query = this.deps.dataSource
      .getRepository(ScoreLedger)
      .createQueryBuilder('l')
      .where('l.contactId = :contactId', { contactId: contact.id });
    if (params.before !== undefined) query.andWhere('l.id < :before', { before: params.before });
    const rows = await query.orderBy('l.id', 'DESC').limit(params.limit).getMany();
    const items = rows.map((row) => ({
      id: row.id,
      points: row.points,
      reason: row.reason,
      ruleId: row.ruleId,
      interactionId: row.interactionId,
      at: row.createdAt.toISOString(),
    }));
    const last = items.at(-1);
    return { items, nextBefore: items.length === params.limit && last ? last.id : null };
  }

  /** How many contacts match the list's filter, counted up to CONTACT_COUNT_CAP. */
  async countContacts(params: CountContactsParams): Promise<ContactCount> {
    const where = await this.buildListQuery(params, params.scope);
    return where ? this.countWhere(where, CONTACT_COUNT_CAP) : { total: 0, totalCapped: false };
  }

  /**
   * One keyset page of ids, newest first: the matches with a key below `after`, in key order.
   *
   * The walk reads contacts through IDX_contacts_live_list (ListQuery.walkFrom): every list filter
   * on contacts in id order, so neither a page of contacts nor a tag's or rep's page reads a row
   * until its 20 ids are known (a row is a read of the clustered index, from disk at 1M contacts).
   *
   * "Active in N days" matches can be few and far down (the newest contacts all quiet): the walk
   * then read 143,000 rows for a page of the bench (docs/BENCHMARKS.md), and no index serves
   * both the range and the order. So such a query (ListQuery.indexRange) walks a window of
   * PAGE_WINDOW ids first, and takes what the window lacks from the index range that holds the
   * matches below it with their ids: up to INDEX_RANGE_CAP of them are read from the index alone,
   * counted and sorted by id. More than that are dense enough for the walk to go on instead.
   * Same ids, same order.
   */
  private async findPage(where: ListQuery, page: { after?: number; limit: number }): Promise<number[]> {
    const walk = async (conditions: string[], params: unknown[], limit: number) => {
      const rows = await this.deps.dataSource.query<{ id: number | string }[]>(
        `SELECT ${where.key} AS id FROM ${where.walkFrom} WHERE ${[...where.conditions, ...conditions].join(' AND ')} ` +
          `ORDER BY ${where.key} DESC LIMIT ${limit}`,
        [...where.params, ...params],
      );
      return rows.map((row) => Number(row.id));
    };
    const below = `${where.key} < ?`;
    if (!where.indexRange) return page.after === undefined ? walk([], [], page.limit) : walk([below], [page.after], page.limit);

    const top = page.after ?? (await this.maxContactId()) + 1;
    const floor = top - PAGE_WINDOW;
    const walked = await walk([below, `${where.key} >= ?`], [top, floor], page.limit);
    const wanted = page.limit - walked.length;
    if (wanted === 0 || floor <= 1) return walked;
    // The innermost query stops after INDEX_RANGE_CAP + 1 ids; its LIMIT also keeps the sort
    // from being merged into a walk of the primary key. `matches` says whether it stopped early.
    const conditions = [...where.conditions, below].join(' AND ');
    const ids = `SELECT ${where.key} AS id FROM ${where.from} WHERE ${conditions} LIMIT ${INDEX_RANGE_CAP + 1}`;
    const sorted = await this.deps.dataSource.query<{ id: number | string; matches: number | string }[]>(
      `SELECT id, COUNT(*) OVER () AS matches FROM (${ids}) below_window ORDER BY id DESC LIMIT ${wanted}`,
      [...where.params, floor],
    );
    if (sorted.length > 0 && Number(sorted[0].matches) > INDEX_RANGE_CAP) return [...walked, ...(await walk([below], [floor], wanted))];
    return [...walked, ...sorted.map((row) => Number(row.id))];
  }

  /** The list's columns of a page's contacts, by id (primary-key lookups). */
  private async loadListRows(ids: number[]): Promise<Map<number, ListRow>> {
    const byId = new Map<number, ListRow>();
    if (ids.length === 0) return byId;
    const unique = [...new Set(ids)];
    const rows = await this.deps.dataSource.query<(ListRow & { id: number | string })[]>(
      `SELECT id, name, score, stage, first_source FROM contacts WHERE id IN (${placeholders(unique.length)})`,
      unique,
    );
    for (const row of rows) byId.set(Number(row.id), row);
    return byId;
  }

  private async maxContactId(): Promise<number> {
    const rows = await this.deps.dataSource.query<{ id: number | string | null }[]>('SELECT MAX(id) AS id FROM contacts');
    return Number(rows[0]?.id ?? 0);
  }

  private async countWhere(where: ListQuery, cap: number): Promise<ContactCount> {
    // Counting stops at the cap: the inner LIMIT ends the index walk there.
    const rows = await this.deps.dataSource.query<
      {
        n: number | string;
      }[]
    >(
      `SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM ${where.countFrom} WHERE ${where.conditions.join(' AND ')} LIMIT ${cap + 1}) capped`,
      where.params,
    );
    const n = Number(rows[0]?.n ?? 0);
    return { total: Math.min(n, cap), totalCapped: n > cap };
  }

  /**
   * The FROM, WHERE and sort key of a list query, or null when nothing can match. The table that
   * narrows most drives the query and gives the sort key, so the page is read in index order: the
   * rep's follow rows (user_id, status, contact_id), else the tag's rows (tag_id, contact_id),
   * else contacts in id order (IDX_contacts_live_list; the score, source and last_interaction_at
   * indexes also end in the primary key, on InnoDB and SQLite alike).
   */
  private async buildListQuery(filter: ContactListFilter, scope: ContactScope): Promise<ListQuery | null> {
    let driver: 'contacts' | 'follows' | 'tags' = 'contacts';
    let byName = false;
    const conditions: string[] = ['c.merged_into_id IS NULL'];
    const params: unknown[] = [];
    let key = 'c.id';
    const tagIds: number[] = filter.tagId === undefined ? [] : [filter.tagId];
    let source = filter.source;

    const q = filter.q?.trim();
    let searchedByCondition = false;
    if (q) {
      const match = await this.findExactMatches(q);
      if (match.contactIds.length > 0) {
        searchedByCondition = true;
        conditions.push(`c.id IN (${placeholders(match.contactIds.length)})`);
        params.push(...match.contactIds);
      } else if (match.tagIds.length > 0) {
        if (tagIds.length > 0 && !match.tagIds.includes(tagIds[0])) return null;
        if (tagIds.length === 0) tagIds.push(...match.tagIds);
      } else if (match.isSource) {
        if (source !== undefined && source !== q) return null;
        source = q;
      } else {
        // '!' escapes LIKE wildcards the same way on SQLite and MySQL (MySQL's default is '\').
        searchedByCondition = true;
        byName = true;
        conditions.push("c.name LIKE ? ESCAPE '!'");
        params.push(`%${q.replace(/[!%_]/g, (c) => `!${c}`)}%`);
      }
    }

    if (scope.kind === 'follower') {
      if (scope.userId === null) return null;
      driver = 'follows';
      conditions.unshift('f.user_id = ?', "f.status = 'active'");
      params.unshift(scope.userId);
      key = 'f.contact_id';
    }
    if (tagIds.length > 0) {
      if (key === 'c.id') {
        driver = 'tags';
        conditions.push(`ct.tag_id IN (${placeholders(tagIds.length)})`);
        key = 'ct.contact_id';
      } else {
        conditions.push(
          `EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id IN (${placeholders(tagIds.length)}))`,
        );
      }
      params.push(...tagIds);
    }
    if (filter.stage !== undefined) {
      conditions.push('c.stage = ?');
      params.push(filter.stage);
    }
    if (source !== undefined) {
      conditions.push('c.first_source = ?');
      params.push(source);
    }
    if (filter.minScore !== undefined) {
      conditions.push('c.score >= ?');
      params.push(filter.minScore);
    }
    if (filter.maxScore !== undefined) {
      conditions.push('c.score <= ?');
      params.push(filter.maxScore);
    }
    const now = this.deps.clock.now().getTime();
    if (filter.activeWithinDays !== undefined) {
      conditions.push('c.last_interaction_at >= ?');
      params.push(toSqlDate(new Date(now - filter.activeWithinDays * DAY_MS)));
    }
    if (filter.silentForDays !== undefined) {
      conditions.push('(c.last_interaction_at < ? OR c.last_interaction_at IS NULL)');
      params.push(toSqlDate(new Date(now - filter.silentForDays * DAY_MS)));
    }
    // Only contacts' own columns held by one index with the activity: (merged_into_id, stage,
    // last_interaction_at), or (merged_into_id, last_interaction_at) without a stage.
    const indexRange =
      key === 'c.id' &&
      filter.activeWithinDays !== undefined &&
      !searchedByCondition &&
      source === undefined &&
      filter.minScore === undefined &&
      filter.maxScore === undefined;
    // Pairs of contacts' own columns that no one index holds are counted on the list index, in
    // id order, without a row each; one column, or a stage with the activity, has its own index.
    const columns = new Set<string>();
    if (filter.stage !== undefined) columns.add('stage');
    if (source !== undefined) columns.add('source');
    if (filter.minScore !== undefined || filter.maxScore !== undefined) columns.add('score');
    if (filter.activeWithinDays !== undefined || filter.silentForDays !== undefined) columns.add('activity');
    const ownIndex = columns.size <= 1 || (columns.size === 2 && columns.has('stage') && columns.has('activity'));
    // A name is read from the row: the list index cannot help a name search.
    const from = (listIndex: boolean) => this.listFrom(driver, listIndex && !byName);
    return {
      from: from(false),
      walkFrom: from(true),
      countFrom: from(driver !== 'contacts' || !ownIndex),
      conditions,
      params,
      key,
      indexRange,
    };
  }

  /**
   * The FROM of a list query. With `listIndex`, MySQL reads contacts through IDX_contacts_live_list
   * and, for a tag's or a rep's page, after their rows (STRAIGHT_JOIN): its planner would look each
   * contact up by primary key instead, a read of the clustered row. SQLite plans it alone (it
   * holds small installations).
   */
  private listFrom(driver: 'contacts' | 'follows' | 'tags', listIndex: boolean): string {
    const mysql = listIndex && this.isMysql();
    const contacts = mysql ? 'contacts c FORCE INDEX (IDX_contacts_live_list)' : 'contacts c';
    const join = mysql ? 'STRAIGHT_JOIN' : 'JOIN';
    if (driver === 'follows') return `contact_follows f ${join} ${contacts} ON c.id = f.contact_id`;
    if (driver === 'tags') return `contact_tags ct ${join} ${contacts} ON c.id = ct.contact_id`;
    return contacts;
  }

  private isMysql(): boolean {
    const type = this.deps.dataSource.options.type;
    return type === 'mysql' || type === 'mariadb';
  }

  /**
   * Exact lookups, each one index probe: identities through the (kind, app_id, value) unique
   * index (one equality range per kind and app, which an IN over `value` alone could not use),
   * the contact id, tag names, first-touch sources.
   */
  private async findExactMatches(q: string): Promise<{ contactIds: number[]; tagIds: number[]; isSource: boolean }> {
    const values = identityCandidates(q);
    // A loose index scan of (kind, app_id): as many rows as the apps Flywheel knows, not its identities.
    const scopes = await this.deps.dataSource.query<{ kind: string; app_id: string }[]>(
      'SELECT DISTINCT kind, app_id FROM contact_identities',
    );
    const contactIds = new Set<number>();
    if (scopes.length > 0) {
      const ranges = scopes.map(() => `(kind = ? AND app_id = ? AND value IN (${placeholders(values.length)}))`);
      const rows = await this.deps.dataSource.query<{ contact_id: number | string }[]>(
        `SELECT contact_id FROM contact_identities WHERE ${ranges.join(' OR ')}`,
        scopes.flatMap((scope) => [scope.kind, scope.app_id, ...values]),
      );
      for (const row of rows) contactIds.add(Number(row.contact_id));
    }
    if (/^\d{1,10}$/.test(q)) {
      const rows = await this.deps.dataSource.query<{ id: number | string }[]>('SELECT id FROM contacts WHERE id = ?', [Number(q)]);
      for (const row of rows) contactIds.add(Number(row.id));
    }
    if (contactIds.size > 0) return { contactIds: [...contactIds], tagIds: [], isSource: false };
    const tags = await this.deps.dataSource.query<{ id: number | string }[]>('SELECT id FROM tags WHERE name = ?', [q]);
    if (tags.length > 0) return { contactIds: [], tagIds: tags.map((tag) => Number(tag.id)), isSource: false };
    const sources = await this.deps.dataSource.query<unknown[]>('SELECT 1 AS one FROM contacts WHERE first_source = ? LIMIT 1', [q]);
    return { contactIds: [], tagIds: [], isSource: sources.length > 0 };
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
    const query = this.deps.dataSource
      .getRepository(Interaction)
      .createQueryBuilder('i')
      .where('i.contactId = :contactId', { contactId: contact.id });
    const before = params.before;
    if (before?.id !== undefined) {
      query.andWhere('(i.occurredAt < :at OR (i.occurredAt = :at AND i.id < :id))', { at: before.at, id: before.id });
    } else if (before) {
      query.andWhere('i.occurredAt < :at', { at: before.at });
    }
    const rows = await query.orderBy('i.occurredAt', 'DESC').addOrderBy('i.id', 'DESC').limit(params.limit).getMany();
    const items = rows.map((row) => ({
      id: row.id,
      type: row.type,
      channel: row.channel,
      direction: row.direction,
      at: row.occurredAt.toISOString(),
      detail: row.detail,
    }));
    const last = items.at(-1);
    return {
      items,
      nextBefore: items.length === params.limit && last ? formatTimelineCursor({ at: new Date(last.at), id: last.id }) : null,
    };
  }

  /** The contact when it exists and the reader may see it. */
  async findVisibleContact(id: number, scope: ContactScope): Promise<Contact | null> {
    const query = this.deps.dataSource.getRepository(Contact).createQueryBuilder('c').where('c.id = :id', { id });
    if (scope.kind === 'follower') {
      if (scope.userId === null) return null;
      query.andWhere("EXISTS (SELECT 1 FROM contact_follows f WHERE f.contact_id = c.id AND f.user_id = :userId AND f.status = 'active')", {
        userId: scope.userId,
      });
    }
    return query.getOne();
  }

  private async loadIdentities(contactIds: number[]): Promise<Map<number, ContactIdentity[]>> {
    const byContact = new Map<number, ContactIdentity[]>();
    if (contactIds.length === 0) return byContact;
    const rows = await this.deps.dataSource
      .getRepository(ContactIdentity)
      .find({ where: { contactId: In(contactIds) }, order: { id: 'ASC' } });
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

interface ListQuery {
  /** Tables as the planner would read them. */
  from: string;
  /** Tables for a walk in key order: contacts through the list index. */
  walkFrom: string;
  /** Tables for a count: the list index when no index of its own holds the contacts' conditions. */
  countFrom: string;
  conditions: string[];
  params: unknown[];
  /** The contact-id column the page is ordered and keyset-paged by. */
  key: string;
  /**
   * Every match is in one range of an index that also holds its id (active in N days, with a
   * stage or a silence bound or neither), so its ids can be read and sorted without their rows.
   */
  indexRange: boolean;
}

/** The list's columns of a contact, as the driver returns them. */
interface ListRow {
  name: string | null;
  score: number | string;
  stage: LifecycleStage;
  first_source: string | null;
}

/**
 * Ids a page walks before it looks at the index range: a page of 20 found among 2,000 rows costs
 * about what sorting 10,000 ids from an index costs (1M contacts, docs/BENCHMARKS.md).
 */
const PAGE_WINDOW = 2_000;

/**
 * The most matches a page sorts from an index range: about 0.4 µs each on the bench's machine
 * (55,000 ids read and sorted in 20–26 ms; a walk past the same matches bunched below 143,000
 * quiet contacts took 50 ms). More than that is at least 1 contact in 17 of a million, and the
 * walk finds a page in a few hundred entries of the list index unless the matches bunch far down.
 */
const INDEX_RANGE_CAP = 60_000;

const DAY_MS = 86_400_000;

/** Identity values to look up: the text itself, and for a mainland mobile number its usual spellings. */
function identityCandidates(q: string): string[] {
  const compact = q.replace(/[\s-]/g, '');
  const mobile = /^(?:\+?86)?(1[3-9]\d{9})$/.exec(compact);
  if (!mobile) return [q];
  const national = mobile[1];
  return [...new Set([q, national, `+86${national}`, `86${national}`])];
}

/** The Official Account openid, unionid and WeCom external_userid shown in lists (the oldest of each kind). */
function primaryIdentities(identities: ContactIdentity[]): {
  openid: string | null;
  unionid: string | null;
  externalUserId: string | null;
} {
  const first = (kind: IdentityKind) => identities.find((identity) => identity.kind === kind)?.value ?? null;
  return { openid: first('oa_openid'), unionid: first('unionid'), externalUserId: first('external_userid') };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
