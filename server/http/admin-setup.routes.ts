import Router from '@koa/router';
import type { SetupService } from '../modules/setup/setup.service';
import type { SidebarSetupService } from '../modules/setup/sidebar-setup.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';

export interface AdminSetupRouterDeps {
  setup: SetupService;
  sidebarSetup: SidebarSetupService;
  auth: AuthMiddleware;
}

/** The setup screen: callback URLs, which credentials are set (never their values), a live check. Admins only. */
export function createAdminSetupRouter(deps: AdminSetupRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const admins = deps.auth.requireOperator(['admin']);

  router.get('/api/admin/setup', admins, (ctx) => {
    ctx.body = deps.setup.describeSetup();
  });

  router.post('/api/admin/setup/check', admins, async (ctx) => {
    ctx.body = await deps.setup.checkSetup(actorOf(ctx));
  });

  // The WeCom sidebar's setup (issue 16 §2b): what agent/get and get_follow_user_list tell, per rep.
  router.get('/api/admin/setup/sidebar', admins, async (ctx) => {
    ctx.body = await deps.sidebarSetup.checkSidebar();
  });

  return router;
}
