import Router from '@koa/router';
import { z } from 'zod';
import { LIFECYCLE_STAGES } from '../../entities/contact.entity';
import { SCORE_ATTRIBUTES, SCORE_RULE_KINDS } from '../../entities/score-rule.entity';
import { RULE_MATCH_KINDS } from '../../entities/tag-rule.entity';
import type { LifecycleService } from '../modules/lifecycle/lifecycle.service';
import type { ScoreRuleResult, ScoreRulesService } from '../modules/scoring/score-rules.service';
import { scoringSettingsSchema } from '../modules/scoring/scoring-settings';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { conflict, notFound } from './http-error';
import { idParamSchema, invalidFields, parseJsonBody } from './validate-input';

export interface AdminScoringRouterDeps {
  scoreRules: ScoreRulesService;
  lifecycle: LifecycleService;
  auth: AuthMiddleware;
}

const scoreRuleSchema = z.strictObject({
  name: z.string().trim().min(1).max(64),
  enabled: z.boolean(),
  kind: z.enum(SCORE_RULE_KINDS),
  interactionType: z.string().trim().min(1).max(48).nullable(),
  matchKind: z.enum(RULE_MATCH_KINDS),
  matchValue: z.string().max(255).nullable(),
  attribute: z.enum(SCORE_ATTRIBUTES).nullable(),
  attributeValue: z.string().max(128).nullable(),
  points: z.number().int().min(-100_000).max(100_000),
  dailyCap: z.number().int().min(1).max(10_000).nullable(),
});
const createScoreRuleSchema = scoreRuleSchema.partial().required({ name: true, kind: true, points: true });
const updateScoreRuleSchema = scoreRuleSchema.partial();
const stageRuleSchema = z.strictObject({
  interactionType: z.string().trim().min(1).max(48),
  minCount: z.number().int().min(1).max(10_000),
  stage: z.enum(LIFECYCLE_STAGES),
  enabled: z.boolean(),
});
const setStageSchema = z.strictObject({ stage: z.enum(LIFECYCLE_STAGES) });

/**
 * Score rules, the scoring settings (decay, MQL threshold, silent days), stage rules and an
 * operator setting a contact's stage: admins and operators, every change audited.
 */
export function createAdminScoringRouter(deps: AdminScoringRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const editors = deps.auth.requireOperator(['admin', 'operator']);

  router.get('/api/admin/score-rules', editors, async (ctx) => {
    ctx.body = { items: await deps.scoreRules.listScoreRules() };
  });

  router.post('/api/admin/score-rules', editors, async (ctx) => {
    const body = await parseJsonBody(ctx, createScoreRuleSchema);
    const rule = {
      enabled: true,
      interactionType: null,
      matchKind: 'any' as const,
      matchValue: null,
      attribute: null,
      attributeValue: null,
      dailyCap: null,
      ...body,
    };
    ctx.body = unwrap(await deps.scoreRules.createScoreRule({ rule, actor: actorOf(ctx) }));
    ctx.status = 201;
  });

  router.patch('/api/admin/score-rules/:id', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    const changes = await parseJsonBody(ctx, updateScoreRuleSchema);
    ctx.body = unwrap(await deps.scoreRules.updateScoreRule({ id, changes, actor: actorOf(ctx) }));
  });

  router.delete('/api/admin/score-rules/:id', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    unwrap(await deps.scoreRules.deleteScoreRule({ id, actor: actorOf(ctx) }));
    ctx.body = { deleted: true, id };
  });

  router.get('/api/admin/scoring/settings', editors, async (ctx) => {
    ctx.body = await deps.scoreRules.readSettings();
  });

  router.patch('/api/admin/scoring/settings', editors, async (ctx) => {
    const settings = await parseJsonBody(ctx, scoringSettingsSchema);
    ctx.body = await deps.scoreRules.updateSettings({ settings, actor: actorOf(ctx) });
  });

  router.get('/api/admin/stage-rules', editors, async (ctx) => {
    ctx.body = { items: await deps.lifecycle.listStageRules() };
  });

  router.post('/api/admin/stage-rules', editors, async (ctx) => {
    const body = await parseJsonBody(ctx, stageRuleSchema.partial({ enabled: true, minCount: true }));
    ctx.body = await deps.lifecycle.createStageRule({ rule: { enabled: true, minCount: 1, ...body }, actor: actorOf(ctx) });
    ctx.status = 201;
  });

  router.patch('/api/admin/stage-rules/:id', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    const changes = await parseJsonBody(ctx, stageRuleSchema.partial());
    const rule = await deps.lifecycle.updateStageRule({ id, changes, actor: actorOf(ctx) });
    if (!rule) throw notFound('No such stage rule');
    ctx.body = rule;
  });

  router.delete('/api/admin/stage-rules/:id', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    if (!(await deps.lifecycle.deleteStageRule({ id, actor: actorOf(ctx) }))) throw notFound('No such stage rule');
    ctx.body = { deleted: true, id };
  });

  // An operator sets any stage, back included; the history names them and the audit log has it.
  router.post('/api/admin/contacts/:id/stage', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    const { stage } = await parseJsonBody(ctx, setStageSchema);
    const actor = actorOf(ctx);
    const result = await deps.lifecycle.setStage({ contactId: id, stage, by: { kind: 'operator', id: actor.operatorId, ip: actor.ip } });
    if (!result.ok) throw notFound('No such contact');
    ctx.body = result;
  });

  return router;
}

function unwrap<T>(result: ScoreRuleResult<T>): T {
  if (result.ok) return result.value;
  switch (result.reason) {
    case 'not_found':
      throw notFound('No such score rule');
    case 'duplicate_name':
      throw conflict('The name is already taken', [{ path: 'name', code: 'name_taken' }]);
    case 'invalid':
      throw invalidFields(result.issues);
  }
}

function parseId(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw notFound();
  return parsed.data;
}
