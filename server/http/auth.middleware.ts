import type { RouterContext, RouterMiddleware } from '@koa/router';
import type { Context } from 'koa';
import type { OperatorRole } from '../../entities/operator.entity';
import type { AuditActor } from '../modules/audit/audit.service';
import type { OperatorsService, OperatorView } from '../modules/operators/operators.service';
import { forbidden, unauthorized } from './http-error';

/** Koa state on admin routes. `operator` is set by `requireOperator` before any handler runs. */
export interface AdminState {
  operator: OperatorView;
}

export type AdminContext = RouterContext<AdminState>;

export interface AuthMiddleware {
  /** Lets the request through only with a live bearer session whose role is in `roles` (any role when omitted). */
  requireOperator(roles?: readonly OperatorRole[]): RouterMiddleware<AdminState>;
}

export function createAuth(operators: OperatorsService): AuthMiddleware {
  return {
    requireOperator(roles) {
      return async function requireOperator(ctx, next) {
        const token = readBearerToken(ctx);
        const operator = token === null ? null : await operators.authenticate(token);
        if (!operator) throw unauthorized();
        if (roles && !roles.includes(operator.role)) throw forbidden();
        ctx.state.operator = operator;
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
