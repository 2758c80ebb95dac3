import { z } from 'zod';
import { LIFECYCLE_STAGES } from '../../../entities/contact.entity';
import { OUTBOX_CHANNELS } from '../../../entities/outbox-message.entity';
import { RULE_MATCH_KINDS } from '../../../entities/tag-rule.entity';

/**
 * A journey's definition: versioned JSON, validated on save. Pure (no database), so the routes, the
 * templates' tests and the engine read one shape. Edges live on the nodes (`next`, `then`/`else`,
 * `branches`, `opened`/`timeout`); `position` is the node's place on the page's graph.
 */

export { JOURNEY_RULE_CODES, type JourneyRuleCode } from './journey-rule-codes';

const nodeId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (at most 64)');
const tagRef = z.strictObject({ group: z.string().trim().min(1).max(64), name: z.string().trim().min(1).max(64) });
const position = z.strictObject({ x: z.number(), y: z.number() }).optional();
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');

/** "Did this": an interaction type with the tag rules' matcher (server/modules/tag-rules). */
export const interactionMatcherSchema = z.strictObject({
  type: z.string().min(1).max(48),
  matchKind: z.enum(RULE_MATCH_KINDS).default('any'),
  matchValue: z.string().max(255).nullable().optional(),
});
export type InteractionMatcher = z.output<typeof interactionMatcherSchema>;

export const entrySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('manual') }),
  z.strictObject({ kind: z.literal('interaction'), matcher: interactionMatcherSchema }),
  z.strictObject({ kind: z.literal('segment_entered'), segmentId: z.number().int().positive() }),
  // Once a day at `time` in the business time zone, every member of the segment (through the segments port).
  z.strictObject({ kind: z.literal('schedule'), segmentId: z.number().int().positive(), time: timeOfDay }),
]);

const CHANNELS_REACHED = ['oa', 'mp', 'wecom', 'sms'] as const;

export type Condition =
  | { kind: 'tags'; all?: TagRefInput[]; any?: TagRefInput[]; none?: TagRefInput[] }
  | { kind: 'score'; min?: number; max?: number }
  | { kind: 'stage'; in: (typeof LIFECYCLE_STAGES)[number][] }
  | { kind: 'attribute'; field: (typeof ATTRIBUTE_FIELDS)[number]; op: 'set' | 'unset' | 'eq'; value?: string }
  | { kind: 'opened'; node: string }
  | { kind: 'channel_reached'; channel: (typeof CHANNELS_REACHED)[number] }
  | { kind: 'segment'; segmentId: number }
  | { kind: 'all'; of: Condition[] }
  | { kind: 'any'; of: Condition[] }
  | { kind: 'not'; of: Condition };
type TagRefInput = z.output<typeof tagRef>;

/** Contact columns a condition may test (a contact has no free-form attributes yet). */
export const ATTRIBUTE_FIELDS = ['phone', 'remark', 'name', 'firstSource', 'lastSource', 'ownerUserId'] as const;

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('tags'),
      all: z.array(tagRef).max(20).optional(),
      any: z.array(tagRef).max(20).optional(),
      none: z.array(tagRef).max(20).optional(),
    }),
    z.strictObject({ kind: z.literal('score'), min: z.number().int().optional(), max: z.number().int().optional() }),
    z.strictObject({ kind: z.literal('stage'), in: z.array(z.enum(LIFECYCLE_STAGES)).min(1) }),
    z.strictObject({
      kind: z.literal('attribute'),
      field: z.enum(ATTRIBUTE_FIELDS),
      op: z.enum(['set', 'unset', 'eq']),
      value: z.string().max(255).optional(),
    }),
    z.strictObject({ kind: z.literal('opened'), node: nodeId }),
    z.strictObject({ kind: z.literal('channel_reached'), channel: z.enum(CHANNELS_REACHED) }),
    z.strictObject({ kind: z.literal('segment'), segmentId: z.number().int().positive() }),
    z.strictObject({ kind: z.literal('all'), of: z.array(conditionSchema).min(1).max(20) }),
    z.strictObject({ kind: z.literal('any'), of: z.array(conditionSchema).min(1).max(20) }),
    z.strictObject({ kind: z.literal('not'), of: conditionSchema }),
  ]),
);

export const SEND_CHANNELS = [...OUTBOX_CHANNELS, 'preferred'] as const;
const templateData = z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), z.string().max(200));

const waitNode = z.strictObject({
  id: nodeId,
  type: z.literal('wait'),
  position,
  /**
   * `duration`: seconds; `until_time`: the next HH:MM in the contact's own time zone (contacts.time_zone),
   * else in `timezone`, else in the business zone; `until_opened`: an open of `node`'s message, or `timeoutSeconds`.
   */
  mode: z.enum(['duration', 'until_time', 'until_opened']),
  seconds: z
    .number()
    .int()
    .min(1)
    .max(366 * 86_400)
    .optional(),
  time: timeOfDay.optional(),
  timezone: z.string().min(1).max(64).optional(),
  node: nodeId.optional(),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(366 * 86_400)
    .optional(),
  next: nodeId.optional(),
  opened: nodeId.optional(),
  timeout: nodeId.optional(),
});
const conditionNode = z.strictObject({
  id: nodeId,
  type: z.literal('condition'),
  position,
  condition: conditionSchema,
  then: nodeId,
  else: nodeId,
});
const splitNode = z.strictObject({
  id: nodeId,
  type: z.literal('split'),
  position,
  branches: z
    .array(z.strictObject({ weight: z.number().int().min(0).max(10_000), next: nodeId }))
    .min(1)
    .max(10),
  /** Per cent of contacts held out (they exit with outcome `holdout`, counted for comparison). */
  holdoutPercent: z.number().int().min(0).max(100).default(0),
});
const sendNode = z.strictObject({
  id: nodeId,
  type: z.literal('send'),
  position,
  channel: z.enum(SEND_CHANNELS),
  /** For `preferred`: the channel when the contact never opened anything (default oa_template). */
  fallback: z.enum(OUTBOX_CHANNELS).optional(),
  /** A template (oa_template, oa_subscribe, mp_subscribe) or an SMS template id. */
  templateId: z.string().trim().min(1).max(128).optional(),
  /** The SMS template for `preferred`/fallback sends that may land on SMS. */
  smsTemplateId: z.string().trim().min(1).max(64).optional(),
  data: templateData.optional(),
  /** WeCom and customer-service text. */
  text: z.string().max(1000).optional(),
  /** Where the message leads: sent as a tracked link (`/r/<code>`). */
  url: z
    .string()
    .url()
    .max(1000)
    .regex(/^https?:\/\//, 'http or https')
    .optional(),
  /**
   * mp_subscribe only: the mini-program page the message opens ("点击模板卡片后的跳转页面，仅限本小程序
   * 内的页面。支持带参数，（示例index?foo=bar）"): a path, never a web URL, which subscribe/send has
   * no field for (a `url` on an mp_subscribe node is refused).
   * @link https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
   */
  page: z
    .string()
    .trim()
    .min(1)
    .max(512)
    .regex(/^(?![a-z][a-z0-9+.-]*:)[^\s]+$/i, 'a mini-program page path such as pages/event/index?id=1, not a URL')
    .optional(),
  /** mp_subscribe only: which build opens ("developer为开发版；trial为体验版；formal为正式版；默认为正式版"). */
  miniprogramState: z.enum(['developer', 'trial', 'formal']).optional(),
  /** mp_subscribe only: the language of "进入小程序查看" (default zh_CN). */
  lang: z.enum(['zh_CN', 'en_US', 'zh_HK', 'zh_TW']).optional(),
  purpose: z.enum(['marketing', 'transactional']).default('marketing'),
  next: nodeId.optional(),
});
const actionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('add_tags'), tags: z.array(tagRef).min(1).max(20) }),
  z.strictObject({ kind: z.literal('remove_tags'), tags: z.array(tagRef).min(1).max(20) }),
  z.strictObject({ kind: z.literal('add_score'), points: z.number().int().min(-10_000).max(10_000) }),
  z.strictObject({ kind: z.literal('set_stage'), stage: z.enum(LIFECYCLE_STAGES) }),
  z.strictObject({ kind: z.literal('assign_sales') }),
  z.strictObject({ kind: z.literal('set_preferred_channel'), channel: z.enum(OUTBOX_CHANNELS) }),
  z.strictObject({ kind: z.literal('enter_journey'), journey: z.string().trim().min(1).max(64) }),
]);
const actionNode = z.strictObject({
  id: nodeId,
  type: z.literal('action'),
  position,
  actions: z.array(actionSchema).min(1).max(20),
  next: nodeId.optional(),
});
const exitNode = z.strictObject({ id: nodeId, type: z.literal('exit'), position });

export const nodeSchema = z.discriminatedUnion('type', [waitNode, conditionNode, splitNode, sendNode, actionNode, exitNode]);

export const definitionSchema = z.strictObject({
  entry: entrySchema,
  reentry: z.enum(['never', 'after_exit', 'always']).default('after_exit'),
  start: nodeId,
  /** The conversion: an interaction that ends the contact's run as `converted`, wherever it is. */
  goal: interactionMatcherSchema.nullable().optional(),
  nodes: z.array(nodeSchema).min(1).max(200),
});

export type JourneyDefinition = z.output<typeof definitionSchema>;
export type JourneyNode = JourneyDefinition['nodes'][number];
export type SendNode = Extract<JourneyNode, { type: 'send' }>;
export type WaitNode = Extract<JourneyNode, { type: 'wait' }>;
export type JourneyAction = z.output<typeof actionSchema>;
export type ReentryPolicy = JourneyDefinition['reentry'];

/** One refused field, as validate-input's InputIssue: the node's path and the rule. */
export interface DefinitionIssue {
  path: string;
  code: string;
  message: string;
  params?: Record<string, string | number>;
}

export type DefinitionResult = { ok: true; definition: JourneyDefinition } | { ok: false; issues: DefinitionIssue[] };

const TEMPLATE_CHANNELS = new Set(['oa_template', 'oa_subscribe', 'mp_subscribe', 'sms']);

/**
 * Parses and checks a definition: the shape (zod), then the graph. Every message names the node
 * (`nodes.3.next`, with the node's id in params) and the field.
 */
export function validateDefinition(input: unknown): DefinitionResult {
  const parsed = definitionSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => {
        const path = issue.path.map(String).join('.');
        const node = nodeAt(input, issue.path);
        return { path, code: issue.code, message: issue.message, ...(node ? { params: { node } } : {}) };
      }),
    };
  }
  const definition = parsed.data;
  const issues: DefinitionIssue[] = [];
  const index = new Map<string, number>();
  definition.nodes.forEach((node, i) => {
    if (index.has(node.id)) issues.push(issue(`nodes.${i}.id`, 'journey_duplicate_node', `node "${node.id}" is defined twice`, node.id));
    else index.set(node.id, i);
  });
  const known = (id: string | undefined) => id === undefined || index.has(id);
  if (!index.has(definition.start)) issues.push(issue('start', 'journey_unknown_node', `no node "${definition.start}"`, definition.start));

  definition.nodes.forEach((node, i) => {
    const at = (field: string) => `nodes.${i}.${field}`;
    for (const [field, target] of edgesOf(node))
      if (!known(target))
        issues.push(issue(at(field), 'journey_unknown_node', `node "${node.id}": ${field} names no node "${target}"`, node.id));
    if (node.type === 'send') {
      const channel = node.channel === 'preferred' ? (node.fallback ?? 'oa_template') : node.channel;
      if (TEMPLATE_CHANNELS.has(channel) && !node.templateId)
        issues.push(issue(at('templateId'), 'journey_template_missing', `send node "${node.id}" has no template`, node.id));
      if (node.channel === 'preferred' && !node.templateId)
        issues.push(issue(at('templateId'), 'journey_template_missing', `send node "${node.id}" has no template`, node.id));
      if (node.channel === 'mp_subscribe' && node.url)
        issues.push(
          issue(
            at('url'),
            'journey_url_not_for_channel',
            `send node "${node.id}": a mini-program subscribe message opens a page, not a url`,
            node.id,
          ),
        );
      if ((channel === 'wecom_group_msg' || channel === 'oa_custom') && !node.text && !node.url)
        issues.push(issue(at('text'), 'journey_template_missing', `send node "${node.id}" has neither text nor url`, node.id));
    }
    if (node.type === 'wait') {
      const need = (field: 'seconds' | 'time' | 'node' | 'timeoutSeconds' | 'next' | 'opened' | 'timeout') => {
        if (node[field] === undefined) issues.push(issue(at(field), 'invalid_type', `wait node "${node.id}" needs ${field}`, node.id));
      };
      if (node.mode === 'duration') for (const field of ['seconds', 'next'] as const) need(field);
      if (node.mode === 'until_time') for (const field of ['time', 'next'] as const) need(field);
      if (node.mode === 'until_opened') {
        need('node');
        need('timeoutSeconds');
        need('opened');
        need('timeout');
        const target = node.node === undefined ? undefined : definition.nodes[index.get(node.node) ?? -1];
        if (node.node !== undefined && target?.type !== 'send')
          issues.push(
            issue(at('node'), 'journey_open_wait_not_send', `wait node "${node.id}" waits on "${node.node}", not a send node`, node.id),
          );
      }
      if (node.timezone !== undefined && !isTimeZone(node.timezone))
        issues.push(issue(at('timezone'), 'invalid_value', `wait node "${node.id}": unknown time zone`, node.id));
    }
    if (node.type === 'split' && node.branches.every((b) => b.weight === 0))
      issues.push(issue(at('branches'), 'journey_split_weights', `split node "${node.id}" has no branch with a weight`, node.id));
    if (node.type === 'condition') {
      for (const opened of openedNodes(node.condition)) {
        const target = definition.nodes[index.get(opened) ?? -1];
        if (target?.type !== 'send')
          issues.push(
            issue(at('condition'), 'journey_open_wait_not_send', `condition "${node.id}" reads "${opened}", not a send node`, node.id),
          );
      }
    }
  });
  if (issues.length === 0) {
    const cycle = findCycleWithoutWait(definition);
    if (cycle)
      issues.push(
        issue(
          `nodes.${index.get(cycle[0]) ?? 0}`,
          'journey_cycle_without_wait',
          `nodes ${cycle.join(' → ')} loop without a wait`,
          cycle[0],
        ),
      );
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, definition };
}

/** Each outgoing edge of a node, as (field, target). */
export function edgesOf(node: JourneyNode): [string, string | undefined][] {
  switch (node.type) {
    case 'wait':
      return node.mode === 'until_opened'
        ? [
            ['opened', node.opened],
            ['timeout', node.timeout],
          ]
        : [['next', node.next]];
    case 'condition':
      return [
        ['then', node.then],
        ['else', node.else],
      ];
    case 'split':
      return node.branches.map((b, i) => [`branches.${i}.next`, b.next]);
    case 'send':
    case 'action':
      return [['next', node.next]];
    case 'exit':
      return [];
  }
}

function openedNodes(condition: Condition): string[] {
  switch (condition.kind) {
    case 'opened':
      return [condition.node];
    case 'all':
    case 'any':
      return condition.of.flatMap(openedNodes);
    case 'not':
      return openedNodes(condition.of);
    case 'tags':
    case 'score':
    case 'stage':
    case 'attribute':
    case 'channel_reached':
    case 'segment':
      return [];
  }
}

/** A loop that passes no wait would advance a run forever in one step: refused. */
function findCycleWithoutWait(definition: JourneyDefinition): string[] | null {
  const byId = new Map(definition.nodes.map((n) => [n.id, n]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    const node = byId.get(id);
    if (!node || node.type === 'wait') return null;
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    path.push(id);
    for (const [, target] of edgesOf(node)) {
      if (target === undefined) continue;
      const found = visit(target);
      if (found) return found;
    }
    path.pop();
    state.set(id, 'done');
    return null;
  };
  for (const node of definition.nodes) {
    const found = visit(node.id);
    if (found) return found;
  }
  return null;
}

function issue(path: string, code: string, message: string, node: string): DefinitionIssue {
  return { path, code, message, params: { node } };
}

/** The id of the node an issue's path points into, for the message. */
function nodeAt(input: unknown, path: PropertyKey[]): string | null {
  if (path[0] !== 'nodes' || typeof path[1] !== 'number') return null;
  if (typeof input !== 'object' || input === null || !('nodes' in input) || !Array.isArray(input.nodes)) return null;
  const node: unknown = input.nodes[path[1]];
  return typeof node === 'object' && node !== null && 'id' in node && typeof node.id === 'string' ? node.id : null;
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
