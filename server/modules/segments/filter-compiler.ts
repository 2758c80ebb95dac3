import { toSqlDate } from '../../db/sql';
import { MATCHER_FIELDS } from '../../../web/shared/interaction-types';
import { isFilterGroup, LINK_CLICKED_TYPE, type FilterCondition, type FilterNode } from '../../../web/shared/segment-filter';

/**
 * The one filter compiler: a segment filter (web/shared/segment-filter.ts) becomes one
 * parameterised SQL condition over `contacts c`, for the contact list, segment counts and
 * membership, and journeys' conditions. Pure: the caller runs it, so the same text serves a count,
 * a page, a set-based membership refresh and "which of these ids match".
 *
 * How conditions read the big tables:
 * - a positive condition on interactions or tags ("did X at least N times in D days", a tag, a
 *   journey's click, a segment) is an uncorrelated `c.id IN (SELECT contact_id ...)`: a semi-join
 *   the planner may drive from the (type, occurred_at, contact_id) index (a count over a million
 *   contacts) or probe per contact (one contact, a batch of ids), whichever is cheaper;
 * - a negative one ("did not do X in D days", none of these tags) is a `NOT EXISTS` probe of the
 *   contact's own index range ((contact_id, type, occurred_at), the tags' unique (contact_id, tag_id)),
 *   since contacts who did nothing are not in any index of interactions.
 * Relative times are computed from `now`, the injected clock's, so a sandbox clock skip and a
 * test's manual clock move them; nothing reads the database's NOW().
 */
export interface CompileFilterParams {
  filter: FilterNode;
  now: Date;
  /** JSON in the detail is read with JSON_VALUE on MySQL/MariaDB, json_extract on SQLite. */
  mysql: boolean;
}

export interface CompiledFilter {
  /** A condition on `c` (contacts), to AND with the caller's own (`c.merged_into_id IS NULL` ...). */
  sql: string;
  params: unknown[];
}

const DAY_MS = 86_400_000;

export function compileFilter(params: CompileFilterParams): CompiledFilter {
  const out: unknown[] = [];
  const sql = compileNode(params.filter, { now: params.now.getTime(), mysql: params.mysql, params: out });
  return { sql, params: out };
}

interface CompileState {
  now: number;
  mysql: boolean;
  params: unknown[];
}

function compileNode(node: FilterNode, s: CompileState): string {
  if (isFilterGroup(node)) {
    const parts = node.conditions.map((child) => compileNode(child, s));
    return parts.length === 1 ? parts[0] : `(${parts.join(node.kind === 'and' ? ' AND ' : ' OR ')})`;
  }
  return compileCondition(node, s);
}

function compileCondition(c: FilterCondition, s: CompileState): string {
  const bind = (...values: unknown[]) => {
    s.params.push(...values);
    return values.map(() => '?').join(',');
  };
  const since = (days: number) => toSqlDate(new Date(s.now - days * DAY_MS));
  switch (c.kind) {
    case 'tags':
      if (c.match === 'any') return `c.id IN (SELECT ct.contact_id FROM contact_tags ct WHERE ct.tag_id IN (${bind(...c.tagIds)}))`;
      if (c.match === 'none')
        return `NOT EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id IN (${bind(...c.tagIds)}))`;
      // All: one semi-join per tag, each a range of (tag_id, contact_id).
      return `(${c.tagIds.map((id) => `c.id IN (SELECT ct.contact_id FROM contact_tags ct WHERE ct.tag_id = ${bind(id)})`).join(' AND ')})`;
    case 'score': {
      const parts: string[] = [];
      if (c.min !== undefined) parts.push(`c.score >= ${bind(c.min)}`);
      if (c.max !== undefined) parts.push(`c.score <= ${bind(c.max)}`);
      return parts.length === 1 ? parts[0] : `(${parts.join(' AND ')})`;
    }
    case 'stage':
      return `c.stage IN (${bind(...c.stages)})`;
    case 'source':
      return `c.${c.which === 'first' ? 'first_source' : 'last_source'} LIKE ${bind(`${escapeLike(c.prefix)}%`)} ESCAPE '!'`;
    case 'hasPhone': {
      // The operator's typed number or a verified phone identity (both are "we can call them").
      const has = "(c.phone IS NOT NULL OR EXISTS (SELECT 1 FROM contact_identities ci WHERE ci.contact_id = c.id AND ci.kind = 'phone'))";
      return c.value ? has : `NOT ${has}`;
    }
    case 'followsOa': {
      // An Official Account openid and no unsubscribe without a later subscribe: the newest of the
      // two decides, an unsubscribe winning a tie, as the contact list shows it.
      const follows =
        "(EXISTS (SELECT 1 FROM contact_identities ci WHERE ci.contact_id = c.id AND ci.kind = 'oa_openid') AND NOT EXISTS (" +
        "SELECT 1 FROM interactions u WHERE u.contact_id = c.id AND u.type = 'unsubscribe' AND NOT EXISTS (" +
        "SELECT 1 FROM interactions sub WHERE sub.contact_id = c.id AND sub.type = 'subscribe' AND sub.occurred_at > u.occurred_at)))";
      return c.value ? follows : `NOT ${follows}`;
    }
    case 'created':
    case 'lastInteraction': {
      const column = c.kind === 'created' ? 'c.created_at' : 'c.last_interaction_at';
      const parts: string[] = [];
      if (c.from !== undefined) parts.push(`${column} >= ${bind(toSqlDate(new Date(c.from)))}`);
      if (c.to !== undefined) parts.push(`${column} <= ${bind(toSqlDate(new Date(c.to)))}`);
      return parts.length === 1 ? parts[0] : `(${parts.join(' AND ')})`;
    }
    case 'activeWithin':
      return `c.last_interaction_at >= ${bind(since(c.days))}`;
    case 'silentFor':
      return `(c.last_interaction_at < ${bind(since(c.days))} OR c.last_interaction_at IS NULL)`;
    case 'did': {
      const did = () => `i.type = ${bind(c.type)} AND i.occurred_at >= ${bind(since(c.days))}${matcherSql(c.matcher, s, bind)}`;
      const once = `c.id IN (SELECT i.contact_id FROM interactions i WHERE ${did()})`;
      if (c.atLeast <= 1) return once;
      // At least N: the semi-join narrows first (whichever way the planner drives it), then the
      // contact's own index range is counted for the few left. A GROUP BY ... HAVING subquery
      // instead made MariaDB group every matching interaction of the period into a temporary
      // table, whatever the other conditions (bench:segments).
      return `(${once} AND (SELECT COUNT(*) FROM interactions i WHERE i.contact_id = c.id AND ${did()}) >= ${bind(c.atLeast)})`;
    }
    case 'didNot':
      return (
        `NOT EXISTS (SELECT 1 FROM interactions i WHERE i.contact_id = c.id AND i.type = ${bind(c.type)} ` +
        `AND i.occurred_at >= ${bind(since(c.days))}${matcherSql(c.matcher, s, bind)})`
      );
    case 'clickedJourney': {
      // Placeholders bind in the order they are written: the time bound comes last.
      const head = `c.id IN (SELECT i.contact_id FROM interactions i WHERE i.ref_type = 'journey' AND i.ref_id = ${bind(c.journeyId)} `;
      const type = `AND i.type = ${bind(LINK_CLICKED_TYPE)}`;
      return `${head}${type}${c.days === undefined ? '' : ` AND i.occurred_at >= ${bind(since(c.days))}`})`;
    }
    case 'inSegment':
      return `c.id IN (SELECT sm.contact_id FROM segment_members sm WHERE sm.segment_id = ${bind(c.segmentId)})`;
  }
}

/** The tag rules' matchers (tag-rules.engine.ts matchRule) as SQL on `i.detail`. */
function matcherSql(
  matcher: Extract<FilterCondition, { kind: 'did' }>['matcher'],
  s: CompileState,
  bind: (...values: unknown[]) => string,
): string {
  if (!matcher) return '';
  const path = `'$.${MATCHER_FIELDS[matcher.kind]}'`;
  // JSON_VALUE gives the unquoted text; SQLite's json_extract gives a number for a number, so it is
  // cast to compare as text the way matchRule's String(value) does.
  const field = s.mysql ? `JSON_VALUE(i.detail, ${path})` : `CAST(json_extract(i.detail, ${path}) AS TEXT)`;
  // Exact comparisons are case-sensitive like matchRule's; MariaDB's default collation is not.
  const exact = s.mysql ? ' COLLATE utf8mb4_bin' : '';
  switch (matcher.kind) {
    case 'keyword_exact':
      return ` AND LOWER(TRIM(${field})) = ${bind(matcher.value.trim().toLowerCase())}`;
    case 'keyword_contains':
      return ` AND LOWER(${field}) LIKE ${bind(`%${escapeLike(matcher.value.toLowerCase())}%`)} ESCAPE '!'`;
    case 'scene':
      return matcher.value === '*' ? ` AND ${field} <> ''` : ` AND ${field}${exact} = ${bind(matcher.value)}`;
    case 'menu_key':
    case 'event_id':
    case 'content_id':
      return ` AND ${field}${exact} = ${bind(matcher.value)}`;
    case 'satisfaction_at_most':
    case 'satisfaction_at_least': {
      // As matchRule compares: the rating as a number (a value that is none matches nothing).
      const rating = s.mysql ? `CAST(JSON_VALUE(i.detail, ${path}) AS DECIMAL(10, 2))` : `CAST(json_extract(i.detail, ${path}) AS REAL)`;
      return ` AND ${rating} ${matcher.kind === 'satisfaction_at_most' ? '<=' : '>='} ${bind(Number(matcher.value))}`;
    }
  }
}

/** '!' escapes LIKE wildcards the same way on SQLite and MySQL (MySQL's default is '\\'). */
export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (ch) => `!${ch}`);
}
