import Router from '@koa/router';
import type { MpStaffService } from '../modules/miniprogram/mp-staff.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { notFound } from './http-error';
import { idParamSchema, parseInput } from './validate-input';

export interface AdminMpStaffRouterDeps {
  staff: MpStaffService;
  auth: AuthMiddleware;
}

/**
 * Mini-program staff (the check-in scanner): an admin issues an operator's one-time binding code,
 * which the operator types into the mini-program (`POST /api/mp/staff/bind`), or unbinds them.
 * Admins only, audited (server/modules/miniprogram/mp-staff.service.ts says why a code).
 */
export function createAdminMpStaffRouter(deps: AdminMpStaffRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const admins = deps.auth.requireOperator(['admin']);

  router.post('/api/admin/operators/:operatorId/mp-binding-code', admins, async (ctx) => {
    const operatorId = parseInput(idParamSchema, ctx.params.operatorId);
    const issued = await deps.staff.issueBindingCode({ operatorId, actor: actorOf(ctx) });
    if (!issued) throw notFound('No such operator (or it is disabled)');
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 201;
    ctx.body = issued;
  });

  router.delete('/api/admin/operators/:operatorId/mp-bindings', admins, async (ctx) => {
    const operatorId = parseInput(idParamSchema, ctx.params.operatorId);
    ctx.body = { removed: await deps.staff.unbind({ operatorId, actor: actorOf(ctx) }) };
  });

  return router;
}
