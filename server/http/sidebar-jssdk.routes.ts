import Router from '@koa/router';
import { z } from 'zod';
import type { SidebarJssdkService } from '../modules/sidebar/sidebar-jssdk.service';
import type { AdminState, AuthMiddleware } from './auth.middleware';
import { conflict, HttpError } from './http-error';
import { parseInput } from './validate-input';

export interface SidebarJssdkRouterDeps {
  jssdk: SidebarJssdkService;
  auth: AuthMiddleware;
}

const querySchema = z.object({ url: z.string().min(1).max(2048) });

/**
 * `GET /api/sidebar/jssdk-config?url=<the page's location.href>`: the two JS-SDK signatures for a
 * signed-in rep's sidebar page (any role).
 */
export function createSidebarJssdkRouter(deps: SidebarJssdkRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const anyOperator = deps.auth.requireOperator();

  router.get('/api/sidebar/jssdk-config', anyOperator, async (ctx) => {
    const query = parseInput(querySchema, ctx.query);
    const result = await deps.jssdk.signPage({ url: query.url });
    if (!result.ok && result.reason === 'wecom_disabled') throw conflict('The WeCom sidebar needs WeCom and its self-built app configured');
    if (!result.ok) throw new HttpError(400, 'sidebar_url_not_ours', 'Only this site’s /sidebar pages are signed');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = result.config;
  });

  return router;
}
