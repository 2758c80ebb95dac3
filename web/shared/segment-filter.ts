import { z } from 'zod';

/**
 * The segment filter: a JSON tree of `and` / `or` groups and conditions, the one format the
 * segment builder writes, the server compiles to SQL (server/modules/segments/filter-compiler.ts)
 * and journeys' conditions reuse. One pure module read by the server (validation) and the page
 * (types), like field-rules.ts. docs/ARCHITECTURE.md "Segment filters" describes it.
 */

/** AARRR stages, as entities/contact.entity.ts (repeated: the page cannot import entities). */
export const FILTER_STAGES = ['acquired', 'activated', 'retained', 'revenue', 'referral'] as const;

/** The tag rules' matchers on an interaction's detail (entities/tag-rule.entity.ts without `any`). */
export const FILTER_MATCH_KINDS = ['keyword_exact', 'keyword_contains', 'scene', 'menu_key', 'event_id'] as const;

/** The interaction type a journey's tracked link records on a click; journeys write it with ref {type:'journey', id}. */
export const LINK_CLICKED_TYPE = 'link_clicked';

/** Timeline events of membership (server/modules/segments): outbound, channel `system`. */
export const SEGMENT_ENTERED_TYPE = 'segment_entered';
export const SEGMENT_EXITED_TYPE = 'segment_exited';

/** Deeper trees are not something an operator builds; a bound keeps the SQL and the page small. */
export const MAX_FILTER_DEPTH = 5;
export const MAX_FILTER_CONDITIONS = 50;
/** "In the last D days" reaches back two years at most (interactions are kept that long in practice). */
export const MAX_FILTER_DAYS = 730;

const tagIds = z.array(z.number().int().positive()).min(1).max(100);
const days = z.number().int().min(1).max(MAX_FILTER_DAYS);
const isoTime = z.iso.datetime({ offset: true });
const interactionType = z.string().trim().min(1).max(48);
const matcher = z.strictObject({ kind: z.enum(FILTER_MATCH_KINDS), value: z.string().trim().min(1).max(255) });

const conditionSchemas = [
  z.strictObject({ kind: z.literal('tags'), match: z.enum(['all', 'any', 'none']), tagIds }),
  z.strictObject({ kind: z.literal('score'), min: z.number().int().optional(), max: z.number().int().optional() }),
  z.strictObject({ kind: z.literal('stage'), stages: z.array(z.enum(FILTER_STAGES)).min(1).max(FILTER_STAGES.length) }),
  z.strictObject({ kind: z.literal('source'), which: z.enum(['first', 'last']), prefix: z.string().trim().min(1).max(128) }),
  z.strictObject({ kind: z.literal('hasPhone'), value: z.boolean() }),
  z.strictObject({ kind: z.literal('followsOa'), value: z.boolean() }),
  z.strictObject({ kind: z.literal('created'), from: isoTime.optional(), to: isoTime.optional() }),
  z.strictObject({ kind: z.literal('lastInteraction'), from: isoTime.optional(), to: isoTime.optional() }),
  z.strictObject({ kind: z.literal('activeWithin'), days }),
  z.strictObject({ kind: z.literal('silentFor'), days }),
  z.strictObject({
    kind: z.literal('did'),
    type: interactionType,
    matcher: matcher.optional(),
    atLeast: z.number().int().min(1).max(1000).default(1),
    days,
  }),
  z.strictObject({ kind: z.literal('didNot'), type: interactionType, matcher: matcher.optional(), days }),
  z.strictObject({ kind: z.literal('clickedJourney'), journeyId: z.string().trim().min(1).max(64), days: days.optional() }),
  z.strictObject({ kind: z.literal('inSegment'), segmentId: z.number().int().positive() }),
] as const;

export type FilterCondition = z.output<(typeof conditionSchemas)[number]>;
export type FilterGroup = { kind: 'and' | 'or'; conditions: FilterNode[] };
export type FilterNode = FilterGroup | FilterCondition;
export type FilterConditionKind = FilterCondition['kind'];

/** What a client sends: `atLeast` may be left out (1). */
export type FilterNodeInput = FilterGroupInput | z.input<(typeof conditionSchemas)[number]>;
export type FilterGroupInput = { kind: 'and' | 'or'; conditions: FilterNodeInput[] };

const groupSchema: z.ZodType<FilterGroup, FilterGroupInput> = z.strictObject({
  kind: z.enum(['and', 'or']),
  get conditions() {
    return z.array(nodeSchema).min(1).max(MAX_FILTER_CONDITIONS);
  },
});

const nodeSchema: z.ZodType<FilterNode, FilterNodeInput> = z.lazy(() =>
  z.discriminatedUnion('kind', [groupSchema as never, ...conditionSchemas]),
);

/**
 * The filter as the API takes it, with the rules that span fields: a score range needs a bound and
 * min ≤ max (`score_range`), a time range a bound and from ≤ to (`time_range`), the tree at most
 * MAX_FILTER_DEPTH deep (`filter_depth`) and MAX_FILTER_CONDITIONS conditions (`filter_size`).
 * Issues name the path (`filter.conditions.1.max`).
 */
export const segmentFilterSchema = nodeSchema.superRefine((root, ctx) => {
  let count = 0;
  const walk = (node: FilterNode, path: (string | number)[], depth: number) => {
    if (node.kind === 'and' || node.kind === 'or') {
      if (depth > MAX_FILTER_DEPTH)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `Groups nest at most ${MAX_FILTER_DEPTH} deep`,
          params: { code: 'filter_depth', max: MAX_FILTER_DEPTH },
        });
      node.conditions.forEach((child, i) => walk(child, [...path, 'conditions', i], depth + 1));
      return;
    }
    count += 1;
    if (node.kind === 'score') {
      if (node.min === undefined && node.max === undefined)
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'min'],
          message: 'Give a lowest or a highest score',
          params: { code: 'range_bound' },
        });
      if (node.min !== undefined && node.max !== undefined && node.max < node.min)
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'max'],
          message: 'The highest score is below the lowest',
          params: { code: 'score_range', min: node.min, max: node.max },
        });
    }
    if (node.kind === 'created' || node.kind === 'lastInteraction') {
      if (node.from === undefined && node.to === undefined)
        ctx.addIssue({ code: 'custom', path: [...path, 'from'], message: 'Give a start or an end', params: { code: 'range_bound' } });
      if (node.from !== undefined && node.to !== undefined && Date.parse(node.to) < Date.parse(node.from))
        ctx.addIssue({ code: 'custom', path: [...path, 'to'], message: 'The end is before the start', params: { code: 'time_range' } });
    }
  };
  walk(root, [], 1);
  if (count > MAX_FILTER_CONDITIONS)
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: `At most ${MAX_FILTER_CONDITIONS} conditions`,
      params: { code: 'filter_size', max: MAX_FILTER_CONDITIONS },
    });
});

export function isFilterGroup(node: FilterNode): node is FilterGroup {
  return node.kind === 'and' || node.kind === 'or';
}

/** Every condition of the tree, depth first. */
export function conditionsOf(node: FilterNode): FilterCondition[] {
  return isFilterGroup(node) ? node.conditions.flatMap(conditionsOf) : [node];
}

/** The saved segments a filter reads (inSegment). */
export function referencedSegmentIds(node: FilterNode): number[] {
  return [...new Set(conditionsOf(node).flatMap((c) => (c.kind === 'inSegment' ? [c.segmentId] : [])))];
}

/**
 * Whether the filter's result moves with time alone ("in the last D days" and the like), or with
 * another segment's membership, so a schedule must refresh it: no interaction marks the moment a
 * contact stops having done X in the last 7 days.
 */
export function isTimeRelative(node: FilterNode): boolean {
  return conditionsOf(node).some(
    (c) =>
      ['activeWithin', 'silentFor', 'did', 'didNot', 'inSegment'].includes(c.kind) || (c.kind === 'clickedJourney' && c.days !== undefined),
  );
}
