import { In, type DataSource, type EntityTarget, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import type { LifecycleStage } from '../../../entities/contact.entity';
import { ContactStageChange, type StageChangeActorKind } from '../../../entities/contact-stage-change.entity';
import { ContactTagChange, type TagChangeActorKind } from '../../../entities/contact-tag-change.entity';
import { Interaction, type Channel, type InteractionDetail, type InteractionDirection } from '../../../entities/interaction.entity';
import { Operator } from '../../../entities/operator.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { TagRule } from '../../../entities/tag-rule.entity';
import type { ContactScope, ContactsQueryService } from '../contacts/contacts-query.service';

/**
 * What a contact's timeline holds, in the order entries of the same millisecond are shown newest
 * first from the last: a rule's tag change and points are written by the reaction to an
 * interaction, so at one instant they read as coming after it. A new source is one entry here
 * and one TimelineSource below; outbound interactions (direction `out`) are interactions and need
 * neither.
 */
export const TIMELINE_KINDS = ['interaction', 'tag_change', 'score', 'stage_change'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/**
 * A keyset position in the merged timeline: entries strictly after it in the order (time, kind,
 * id), newest first. Without a kind: strictly older than `at` (a bare time).
 */
export interface TimelineCursor {
  at: Date;
  kind?: TimelineKind;
  id?: number;
}

/** Who made a change, as the page names them. */
export type TimelineActor =
  | { kind: 'operator'; id: number | null; name: string | null }
  | { kind: 'rule'; id: number | null; name: string | null }
  | { kind: 'platform'; name: string }
  /** A journey's action node (tags) or stage move. */
  | { kind: 'journey'; id: number | null; name: string | null }
  | { kind: 'system' };

export interface InteractionEntry {
  kind: 'interaction';
  id: number;
  type: string;
  channel: Channel;
  /** `out` for what was sent to the contact (entities/interaction.entity.ts). */
  direction: InteractionDirection;
  at: string;
  detail: InteractionDetail;
}

export interface TagChangeEntry {
  kind: 'tag_change';
  id: number;
  at: string;
  op: 'add' | 'remove';
  /** The tag as it is called now, or was called when it changed if it has been deleted since (group null). */
  tag: { id: number; group: string | null; name: string };
  actor: TimelineActor;
  cause: string;
  interactionId: number | null;
}

export interface ScoreEntry {
  kind: 'score';
  id: number;
  at: string;
  points: number;
  reason: string;
  actor: TimelineActor;
  interactionId: number | null;
}

export interface StageChangeEntry {
  kind: 'stage_change';
  id: number;
  at: string;
  from: LifecycleStage;
  to: LifecycleStage;
  /** A stage rule (named by its type and count), an operator, a journey, or Flywheel. */
  actor: TimelineActor;
  interactionId: number | null;
}

export type TimelineItem = InteractionEntry | TagChangeEntry | ScoreEntry | StageChangeEntry;

export interface ListTimelineParams {
  contactId: number;
  scope: ContactScope;
  limit: number;
  before?: TimelineCursor;
  /** Which sources to merge; all of them by default. */
  kinds?: readonly TimelineKind[];
}

export interface TimelinePage {
  items: TimelineItem[];
  nextBefore: string | null;
}

/**
 * The sidebar's live cursor: the newest row id of each source it has seen, and the time from
 * which the next poll reads (LIVE_WINDOW_MS before the previous poll).
 */
export interface LiveCursor {
  since: Date;
  ids: Record<TimelineKind, number>;
}

export interface ListTimelineAfterParams {
  contactId: number;
  scope: ContactScope;
  after: LiveCursor;
  /** Rows per source at most. */
  limit: number;
  now: Date;
}

export interface LiveTimelinePage {
  /** The new entries, newest first, in the shape of TimelinePage's. */
  items: TimelineItem[];
  /** Pass back as `after` on the next poll. */
  after: string;
  /** More new entries wait: poll again at once. */
  more: boolean;
}

/**
 * How far back a live poll reads: a row stamped more than this before the poll that would find
 * it (an import of old history) appears on the next full read, not live.
 */
export const LIVE_WINDOW_MS = 10 * 60_000;

/** One row read from a source, before the page's names are looked up. */
type SourceRow = { id: number; at: Date } & (
  | { kind: 'interaction'; row: Interaction }
  | { kind: 'tag_change'; row: ContactTagChange }
  | { kind: 'score'; row: ScoreLedger }
  | { kind: 'stage_change'; row: ContactStageChange }
);

export interface ReadRangeParams<T> {
  kind: TimelineKind;
  entity: EntityTarget<T>;
  /** The property holding the entry's time: (contact_id, <it>) is indexed, and the index ends in the primary key. */
  time: keyof T & string;
  contactId: number;
  before: TimelineCursor | undefined;
  limit: number;
}

export interface TimelineServiceDeps {
  dataSource: DataSource;
  contactsQuery: ContactsQueryService;
}

/**
 * A contact's timeline: what they did (interactions), what was done to their tags and by whom,
 * and their points, merged newest first. Each source answers at most limit + 1 rows after the
 * cursor from its (contact_id, time) index, so a page costs three short index ranges whatever
 * the contact's history; the rows are merged, the first `limit` kept, and the cursor names the
 * last one's (time, kind, id), which orders the three sources as one.
 */
export class TimelineService {
  constructor(private readonly deps: TimelineServiceDeps) {}

  /** Null when the contact does not exist or the reader may not see it. */
  async listTimeline(params: ListTimelineParams): Promise<TimelinePage | null> {
    const contact = await this.deps.contactsQuery.findVisibleContact(params.contactId, params.scope);
    if (!contact) return null;
    const kinds = new Set(params.kinds ?? TIMELINE_KINDS);
    const range = { contactId: contact.id, before: params.before, limit: params.limit + 1 };
    // One entry per source; a new source (a table of its own) is one line here and one kind above.
    const sources: Record<TimelineKind, () => Promise<SourceRow[]>> = {
      interaction: async () =>
        (await this.readRange({ ...range, kind: 'interaction', entity: Interaction, time: 'occurredAt' })).map((row) => ({
          kind: 'interaction',
          id: row.id,
          at: row.occurredAt,
          row,
        })),
      tag_change: async () =>
        (await this.readRange({ ...range, kind: 'tag_change', entity: ContactTagChange, time: 'at' })).map((row) => ({
          kind: 'tag_change',
          id: row.id,
          at: row.at,
          row,
        })),
      score: async () =>
        (await this.readRange({ ...range, kind: 'score', entity: ScoreLedger, time: 'createdAt' })).map((row) => ({
          kind: 'score',
          id: row.id,
          at: row.createdAt,
          row,
        })),
      stage_change: async () =>
        (await this.readRange({ ...range, kind: 'stage_change', entity: ContactStageChange, time: 'at' })).map((row) => ({
          kind: 'stage_change',
          id: row.id,
          at: row.at,
          row,
        })),
    };
    const read = await Promise.all(TIMELINE_KINDS.filter((kind) => kinds.has(kind)).map((kind) => sources[kind]()));
    const merged = read.flat().sort(compareNewestFirst);
    const page = merged.slice(0, params.limit);
    const last = page.at(-1);
    return {
      items: await this.describe(page),
      nextBefore: merged.length > params.limit && last ? formatTimelineCursor({ at: last.at, kind: last.kind, id: last.id }) : null,
    };
  }

  /**
   * What reached the contact's timeline since a live cursor (the sidebar polls it): each source's
   * rows with an id above the cursor's for that source, read ascending from the time the cursor
   * names, merged newest first. Ids, not times, decide what is new: a row written after the last
   * poll but stamped a little earlier (a callback's CreateTime, a reaction's late tag change) is
   * still new, and two rows of one millisecond are never lost or repeated. `more` says a source
   * had more than `limit` new rows: ask again at once with the new cursor. Null when the contact
   * does not exist or the reader may not see it.
   */
  async listTimelineAfter(params: ListTimelineAfterParams): Promise<LiveTimelinePage | null> {
    const contact = await this.deps.contactsQuery.findVisibleContact(params.contactId, params.scope);
    if (!contact) return null;
    const { after } = params;
    const range = { contactId: contact.id, since: after.since, limit: params.limit + 1 };
    const read: SourceRow[][] = await Promise.all([
      this.readNew({ ...range, entity: Interaction, time: 'occurredAt', afterId: after.ids.interaction }).then((rows) =>
        rows.map((row): SourceRow => ({ kind: 'interaction', id: row.id, at: row.occurredAt, row })),
      ),
      this.readNew({ ...range, entity: ContactTagChange, time: 'at', afterId: after.ids.tag_change }).then((rows) =>
        rows.map((row): SourceRow => ({ kind: 'tag_change', id: row.id, at: row.at, row })),
      ),
      this.readNew({ ...range, entity: ScoreLedger, time: 'createdAt', afterId: after.ids.score }).then((rows) =>
        rows.map((row): SourceRow => ({ kind: 'score', id: row.id, at: row.createdAt, row })),
      ),
      this.readNew({ ...range, entity: ContactStageChange, time: 'at', afterId: after.ids.stage_change }).then((rows) =>
        rows.map((row): SourceRow => ({ kind: 'stage_change', id: row.id, at: row.at, row })),
      ),
    ]);
    const ids = { ...after.ids };
    let more = false;
    const kept = read.flatMap((rows) => {
      if (rows.length > params.limit) more = true;
      const page = rows.slice(0, params.limit);
      const last = page.at(-1);
      if (last) ids[last.kind] = last.id;
      return page;
    });
    // The next poll reads from LIVE_WINDOW_MS before now: a row written later is found if it is
    // stamped no earlier than that (callbacks and reactions write within seconds of their time).
    const since = new Date(params.now.getTime() - LIVE_WINDOW_MS);
    return { items: await this.describe(kept.sort(compareNewestFirst)), after: formatLiveCursor({ since, ids }), more };
  }

  /** A live cursor for the contact's timeline as it is now: the newest id of each source in the window. */
  async liveCursorOf(contactId: number, now: Date): Promise<string> {
    const since = new Date(now.getTime() - LIVE_WINDOW_MS);
    const range = { contactId, since };
    const [interaction, tagChange, score, stageChange] = await Promise.all([
      this.maxIdSince({ ...range, entity: Interaction, time: 'occurredAt' }),
      this.maxIdSince({ ...range, entity: ContactTagChange, time: 'at' }),
      this.maxIdSince({ ...range, entity: ScoreLedger, time: 'createdAt' }),
      this.maxIdSince({ ...range, entity: ContactStageChange, time: 'at' }),
    ]);
    return formatLiveCursor({ since, ids: { interaction, tag_change: tagChange, score, stage_change: stageChange } });
  }

  /** The contact's rows of one source with an id above `afterId`, from `since` on: one range of its (contact_id, time) index. */
  private async readNew<T extends ObjectLiteral>(p: {
    entity: EntityTarget<T>;
    time: keyof T & string;
    contactId: number;
    since: Date;
    afterId: number;
    limit: number;
  }): Promise<T[]> {
    return this.deps.dataSource
      .getRepository(p.entity)
      .createQueryBuilder('r')
      .where('r.contactId = :contactId', { contactId: p.contactId })
      .andWhere(`r.${p.time} >= :since`, { since: p.since })
      .andWhere('r.id > :afterId', { afterId: p.afterId })
      .orderBy('r.id', 'ASC')
      .limit(p.limit)
      .getMany();
  }

  private async maxIdSince<T extends ObjectLiteral>(p: {
    entity: EntityTarget<T>;
    time: keyof T & string;
    contactId: number;
    since: Date;
  }) {
    const row = await this.deps.dataSource
      .getRepository(p.entity)
      .createQueryBuilder('r')
      .select('MAX(r.id)', 'id')
      .where('r.contactId = :contactId', { contactId: p.contactId })
      .andWhere(`r.${p.time} >= :since`, { since: p.since })
      .getRawOne<{ id: number | string | null }>();
    return Number(row?.id ?? 0);
  }

  private async readRange<T extends ObjectLiteral>(p: ReadRangeParams<T>): Promise<T[]> {
    return buildSourceQuery(this.deps.dataSource, p).getMany();
  }

  /** The page's rows as the API answers them, with the tags', operators' and rules' names (one query each). */
  private async describe(page: SourceRow[]): Promise<TimelineItem[]> {
    const changes = page.flatMap((r) => (r.kind === 'tag_change' ? [r.row] : []));
    const ledger = page.flatMap((r) => (r.kind === 'score' ? [r.row] : []));
    const groups = await this.loadTagGroups(changes.map((c) => c.tagId));
    const stages = page.flatMap((r) => (r.kind === 'stage_change' ? [r.row] : []));
    const operators = await this.loadOperatorNames([
      ...changes.flatMap((c) => (c.actorKind === 'operator' && c.actorId !== null ? [c.actorId] : [])),
      ...stages.flatMap((c) => (c.actorKind === 'operator' && c.actorId !== null ? [c.actorId] : [])),
    ]);
    const rules = await this.loadRuleNames(ledger.flatMap((l) => (l.ruleId === null ? [] : [l.ruleId])));
    return page.map((entry): TimelineItem => {
      if (entry.kind === 'interaction') {
        const row = entry.row;
        return {
          kind: 'interaction',
          id: row.id,
          type: row.type,
          channel: row.channel,
          direction: row.direction,
          at: row.occurredAt.toISOString(),
          detail: row.detail,
        };
      }
      if (entry.kind === 'tag_change') {
        const row = entry.row;
        const current = groups.get(row.tagId);
        return {
          kind: 'tag_change',
          id: row.id,
          at: row.at.toISOString(),
          op: row.op,
          tag: { id: row.tagId, group: current?.group ?? null, name: current?.name ?? row.tagName },
          actor: actorOf(row.actorKind, row.actorId, row.actorName, operators),
          cause: row.cause,
          interactionId: row.interactionId,
        };
      }
      if (entry.kind === 'stage_change') {
        const row = entry.row;
        return {
          kind: 'stage_change',
          id: row.id,
          at: row.at.toISOString(),
          from: row.fromStage,
          to: row.toStage,
          actor: actorOf(row.actorKind, row.actorId, row.actorName, operators),
          interactionId: row.interactionId,
        };
      }
      const row = entry.row;
      return {
        kind: 'score',
        id: row.id,
        at: row.createdAt.toISOString(),
        points: row.points,
        reason: row.reason,
        // Points come from rules only today; a ledger entry with no rule was given by Flywheel itself.
        actor: row.ruleId === null ? { kind: 'system' } : { kind: 'rule', id: row.ruleId, name: rules.get(row.ruleId) ?? null },
        interactionId: row.interactionId,
      };
    });
  }

  private async loadTagGroups(tagIds: number[]): Promise<Map<number, { group: string; name: string }>> {
    const byId = new Map<number, { group: string; name: string }>();
    if (tagIds.length === 0) return byId;
    const rows = await this.deps.dataSource
      .getRepository(Tag)
      .createQueryBuilder('t')
      .innerJoin(TagGroup, 'g', 'g.id = t.groupId')
      .select('t.id', 'id')
      .addSelect('t.name', 'name')
      .addSelect('g.name', 'group')
      .where('t.id IN (:...ids)', { ids: [...new Set(tagIds)] })
      .getRawMany<{ id: number | string; name: string; group: string }>();
    for (const row of rows) byId.set(Number(row.id), { group: row.group, name: row.name });
    return byId;
  }

  private async loadOperatorNames(ids: number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.deps.dataSource.manager.find(Operator, {
      where: { id: In([...new Set(ids)]) },
      select: { id: true, username: true, displayName: true },
    });
    return new Map(rows.map((o) => [o.id, o.displayName ?? o.username]));
  }

  private async loadRuleNames(ids: number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.deps.dataSource.manager.find(TagRule, {
      where: { id: In([...new Set(ids)]) },
      select: { id: true, name: true },
    });
    return new Map(rows.map((r) => [r.id, r.name]));
  }
}

/**
 * Up to `limit` of the contact's rows of one source after the cursor, newest first: one range of
 * the source's (contact_id, time) index, read backwards and stopped by the LIMIT however deep the
 * page (exported for the test that checks the plan on both databases).
 */
export function buildSourceQuery<T extends ObjectLiteral>(dataSource: DataSource, p: ReadRangeParams<T>): SelectQueryBuilder<T> {
  const time = `r.${p.time}`;
  const query = dataSource.getRepository(p.entity).createQueryBuilder('r').where('r.contactId = :contactId', { contactId: p.contactId });
  const before = p.before;
  if (before) {
    const rank = TIMELINE_KINDS.indexOf(p.kind);
    const cursorRank = before.kind === undefined ? -1 : TIMELINE_KINDS.indexOf(before.kind);
    // Same time as the cursor: a source ranked below the cursor's comes after it whole, the
    // cursor's own source after its id, a source ranked above not at all.
    if (before.kind !== undefined && rank < cursorRank) query.andWhere(`${time} <= :at`, { at: before.at });
    else if (rank === cursorRank && before.id !== undefined)
      // Written with `<=` first so that SQLite too reads the index range from the cursor's time
      // (with the OR alone it walks the contact's newer rows from the top).
      query.andWhere(`${time} <= :at AND (${time} < :at OR r.id < :id)`, { at: before.at, id: before.id });
    else query.andWhere(`${time} < :at`, { at: before.at });
  }
  return query.orderBy(time, 'DESC').addOrderBy('r.id', 'DESC').limit(p.limit);
}

/** (time, kind, id) descending: the one order of the merged timeline and its cursor. */
function compareNewestFirst(a: SourceRow, b: SourceRow): number {
  return b.at.getTime() - a.at.getTime() || TIMELINE_KINDS.indexOf(b.kind) - TIMELINE_KINDS.indexOf(a.kind) || b.id - a.id;
}

function actorOf(
  kind: TagChangeActorKind | StageChangeActorKind,
  id: number | null,
  name: string | null,
  operators: Map<number, string>,
): TimelineActor {
  switch (kind) {
    case 'operator':
      return { kind: 'operator', id, name: id === null ? null : (operators.get(id) ?? null) };
    case 'rule':
      return { kind: 'rule', id, name };
    case 'platform':
      return { kind: 'platform', name: name ?? '' };
    case 'journey':
      return { kind: 'journey', id, name };
    case 'system':
      return { kind: 'system' };
  }
}

const KIND_CODES: Record<TimelineKind, string> = { interaction: 'i', tag_change: 't', score: 's', stage_change: 'g' };

/** `nextBefore` as handed to clients: `<ISO time>_<kind code>_<id>`, e.g. `2026-11-21T10:00:00.123Z_t_42`. */
export function formatTimelineCursor(cursor: Required<TimelineCursor>): string {
  return `${cursor.at.toISOString()}_${KIND_CODES[cursor.kind]}_${cursor.id}`;
}

/**
 * Accepts a `nextBefore` cursor, the interaction-only cursor of earlier releases
 * (`<ISO time>_<interaction id>`), or a bare ISO time; null when it is none of them.
 */
export function parseTimelineCursor(text: string): TimelineCursor | null {
  const parts = text.split('_');
  if (parts.length > 3) return null;
  const [time] = parts;
  const at = new Date(time);
  if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(time)) return null;
  if (parts.length === 1) return { at };
  const id = parts.at(-1) ?? '';
  if (!/^\d{1,10}$/.test(id)) return null;
  if (parts.length === 2) return { at, kind: 'interaction', id: Number(id) };
  const kind = TIMELINE_KINDS.find((k) => KIND_CODES[k] === parts[1]);
  return kind === undefined ? null : { at, kind, id: Number(id) };
}

/** `after` as handed to clients: `<since ms>_<interaction id>_<tag change id>_<score id>_<stage change id>`. */
export function formatLiveCursor(cursor: LiveCursor): string {
  return [cursor.since.getTime(), ...TIMELINE_KINDS.map((kind) => cursor.ids[kind])].join('_');
}

/** A live cursor, or null when the text is not one. */
export function parseLiveCursor(text: string): LiveCursor | null {
  const match = /^(\d{1,15})_(\d{1,10})_(\d{1,10})_(\d{1,10})_(\d{1,10})$/.exec(text);
  if (!match) return null;
  const [, since, interaction, tagChange, score, stageChange] = match.map(Number);
  return {
    since: new Date(since),
    ids: { interaction, tag_change: tagChange, score, stage_change: stageChange },
  };
}
