import Router from '@koa/router';
import { z } from 'zod';
import type { Clock } from '../adapters/clock';
import type { SandboxClockStore } from '../modules/sandbox/sandbox-clock.store';
import type { SandboxFollowersService } from '../modules/sandbox/sandbox-followers.service';
import type { AdminState, AuthMiddleware } from './auth.middleware';
import { parseInput } from './validate-input';

export interface AdminSandboxRouterDeps {
  followers: SandboxFollowersService;
  clockStore: SandboxClockStore;
  /** The sandbox's (skippable) clock: what "now" is for Flywheel. */
  clock: Clock;
  auth: AuthMiddleware;
}

const followersQuerySchema = z.object({
  q: z.string().max(128).default(''),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

/** The sandbox panel's reads (registered in sandbox mode only; elsewhere these paths are 404). */
export function createAdminSandboxRouter(deps: AdminSandboxRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const marketers = deps.auth.requireOperator(['admin', 'operator']);

  router.get('/api/admin/sandbox/followers', marketers, async (ctx) => {
    const query = parseInput(followersQuerySchema, ctx.query);
    ctx.body = { items: await deps.followers.searchFollowers(query) };
  });

  // The offset is stored with each skip and read back at start-up, so it survives a restart.
  router.get('/api/admin/sandbox/clock', marketers, async (ctx) => {
    const offsetMs = await deps.clockStore.readOffsetMs();
    ctx.body = { now: deps.clock.now().toISOString(), offsetSeconds: Math.floor(offsetMs / 1000), persisted: true };
  });

  return router;
}
