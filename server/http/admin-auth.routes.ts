import Router from '@koa/router';
import { z } from 'zod';
import { SESSION_TTL_MS, type OperatorsService } from '../modules/operators/operators.service';
import type { AdminState, AuthMiddleware } from './auth.middleware';
import { HttpError } from './http-error';
import { clearSessionCookies, setSessionCookies } from './session-cookies';
import { parseJsonBody } from './validate-input';
import { normalizeUsername } from '../../web/shared/field-rules';

export interface AdminAuthRouterDeps {
  operators: OperatorsService;
  auth: AuthMiddleware;
}

const loginBodySchema = z.object({
  // Looked up in the spelling it was stored in (NFKC): a full-width ｌｉｓｉ typed through an IME is lisi.
  username: z.string().max(256).transform(normalizeUsername).pipe(z.string().min(1)),
  password: z.string().min(1).max(1024),
});

const changePasswordBodySchema = z.object({
  currentPassword: z.string().min(1).max(1024),
  newPassword: z.string().min(8).max(1024),
});

const throttled = (retryAfterSeconds: number): HttpError =>
  new HttpError(429, 'login_throttled', `Too many failed logins; wait ${retryAfterSeconds} seconds before trying again`, {
    retryAfterSeconds,
  });

/** Login, logout, "who am I" and the operator's own password, for the admin page and scripts. */
export function createAdminAuthRouter(deps: AdminAuthRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  // The routes a session with a generated password may still use.
  const anyOperator = deps.auth.requireOperator(undefined, { allowPendingPasswordChange: true });

  router.post('/api/admin/login', async (ctx) => {
    const body = await parseJsonBody(ctx, loginBodySchema);
    const result = await deps.operators.login({ username: body.username, password: body.password, ip: ctx.ip });
    if (!result.ok && result.reason === 'throttled') {
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      throw throttled(result.retryAfterSeconds);
    }
    // One answer for an unknown user and a wrong password, so usernames cannot be probed.
    if (!result.ok) throw new HttpError(401, 'invalid_credentials', 'Wrong username or password');
    const { operator } = result;
    // Scripts read the token from the body; the browser keeps the same session in the cookies.
    setSessionCookies(ctx, { token: result.token, csrfToken: result.csrfToken, maxAgeSeconds: SESSION_TTL_MS / 1000 });
    ctx.body = {
      token: result.token,
      expiresAt: result.expiresAt.toISOString(),
      operator: { id: operator.id, username: operator.username, role: operator.role, mustChangePassword: operator.mustChangePassword },
    };
  });

  router.post('/api/admin/logout', anyOperator, async (ctx) => {
    await deps.operators.logout({ token: ctx.state.session.token, ip: ctx.ip });
    clearSessionCookies(ctx);
    ctx.status = 204;
  });

  router.get('/api/admin/me', anyOperator, (ctx) => {
    const { id, username, displayName, role, wecomUserId, mustChangePassword } = ctx.state.operator;
    ctx.body = { id, username, displayName, role, wecomUserId, mustChangePassword };
  });

  router.post('/api/admin/me/password', anyOperator, async (ctx) => {
    const body = await parseJsonBody(ctx, changePasswordBodySchema);
    const result = await deps.operators.changeOwnPassword({
      operatorId: ctx.state.operator.id,
      sessionId: ctx.state.session.id,
      currentPassword: body.currentPassword,
      newPassword: body.newPassword,
      ip: ctx.ip,
    });
    if (!result.ok) {
      if (result.reason === 'throttled') {
        ctx.set('Retry-After', String(result.retryAfterSeconds));
        throw throttled(result.retryAfterSeconds);
      }
      if (result.reason === 'wrong_password')
        throw new HttpError(400, 'wrong_password', 'The current password is wrong', [
          { path: 'currentPassword', code: 'wrong_password', message: 'The current password is wrong' },
        ]);
      if (result.reason === 'same_password') {
        throw new HttpError(400, 'bad_request', 'Invalid input: newPassword', [
          { path: 'newPassword', code: 'password_same', message: 'Must differ from the current password' },
        ]);
      }
      // The operator was deleted between authentication and now.
      throw new HttpError(401, 'unauthorized', 'Authentication required');
    }
    ctx.status = 204;
  });

  return router;
}
