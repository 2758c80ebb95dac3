import type Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from './adapters/logger';
import { createAdminWebMiddleware } from './http/admin-web';
import { createErrorMiddleware } from './http/error.middleware';
import { createRequestIdMiddleware } from './http/request-id.middleware';

export interface AppDeps {
  logger: Logger;
  /** Answers true when the database answers. */
  checkHealth: () => Promise<boolean>;
  routers: Router[];
  /** Koa's `proxy`: read the client IP from X-Forwarded-For (config TRUST_PROXY). */
  trustProxy: boolean;
  /** The sandbox platform, mounted under /sandbox only when no real credentials are configured. */
  sandbox?: Koa | null;
  /** The built admin page (dist/web/admin), served at /admin; omitted in API-only tests. */
  adminWebRoot?: string | null;
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

  app.use(async (ctx, next) => {
    if (ctx.path !== '/healthz' || ctx.method !== 'GET') {
      await next();
      return;
    }
    const healthy = await deps.checkHealth().catch((error: unknown) => {
      // The probe answers 503; the log says why the database did not answer.
      deps.logger.warn('health check failed', { error });
      return false;
    });
    ctx.status = healthy ? 200 : 503;
    ctx.body = { status: healthy ? 'ok' : 'database unavailable' };
  });

  if (deps.adminWebRoot) app.use(createAdminWebMiddleware({ root: deps.adminWebRoot }));

  for (const router of deps.routers) app.use(router.routes()).use(router.allowedMethods());
  return app;
}
