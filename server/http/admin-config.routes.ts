import Router from '@koa/router';
import type { AdminState, AuthMiddleware } from './auth.middleware';

/** What the admin page needs to know about this installation before it draws anything. */
export interface AdminPageConfig {
  sandbox: boolean;
  /** IANA name of the business time zone: days and times on the page are shown in it. */
  timezone: string;
  /** The page's language until the operator picks one. */
  locale: string;
}

export interface AdminConfigRouterDeps {
  pageConfig: Readonly<AdminPageConfig>;
  auth: AuthMiddleware;
}

export function createAdminConfigRouter(deps: AdminConfigRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  router.get('/api/admin/config', deps.auth.requireOperator(), (ctx) => {
    const { sandbox, timezone, locale } = deps.pageConfig;
    ctx.body = { sandbox, timezone, locale };
  });
  return router;
}
