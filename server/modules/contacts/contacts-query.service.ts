import { In, type DataSource } from 'typeorm';
import { Contact, type LifecycleStage } from '../../../entities/contact.entity';
import { ContactIdentity, type IdentityKind } from '../../../entities/contact-identity.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import type { Channel } from '../../../entities/interaction.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import type { Clock } from '../../adapters/clock';
import { maskPersonalData } from '../../adapters/logger';
import { fromSqlDate, placeholders, toSqlDate } from '../../db/sql';
import { displayIdentityOf, type DisplayIdentity } from './display-identity';
import { queryTermsOf } from './search-terms';
import { compileFilter } from '../segments/filter-compiler';
import type { FilterCondition } from '../../../web/shared/segment-filter';

/**
 * Which contacts a reader may see: all of them, or those a sales rep follows in WeCom (an active
 * contact_follows row for their userid; none when the rep has no WeCom userid), and, one at a
 * time, the leads handed to them (findVisibleContact).
 */
export type ContactScope = { kind: 'all' } | { kind: 'follower'; userId: string | null };

/** The admin list's filters; every one is served by an index (see the migration 1795600200000). */
export interface ContactListFilter {
  /**
   * An exact identity value (openid, unionid, external_userid, phone in its usual spellings), the
   * beginning of one (6 characters or more), the contact id, a tag name or a first-touch source;
   * when nothing matches exactly, part of a name, remark, phone or openid tail (search-terms.ts).
   */
  q?: string;
  tagId?: number;
  stage?: LifecycleStage;
  /** First-touch source, by prefix: `渠道/` matches `渠道/展会A`. */
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

/** One row of the admin contact list; the fields up to `source` are a public contract (DESIGN.md). */
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
  /** What to call the contact (display-identity.ts). */
  display: DisplayIdentity;
  /** The tags with their group, in the order of `tags`. */
  tagItems: { group: string; name: string }[];
  /** The newest interaction: what (type, channel) and when; null when there was none. */
  lastInteraction: { type: string | null; channel: Channel | null; at: string } | null;
  follow: FollowState;
  /** The owning rep: their operator name when one has their WeCom userid, else the userid. */
  owner: ContactOwner | null;
}

/**
 * Whether the contact follows us: the Official Account (from its newest subscribe or unsubscribe;
 * null without an openid) and how many WeCom reps have them as an active external contact.
 */
export interface FollowState {
  officialAccount: 'subscribed' | 'unsubscribed' | null;
  wecomReps: number;
}

export interface ContactOwner {
  userId: string;
  /** Null when no operator has this WeCom userid (or they have no name). */
  name: string | null;
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
  display: DisplayIdentity;
  remark: string | null;
  /** The phone an operator typed; masked for sales reps like the phone identities. */
  phone: string | null;
  /** The contact's own IANA time zone; null: the business zone. */
  timeZone: string | null;
  owner: ContactOwner | null;
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
    const tags = new Map<number, { group: string; name: string }[]>();
    if (ids.length > 0) {
      const tagRows = await this.deps.dataSource
        .getRepository(ContactTag)
        .createQueryBuilder('ct')
        .innerJoin(Tag, 't', 't.id = ct.tagId')
        .innerJoin(TagGroup, 'g', 'g.id = t.groupId')
        .select('ct.contactId', 'contactId')
        .addSelect('g.name', 'group')
        .addSelect('t.name', 'name')
        .where('ct.contactId IN (:...ids)', { ids })
        .orderBy('t.name', 'ASC')
        .getRawMany<{ contactId: number | string; group: string; name: string }>();
      for (const row of tagRows) pushTo(tags, Number(row.contactId), { group: row.group, name: row.name });
    }
    const lastInteractions = await this.loadLastInteractions(rows);
    const follows = await this.loadFollowStates(ids, identities);
    const owners = await this.loadOwners([...rows.values()].map((row) => row.owner_user_id));

    const items = pageIds.flatMap((id): ContactListItem[] => {
      const row = rows.get(id);
      if (!row) return [];
      const own = identities.get(id) ?? [];
      const lastAt = row.last_interaction_at === null ? null : fromSqlDate(row.last_interaction_at);
      const last = lastInteractions.get(id);
      return [
        {
          id,
          name: row.name,
          ...primaryIdentities(own),
          tags: (tags.get(id) ?? []).map((tag) => tag.name),
          score: Number(row.score),
          stage: row.stage,
          source: row.first_source,
          display: displayIdentityOf({
            id,
            name: row.name,
            remark: row.remark,
            firstSource: row.first_source,
            createdAt: fromSqlDate(row.created_at),
            identities: own,
          }),
          tagItems: tags.get(id) ?? [],
          lastInteraction: lastAt === null ? null : { type: last?.type ?? null, channel: last?.channel ?? null, at: lastAt.toISOString() },
          follow: follows.get(id) ?? { officialAccount: null, wecomReps: 0 },
          owner: row.owner_user_id === null ? null : { userId: row.owner_user_id, name: owners.get(row.owner_user_id) ?? null },
        },
      ];
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
      'SELECT id, name, remark, score, stage, first_source, owner_user_id, last_interaction_at, created_at ' +
        `FROM contacts WHERE id IN (${placeholders(unique.length)})`,
      unique,
    );
    for (const row of rows) byId.set(Number(row.id), row);
    return byId;
  }

  /**
   * The interaction behind each contact's last_interaction_at: one probe of
   * (contact_id, occurred_at) per contact, never a scan of its timeline.
   */
  private async loadLastInteractions(rows: Map<number, ListRow>): Promise<Map<number, { type: string; channel: Channel }>> {
    const wanted = [...rows].flatMap(([id, row]) =>
      row.last_interaction_at === null ? [] : [[id, toSqlDate(fromSqlDate(row.last_interaction_at))] as const],
    );
    const found = new Map<number, { type: string; channel: Channel }>();
    if (wanted.length === 0) return found;
    const interactionRows = await this.deps.dataSource.query<{ contact_id: number | string; type: string; channel: Channel }[]>(
      `SELECT contact_id, type, channel FROM interactions WHERE ${wanted.map(() => '(contact_id = ? AND occurred_at = ?)').join(' OR ')} ORDER BY id`,
      wanted.flat(),
    );
    // The newest row wins when two share the millisecond.
    for (const row of interactionRows) found.set(Number(row.contact_id), { type: row.type, channel: row.channel });
    return found;
  }

  /** Official Account follow state from the newest (un)subscribe, and the WeCom reps following. */
  private async loadFollowStates(ids: number[], identities: Map<number, ContactIdentity[]>): Promise<Map<number, FollowState>> {
    const states = new Map<number, FollowState>();
    if (ids.length === 0) return states;
    for (const id of ids) {
      const follower = (identities.get(id) ?? []).some((identity) => identity.kind === 'oa_openid');
      states.set(id, { officialAccount: follower ? 'subscribed' : null, wecomReps: 0 });
    }
    const events = await this.deps.dataSource.query<{ contact_id: number | string; type: string; at: unknown }[]>(
      `SELECT contact_id, type, MAX(occurred_at) AS at FROM interactions WHERE contact_id IN (${placeholders(ids.length)}) ` +
        "AND type IN ('subscribe', 'unsubscribe') GROUP BY contact_id, type",
      ids,
    );
    const newest = new Map<number, { type: string; at: number }>();
    for (const row of events) {
      const id = Number(row.contact_id);
      const at = fromSqlDate(row.at).getTime();
      const seen = newest.get(id);
      if (!seen || at > seen.at || (at === seen.at && row.type === 'unsubscribe')) newest.set(id, { type: row.type, at });
    }
    for (const [id, event] of newest) {
      const state = states.get(id);
      if (state) state.officialAccount = event.type === 'unsubscribe' ? 'unsubscribed' : 'subscribed';
    }
    const reps = await this.deps.dataSource.query<{ contact_id: number | string }[]>(
      `SELECT contact_id FROM contact_follows WHERE contact_id IN (${placeholders(ids.length)}) AND status = 'active'`,
      ids,
    );
    for (const row of reps) {
      const state = states.get(Number(row.contact_id));
      if (state) state.wecomReps += 1;
    }
    return states;
  }

  /** Operator names by WeCom userid (the display name, else the username). */
  private async loadOwners(userIds: (string | null)[]): Promise<Map<string, string>> {
    const unique = [...new Set(userIds.filter((id) => id !== null))];
    const names = new Map<string, string>();
    if (unique.length === 0) return names;
    const rows = await this.deps.dataSource.query<{ wecom_user_id: string; display_name: string | null; username: string }[]>(
      `SELECT wecom_user_id, display_name, username FROM operators WHERE wecom_user_id IN (${placeholders(unique.length)}) ORDER BY id`,
      unique,
    );
    for (const row of rows) if (!names.has(row.wecom_user_id)) names.set(row.wecom_user_id, row.display_name || row.username);
    return names;
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
    let driver: ListDriver = 'contacts';
    let terms: string[] = [];
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
        if (source !== undefined && !q.startsWith(source)) return null;
        source = q;
      } else {
        // Part of a name, remark, phone or openid tail: the contacts holding every piece of it.
        terms = await this.rankSearchTerms(q);
        if (terms.length === 0) return null;
        searchedByCondition = true;
      }
    }

    if (scope.kind === 'follower') {
      if (scope.userId === null) return null;
      driver = 'follows';
      conditions.unshift('f.user_id = ?', "f.status = 'active'");
      params.unshift(scope.userId);
      key = 'f.contact_id';
    }
    if (terms.length > 0) {
      // The rarest piece drives the page in id order (its own index range) unless a rep's follows
      // do; the other pieces are each one probe of the primary key (term, contact_id).
      const [rarest, ...others] = terms;
      if (key === 'c.id') {
        driver = 'terms';
        conditions.push('st.term = ?');
        key = 'st.contact_id';
      } else {
        conditions.push('EXISTS (SELECT 1 FROM contact_search_terms st WHERE st.term = ? AND st.contact_id = c.id)');
      }
      params.push(rarest);
      others.forEach((term, i) => {
        conditions.push(`EXISTS (SELECT 1 FROM contact_search_terms st${i} WHERE st${i}.term = ? AND st${i}.contact_id = c.id)`);
        params.push(term);
      });
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
    // The contacts' own columns go through the one filter compiler (segments and journeys use it
    // too); the driver, the sort key and the text search above stay the list's own planning.
    const own: FilterCondition[] = [];
    if (filter.stage !== undefined) own.push({ kind: 'stage', stages: [filter.stage] });
    // A prefix: one range of the source, read from the list index in id order.
    if (source !== undefined) own.push({ kind: 'source', which: 'first', prefix: source });
    if (filter.minScore !== undefined || filter.maxScore !== undefined)
      own.push({ kind: 'score', min: filter.minScore, max: filter.maxScore });
    if (filter.activeWithinDays !== undefined) own.push({ kind: 'activeWithin', days: filter.activeWithinDays });
    if (filter.silentForDays !== undefined) own.push({ kind: 'silentFor', days: filter.silentForDays });
    const now = this.deps.clock.now();
    for (const condition of own) {
      const compiled = compileFilter({ filter: condition, now, mysql: this.isMysql() });
      conditions.push(compiled.sql);
      params.push(...compiled.params);
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
    const from = (listIndex: boolean) => this.listFrom(driver, listIndex);
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
  private listFrom(driver: ListDriver, listIndex: boolean): string {
    const mysql = listIndex && this.isMysql();
    const contacts = mysql ? 'contacts c FORCE INDEX (IDX_contacts_live_list)' : 'contacts c';
    const join = mysql ? 'STRAIGHT_JOIN' : 'JOIN';
    if (driver === 'follows') return `contact_follows f ${join} ${contacts} ON c.id = f.contact_id`;
    if (driver === 'tags') return `contact_tags ct ${join} ${contacts} ON c.id = ct.contact_id`;
    if (driver === 'terms') return `contact_search_terms st ${join} ${contacts} ON c.id = st.contact_id`;
    return contacts;
  }

  private isMysql(): boolean {
    const type = this.deps.dataSource.options.type;
    return type === 'mysql' || type === 'mariadb';
  }

  /**
   * The pieces a text search must find (queryTermsOf), rarest first, or none when one of them
   * matches nobody (or the text is one character). Each is counted up to RANK_CAP in one statement,
   * an index range each; a long text is narrowed enough by its first MAX_QUERY_TERMS pieces.
   */
  private async rankSearchTerms(q: string): Promise<string[]> {
    const terms = queryTermsOf(q).slice(0, MAX_QUERY_TERMS);
    if (terms.length === 0) return [];
    const counts = terms.map(
      (_term, i) => `(SELECT COUNT(*) FROM (SELECT 1 AS one FROM contact_search_terms WHERE term = ? LIMIT ${RANK_CAP}) t${i}) AS n${i}`,
    );
    const [row] = await this.deps.dataSource.query<Record<string, number | string>[]>(`SELECT ${counts.join(', ')}`, terms);
    const ranked = terms.map((term, i) => ({ term, n: Number(row?.[`n${i}`] ?? 0) }));
    if (ranked.some((entry) => entry.n === 0)) return [];
    return ranked.sort((a, b) => a.n - b.n).map((entry) => entry.term);
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
    if (contactIds.size === 0 && scopes.length > 0 && /^[A-Za-z0-9_-]{8,64}$/.test(q)) {
      // The beginning of an openid, unionid or external_userid: a range of the same index per
      // scope. A prefix that many share (an app's openids all begin alike) says nothing.
      const ranges = scopes.map(() => "(kind = ? AND app_id = ? AND value LIKE ? ESCAPE '!')");
      const rows = await this.deps.dataSource.query<{ contact_id: number | string }[]>(
        `SELECT contact_id FROM contact_identities WHERE ${ranges.join(' OR ')} LIMIT ${PREFIX_CAP + 1}`,
        scopes.flatMap((scope) => [scope.kind, scope.app_id, `${escapeLike(q)}%`]),
      );
      if (rows.length <= PREFIX_CAP) for (const row of rows) contactIds.add(Number(row.contact_id));
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
    const owners = await this.loadOwners([contact.ownerUserId]);
    return {
      id: contact.id,
      name: contact.name,
      display: displayIdentityOf({ ...contact, identities }),
      remark: contact.remark,
      phone: contact.phone !== null && params.maskPhones ? maskPhone(contact.phone) : contact.phone,
      timeZone: contact.timeZone,
      owner: contact.ownerUserId === null ? null : { userId: contact.ownerUserId, name: owners.get(contact.ownerUserId) ?? null },
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
   * The contact when it exists and the reader may see it. A sales rep opens the contacts they
   * follow in WeCom and also the leads handed to them (a sales_assignments row for their userid:
   * past the MQL line, by a journey, or a card viewer who saved their card): the app message that
   * hands one over links to this page, and such a lead is often not yet their WeCom contact. The
   * list stays the WeCom relation (the rep's customers), so this is a single row's check only.
   */
  async findVisibleContact(id: number, scope: ContactScope): Promise<Contact | null> {
    const query = this.deps.dataSource.getRepository(Contact).createQueryBuilder('c').where('c.id = :id', { id });
    if (scope.kind === 'follower') {
      if (scope.userId === null) return null;
      query.andWhere(
        "(EXISTS (SELECT 1 FROM contact_follows f WHERE f.contact_id = c.id AND f.user_id = :userId AND f.status = 'active') " +
          'OR EXISTS (SELECT 1 FROM sales_assignments a WHERE a.contact_id = c.id AND a.user_id = :userId))',
        { userId: scope.userId },
      );
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
  remark: string | null;
  score: number | string;
  stage: LifecycleStage;
  first_source: string | null;
  owner_user_id: string | null;
  last_interaction_at: unknown;
  created_at: unknown;
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

/** A search piece's matches are counted up to this to find the rarest (one index range each). */
const RANK_CAP = 1_000;

/** An identity prefix matching more contacts than this is not a search for one of them. */
const PREFIX_CAP = 200;

/** The pieces of a text search checked: a longer text is narrowed enough by these. */
const MAX_QUERY_TERMS = 12;

/** The table that drives a list query in key order. */
type ListDriver = 'contacts' | 'follows' | 'tags' | 'terms';

/** '!' escapes LIKE wildcards the same way on SQLite and MySQL (MySQL's default is '\\'). */
function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
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
