import Router from '@koa/router';
import { z } from 'zod';
import type { OperatorsService } from '../modules/operators/operators.service';
import { readBearerToken, type AdminState, type AuthMiddleware } from './auth.middleware';
import { HttpError } from './http-error';
import { parseJsonBody } from './validate-input';

export interface AdminAuthRouterDeps {
  operators: OperatorsService;
  auth: AuthMiddleware;
}

const loginBodySchema = z.object({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(1024),
});

/** Login, logout and "who am I" for the admin page. */
export function createAdminAuthRouter(deps: AdminAuthRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();

  router.post('/api/admin/login', async (ctx) => {
    const body = await parseJsonBody(ctx, loginBodySchema);
    const result = await deps.operators.login({ username: body.username, password: body.password, ip: ctx.ip });
    if (!result.ok && result.reason === 'throttled') {
      const { retryAfterSeconds } = result;
      ctx.set('Retry-After', String(retryAfterSeconds));
      throw new HttpError(429, 'login_throttled', `Too many failed logins; wait ${retryAfterSeconds} seconds before trying again`, { retryAfterSeconds });
    }
    // One answer for an unknown user and a wrong password, so usernames cannot be probed.
    if (!result.ok) throw new HttpError(401, 'invalid_credentials', 'Wrong username or password');
    const { operator } = result;
    ctx.body = { token: result.token, expiresAt: result.expiresAt.toISOString(), operator: { id: operator.id, username: operator.username, role: operator.role } };
  });

  router.post('/api/admin/logout', deps.auth.requireOperator(), async (ctx) => {
    const token = readBearerToken(ctx);
    if (token !== null) await deps.operators.logout({ token, ip: ctx.ip });
    ctx.status = 204;
  });

  router.get('/api/admin/me', deps.auth.requireOperator(), (ctx) => {
    const { id, username, displayName, role, wecomUserId } = ctx.state.operator;
    ctx.body = { id, username, displayName, role, wecomUserId };
  });

  return router;
}
