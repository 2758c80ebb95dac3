import Router from '@koa/router';
import { z } from 'zod';
import { FAILED_WORK_KINDS, type FailedWorkService } from '../modules/failed-work/failed-work.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { notFound } from './http-error';
import { idParamSchema, parseInput, parseJsonBody } from './validate-input';

export interface AdminFailedWorkRouterDeps {
  failedWork: FailedWorkService;
  auth: AuthMiddleware;
}

const kindSchema = z.enum(FAILED_WORK_KINDS);
const listQuerySchema = z.object({
  kind: kindSchema.default('tasks'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: idParamSchema.optional(),
});
const bulkRetrySchema = z.strictObject({ ids: z.array(z.number().int().positive().max(2_147_483_647)).min(1).max(100) });

/** Work that failed for good (task syncs, interaction reactions): listed and re-driven by admins and operators. */
export function createAdminFailedWorkRouter(deps: AdminFailedWorkRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const operators = deps.auth.requireOperator(['admin', 'operator']);

  router.get('/api/admin/failed-work', operators, async (ctx) => {
    const query = parseInput(listQuerySchema, ctx.query);
    ctx.body = await deps.failedWork.list(query);
  });

  router.post('/api/admin/failed-work/:kind/retry', operators, async (ctx) => {
    const kind = parseKind(ctx.params.kind);
    const body = await parseJsonBody(ctx, bulkRetrySchema);
    const retried = await deps.failedWork.retry({ kind, ids: body.ids, actor: actorOf(ctx) });
    ctx.body = { retried };
  });

  router.post('/api/admin/failed-work/:kind/:id/retry', operators, async (ctx) => {
    const kind = parseKind(ctx.params.kind);
    const id = idParamSchema.safeParse(ctx.params.id);
    if (!id.success) throw notFound('No such failed work');
    const retried = await deps.failedWork.retry({ kind, ids: [id.data], actor: actorOf(ctx) });
    if (retried.length === 0) throw notFound('No failed work with this id');
    ctx.body = { retried };
  });

  return router;
}

function parseKind(value: string | undefined): z.output<typeof kindSchema> {
  const kind = kindSchema.safeParse(value);
  if (!kind.success) throw notFound('No such kind of work');
  return kind.data;
}
