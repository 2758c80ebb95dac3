import type { RouterContext, RouterMiddleware } from '@koa/router';
import type { Context } from 'koa';
import type { OperatorRole } from '../../entities/operator.entity';
import type { AuditActor } from '../modules/audit/audit.service';
import { csrfTokenMatches, type OperatorsService, type OperatorView } from '../modules/operators/operators.service';
import { forbidden, HttpError, unauthorized } from './http-error';
import { CSRF_HEADER, readSessionCookie } from './session-cookies';

/** Koa state on admin routes. `operator` and `session` are set by `requireOperator` before any handler runs. */
export interface AdminState {
  operator: OperatorView;
  session: {
    id: number;
    token: string;
    /** How the request proved it: a script's Authorization header or the browser's cookie. */
    via: 'bearer' | 'cookie';
  };
}

export type AdminContext = RouterContext<AdminState>;

export interface RequireOperatorOptions {
  /**
   * Let the request through while the operator must still change a generated password. Only
   * "who am I", logout and the password change itself (true), or the sidebar's routes for a
   * session WeCom OAuth opened (`wecom_sessions`): everything else answers 403
   * password_change_required, so a new route is closed until it says otherwise.
   */
  allowPendingPasswordChange?: boolean | 'wecom_sessions';
}

/**
 * The WeCom sidebar's routes (/api/sidebar/*): any role, and, for a session WeCom OAuth opened,
 * open while a generated password is still to be changed. That rep proved who they are through
 * WeCom, never with the password an admin generated and told them; closing the sidebar until they
 * change a password they may never use would lock out exactly the reps who only work in WeCom.
 * A session opened with that password (which someone else may have read) stays closed, and the
 * admin page keeps the rule for every session.
 */
export const SIDEBAR_ACCESS: RequireOperatorOptions = { allowPendingPasswordChange: 'wecom_sessions' };

export interface AuthMiddleware {
  /**
   * Lets the request through only with a live session whose role is in `roles` (any role when
   * omitted), from `Authorization: Bearer <token>` or the fw_session cookie.
   */
  requireOperator(roles?: readonly OperatorRole[], options?: RequireOperatorOptions): RouterMiddleware<AdminState>;
}

/** Methods that change nothing (RFC 9110 §9.2.1), so a cookie alone may make them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const csrfFailed = (): HttpError => new HttpError(403, 'csrf_failed', `Missing or wrong ${CSRF_HEADER} header`);
export const passwordChangeRequired = (): HttpError =>
  new HttpError(403, 'password_change_required', 'Choose a new password first (POST /api/admin/me/password)');

export function createAuth(operators: OperatorsService): AuthMiddleware {
  return {
    requireOperator(roles, options = {}) {
      return async function requireOperator(ctx, next) {
        // An Authorization header decides alone, even when it is wrong: falling back to the
        // cookie would let a request with a junk header skip the CSRF check below.
        const hasAuthorization = ctx.get('authorization') !== '';
        const via = hasAuthorization ? 'bearer' : 'cookie';
        const token = hasAuthorization ? readBearerToken(ctx) : readSessionCookie(ctx);
        const session = token === null ? null : await operators.authenticateSession(token);
        if (!session || token === null) throw unauthorized();
        // A cross-site page can make the browser send the cookie but can neither read fw_csrf
        // nor set a custom header; a script's bearer token is never sent by a browser on its own.
        if (via === 'cookie' && !SAFE_METHODS.has(ctx.method) && !csrfTokenMatches(ctx.get(CSRF_HEADER), session.csrfTokenHash))
          throw csrfFailed();
        const pendingAllowed =
          options.allowPendingPasswordChange === true ||
          (options.allowPendingPasswordChange === 'wecom_sessions' && session.openedVia === 'wecom');
        if (session.operator.mustChangePassword && !pendingAllowed) throw passwordChangeRequired();
        if (roles && !roles.includes(session.operator.role)) throw forbidden();
        ctx.state.operator = session.operator;
        ctx.state.session = { id: session.sessionId, token, via };
        await next();
      };
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or null. */
export function readBearerToken(ctx: Pick<Context, 'get'>): string | null {
  const match = /^Bearer +(\S+)\s*$/i.exec(ctx.get('authorization'));
  return match ? match[1] : null;
}

/** The signed-in operator and their address, for the audit log. */
export function actorOf(ctx: AdminContext): AuditActor {
  return { operatorId: ctx.state.operator.id, ip: ctx.ip };
}
