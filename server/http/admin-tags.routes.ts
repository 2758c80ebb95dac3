import Router from '@koa/router';
import { z } from 'zod';
import type { TagCatalogResult, TagCatalogService } from '../modules/tags/tag-catalog.service';
import type { TagRulesEngine } from '../modules/tag-rules/tag-rules.engine';
import type { TagRulesService } from '../modules/tag-rules/tag-rules.service';
import { createAdminTagRulesRouter } from './admin-tag-rules.routes';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { badRequest, conflict, HttpError, notFound } from './http-error';
import { idParamSchema, invalidFields, parseInput, parseJsonBody } from './validate-input';

export interface AdminTagsRouterDeps {
  tagCatalog: TagCatalogService;
  tagRules: TagRulesService;
  rules: Pick<TagRulesEngine, 'dryRun'>;
  auth: AuthMiddleware;
}

const nameSchema = z.string().trim().min(1).max(64);
const createGroupSchema = z.strictObject({ name: nameSchema, syncOa: z.boolean().optional(), syncWecom: z.boolean().optional() });
const updateGroupSchema = createGroupSchema.partial();
const deleteGroupQuerySchema = z.object({ force: z.enum(['true', 'false']).optional() });
const listTagsQuerySchema = z.object({ groupId: idParamSchema.optional() });
const createTagSchema = z.strictObject({ groupId: z.number().int().positive(), name: nameSchema });
const updateTagSchema = createTagSchema.partial();

/** Tag groups, tags and tag rules: admins and operators edit them, sales reps do not. */
export function createAdminTagsRouter(deps: AdminTagsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const editors = deps.auth.requireOperator(['admin', 'operator']);

  router.get('/api/admin/tag-groups', editors, async (ctx) => {
    ctx.body = { items: await deps.tagCatalog.listTagGroups() };
  });

  router.post('/api/admin/tag-groups', editors, async (ctx) => {
    const body = await parseJsonBody(ctx, createGroupSchema);
    ctx.body = unwrap(await deps.tagCatalog.createTagGroup({ ...body, actor: actorOf(ctx) }));
    ctx.status = 201;
  });

  router.patch('/api/admin/tag-groups/:id', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    const body = await parseJsonBody(ctx, updateGroupSchema);
    ctx.body = unwrap(await deps.tagCatalog.updateTagGroup({ id, ...body, actor: actorOf(ctx) }));
  });

  router.delete('/api/admin/tag-groups/:id', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    const query = parseInput(deleteGroupQuerySchema, ctx.query);
    const deleted = unwrap(await deps.tagCatalog.deleteTagGroup({ id, force: query.force === 'true', actor: actorOf(ctx) }));
    ctx.body = { deleted: true, id, ...deleted };
  });

  router.get('/api/admin/tags', editors, async (ctx) => {
    const query = parseInput(listTagsQuerySchema, ctx.query);
    ctx.body = { items: await deps.tagCatalog.listTags({ groupId: query.groupId }) };
  });

  router.post('/api/admin/tags', editors, async (ctx) => {
    const body = await parseJsonBody(ctx, createTagSchema);
    ctx.body = unwrap(await deps.tagCatalog.createTag({ ...body, actor: actorOf(ctx) }));
    ctx.status = 201;
  });

  router.patch('/api/admin/tags/:id', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    const body = await parseJsonBody(ctx, updateTagSchema);
    ctx.body = unwrap(await deps.tagCatalog.updateTag({ id, ...body, actor: actorOf(ctx) }));
  });

  router.delete('/api/admin/tags/:id', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    const deleted = unwrap(await deps.tagCatalog.deleteTag({ id, actor: actorOf(ctx) }));
    ctx.body = { deleted: true, id, ...deleted };
  });

  const rules = createAdminTagRulesRouter({ tagRules: deps.tagRules, rules: deps.rules, auth: deps.auth });
  router.use(rules.routes(), rules.allowedMethods());
  return router;
}

function unwrap<T>(result: TagCatalogResult<T>): T {
  if (result.ok) return result.value;
  switch (result.reason) {
    case 'not_found':
      throw notFound('No such tag or tag group');
    case 'group_not_found':
      throw badRequest('No such tag group', [{ path: 'groupId', code: 'group_not_found', message: 'No tag group has this id' }]);
    case 'duplicate_name':
      throw conflict('The name is already taken', [{ path: 'name', code: 'name_taken' }]);
    case 'name_too_long':
      throw invalidFields(
        result.problems.map((problem) => {
          const { code, ...params } = problem;
          return { path: 'name', code, message: `The name is refused: ${code} ${JSON.stringify(params)}`, params };
        }),
      );
    case 'group_not_empty':
      throw new HttpError(
        409,
        'group_not_empty',
        'The group still has tags: delete them first, or pass ?force=true to delete them with it',
      );
  }
}

function parseId(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw notFound();
  return parsed.data;
}
