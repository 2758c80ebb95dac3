import Router from '@koa/router';
import { z } from 'zod';
import { RULE_MATCH_KINDS } from '../../entities/tag-rule.entity';
import type { TagRulesEngine } from '../modules/tag-rules/tag-rules.engine';
import type { TagRuleResult, TagRulesService } from '../modules/tag-rules/tag-rules.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { badRequest, conflict, notFound } from './http-error';
import { idParamSchema, parseJsonBody } from './validate-input';

export interface AdminTagRulesRouterDeps {
  tagRules: TagRulesService;
  rules: Pick<TagRulesEngine, 'dryRun'>;
  auth: AuthMiddleware;
}

const dryRunSchema = z.strictObject({
  type: z.string().trim().min(1).max(48),
  content: z.string().max(2048).optional(),
  scene: z.string().max(128).optional(),
  menuKey: z.string().max(128).optional(),
  eventId: z.string().max(64).optional(),
  contentId: z.string().max(64).optional(),
});

/** WeChat's passive text reply holds at most 2048 bytes. */
const MAX_REPLY_TEXT_BYTES = 2048;
/** A passive news reply carries at most 8 articles (WeChat "回复图文消息"). */
const MAX_NEWS_ARTICLES = 8;

const nameSchema = z.string().trim().min(1).max(64);
const tagRefSchema = z.strictObject({ group: nameSchema, name: nameSchema });
const webUrlSchema = z.url({ protocol: /^https?$/ }).max(1024);
const newsArticleSchema = z.strictObject({
  title: z.string().trim().min(1).max(128),
  description: z.string().max(512).optional(),
  picUrl: webUrlSchema.optional(),
  url: webUrlSchema.optional(),
});

const ruleFieldSchemas = {
  name: nameSchema,
  enabled: z.boolean(),
  priority: z.number().int().min(0).max(100_000),
  interactionType: z.string().trim().min(1).max(48),
  matchKind: z.enum(RULE_MATCH_KINDS),
  matchValue: z.string().trim().min(1).max(255).nullable(),
  addTags: z.array(tagRefSchema).max(50),
  removeTags: z.array(tagRefSchema).max(50),
  scorePoints: z.number().int().min(-1000).max(1000),
  replyText: z
    .string()
    .refine((text) => Buffer.byteLength(text, 'utf8') <= MAX_REPLY_TEXT_BYTES, {
      message: `At most ${MAX_REPLY_TEXT_BYTES} bytes (WeChat's passive text reply limit)`,
    })
    .nullable(),
  replyNews: z.array(newsArticleSchema).min(1).max(MAX_NEWS_ARTICLES).nullable(),
};

const createRuleSchema = z.strictObject({
  ...ruleFieldSchemas,
  enabled: ruleFieldSchemas.enabled.optional(),
  priority: ruleFieldSchemas.priority.optional(),
  matchValue: ruleFieldSchemas.matchValue.optional(),
  addTags: ruleFieldSchemas.addTags.optional(),
  removeTags: ruleFieldSchemas.removeTags.optional(),
  scorePoints: ruleFieldSchemas.scorePoints.optional(),
  replyText: ruleFieldSchemas.replyText.optional(),
  replyNews: ruleFieldSchemas.replyNews.optional(),
});
const updateRuleSchema = z.strictObject(ruleFieldSchemas).partial();

/** Tag rules for admins and operators. Cross-field rules (a keyword rule needs its keyword) are the service's. */
export function createAdminTagRulesRouter(deps: AdminTagRulesRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const editors = deps.auth.requireOperator(['admin', 'operator']);

  // Which rules a message or event would fire, and the reply; nothing is stored or tagged.
  router.post('/api/admin/tag-rules/dry-run', editors, async (ctx) => {
    const { type, ...fields } = await parseJsonBody(ctx, dryRunSchema);
    const detail = Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined));
    ctx.body = await deps.rules.dryRun({ type, detail });
  });

  router.get('/api/admin/tag-rules', editors, async (ctx) => {
    ctx.body = { items: await deps.tagRules.listTagRules() };
  });

  router.get('/api/admin/tag-rules/:id', editors, async (ctx) => {
    const rule = await deps.tagRules.getTagRule(parseRuleId(ctx.params.id));
    if (!rule) throw notFound('No such tag rule');
    ctx.body = rule;
  });

  router.post('/api/admin/tag-rules', editors, async (ctx) => {
    const rule = await parseJsonBody(ctx, createRuleSchema);
    ctx.body = unwrap(await deps.tagRules.createTagRule({ rule, actor: actorOf(ctx) }));
    ctx.status = 201;
  });

  router.patch('/api/admin/tag-rules/:id', editors, async (ctx) => {
    const id = parseRuleId(ctx.params.id);
    const changes = await parseJsonBody(ctx, updateRuleSchema);
    ctx.body = unwrap(await deps.tagRules.updateTagRule({ id, changes, actor: actorOf(ctx) }));
  });

  router.delete('/api/admin/tag-rules/:id', editors, async (ctx) => {
    const deleted = unwrap(await deps.tagRules.deleteTagRule({ id: parseRuleId(ctx.params.id), actor: actorOf(ctx) }));
    ctx.body = { deleted: true, id: deleted.id };
  });

  return router;
}

function unwrap<T>(result: TagRuleResult<T>): T {
  if (result.ok) return result.value;
  switch (result.reason) {
    case 'not_found':
      throw notFound('No such tag rule');
    case 'duplicate_name':
      throw conflict('A tag rule with this name already exists', [{ path: 'name', code: 'name_taken' }]);
    case 'invalid':
      throw badRequest(`Invalid input: ${result.issues.map((issue) => issue.path).join(', ')}`, result.issues);
  }
}

function parseRuleId(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw notFound('No such tag rule');
  return parsed.data;
}
