import Router from '@koa/router';
import { z } from 'zod';
import type { StatsService } from '../modules/stats/stats.service';
import type { AdminState, AuthMiddleware } from './auth.middleware';
import { parseInput } from './validate-input';

export interface AdminStatsRouterDeps {
  stats: StatsService;
  auth: AuthMiddleware;
}

// Bounded: each day of history is another slice of the interactions index to count.
const statsQuerySchema = z.object({
  days: z.coerce.number().int().min(1).max(90).default(30),
  silentDays: z.coerce.number().int().min(1).max(365).default(14),
});

/** The dashboard's figures: admins and operators (sales reps see only contacts). */
export function createAdminStatsRouter(deps: AdminStatsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  router.get('/api/admin/stats', deps.auth.requireOperator(['admin', 'operator']), async (ctx) => {
    ctx.body = await deps.stats.getStats(parseInput(statsQuerySchema, ctx.query));
  });
  return router;
}
