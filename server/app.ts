import type Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from './adapters/logger';
import { createAdminWebMiddleware } from './http/admin-web';
import { createErrorMiddleware } from './http/error.middleware';
import { createMobileWebMiddleware } from './http/mobile-web';
import { createRequestIdMiddleware } from './http/request-id.middleware';
import { createSidebarWebMiddleware, type SidebarWebParams } from './http/sidebar-web';

export interface AppDeps {
  logger: Logger;
  routers: Router[];
  /** Koa's `proxy`: read the client IP from X-Forwarded-For (config TRUST_PROXY). */
  trustProxy: boolean;
  /** The sandbox platform, mounted under /sandbox only when no real credentials are configured. */
  sandbox?: Koa | null;
  /** The built admin page (dist/web/admin), served at /admin; omitted in API-only tests. */
  adminWebRoot?: string | null;
  /** The admin page's language until an operator picks one (ADMIN_LOCALE); zh-CN when not given. */
  adminLocale?: 'zh-CN' | 'en';
  /** The built public pages (dist/web/mobile), served at /e/; omitted in API-only tests. */
  mobileWebRoot?: string | null;
  /**
   * Runs before the public pages' HTML (not their assets): where WeChat's web OAuth identifies a
   * visitor inside WeChat (it may redirect, or call next for the page).
   */
  mobilePageMiddleware?: Koa.Middleware;
  /** The built WeCom sidebar (dist/web/sidebar), served at /sidebar/; omitted in API-only tests. */
  sidebarWebRoot?: string | null;
  /** The sidebar's sign-in (WeCom OAuth2) and session check (composeServices' `sidebarWeb`). */
  sidebarWeb?: Omit<SidebarWebParams, 'root'>;
}

/**
 * The Koa application. It never listens: main.ts does, and tests drive `app.callback()`.
 * No global body parser: each route reads its own body (callbacks need the raw bytes).
 */
export function buildApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: deps.trustProxy });
  app.silent = true;
  // First: every line logged while a request runs, errors included, carries its id.
  app.use(createRequestIdMiddleware(deps.logger));
  app.use(createErrorMiddleware(deps.logger));

  const sandbox = deps.sandbox?.callback();
  if (sandbox) {
    app.use(async (ctx, next) => {
      if (!ctx.path.startsWith('/sandbox/')) {
        await next();
        return;
      }
      ctx.respond = false;
      await sandbox(ctx.req, ctx.res);
    });
  }

  // Liveness: the process answers. Whether it should get traffic (the database, the migrations,
  // draining) is /readyz's question (http/ops.routes.ts): a database outage must not make an
  // orchestrator restart every instance.
  app.use(async (ctx, next) => {
    if (ctx.path !== '/healthz' || ctx.method !== 'GET') {
      await next();
      return;
    }
    ctx.body = { status: 'ok' };
  });

  if (deps.adminWebRoot) app.use(createAdminWebMiddleware({ root: deps.adminWebRoot, locale: deps.adminLocale }));
  if (deps.mobileWebRoot) app.use(createMobileWebMiddleware({ root: deps.mobileWebRoot, beforePage: deps.mobilePageMiddleware }));
  if (deps.sidebarWebRoot && deps.sidebarWeb) app.use(createSidebarWebMiddleware({ root: deps.sidebarWebRoot, ...deps.sidebarWeb }));

  for (const router of deps.routers) app.use(router.routes()).use(router.allowedMethods());
  return app;
}
