import Router from '@koa/router';
import { z } from 'zod';
import type { JourneyResult, JourneysService } from '../modules/journeys/journeys.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { conflict, HttpError, notFound } from './http-error';
import { idParamSchema, invalidFields, parseJsonBody } from './validate-input';

export interface AdminJourneysRouterDeps {
  journeys: JourneysService;
  auth: AuthMiddleware;
}

const nameSchema = z.string().trim().min(1).max(64);
const createSchema = z.union([
  z.strictObject({ name: nameSchema, template: z.string().min(1).max(32) }),
  z.strictObject({ name: nameSchema, definition: z.unknown() }),
]);
const versionSchema = z.strictObject({ definition: z.unknown() });
/** An optional mapping on publish: the waiting runs of `fromVersion` move node by node (journey-migration.ts). */
const publishSchema = z.strictObject({
  migrate: z
    .strictObject({
      fromVersion: z.number().int().positive(),
      nodes: z.record(z.string().min(1).max(64), z.string().min(1).max(64)).refine((nodes) => Object.keys(nodes).length <= 200, {
        message: 'At most 200 nodes',
      }),
    })
    .optional(),
});
const enrollSchema = z.strictObject({ contactIds: z.array(z.number().int().positive()).min(1).max(1_000) });

/** Journeys (DESIGN.md, "Journeys and delivery"): admins and operators; definitions validated node by node; every change audited. */
export function createAdminJourneysRouter(deps: AdminJourneysRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const editors = deps.auth.requireOperator(['admin', 'operator']);
  const { journeys } = deps;

  router.get('/api/admin/journey-templates', editors, (ctx) => {
    ctx.body = { items: journeys.listTemplates() };
  });
  router.get('/api/admin/journeys', editors, async (ctx) => {
    ctx.body = { items: await journeys.listJourneys() };
  });
  router.post('/api/admin/journeys', editors, async (ctx) => {
    const body = await parseJsonBody(ctx, createSchema);
    ctx.body = unwrap(await journeys.createJourney({ ...body, actor: actorOf(ctx) }));
    ctx.status = 201;
  });
  router.get('/api/admin/journeys/:id', editors, async (ctx) => {
    ctx.body = unwrap(await journeys.getJourney(parseId(ctx.params.id)));
  });
  router.put('/api/admin/journeys/:id', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    const body = await parseJsonBody(ctx, versionSchema);
    ctx.body = unwrap(await journeys.saveVersion({ id, definition: body.definition, actor: actorOf(ctx) }));
  });
  // Without a body (or with `{}`) runs inside finish on their versions; `migrate` moves them.
  router.post('/api/admin/journeys/:id/publish', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
    const body = hasBody ? await parseJsonBody(ctx, publishSchema) : {};
    ctx.body = unwrap(await journeys.publish({ id, migrate: body.migrate, actor: actorOf(ctx) }));
  });
  router.get('/api/admin/journeys/:id/waiting-runs', editors, async (ctx) => {
    ctx.body = { items: unwrap(await journeys.waitingRuns(parseId(ctx.params.id))) };
  });
  router.post('/api/admin/journeys/:id/pause', editors, async (ctx) => {
    ctx.body = unwrap(await journeys.setPaused({ id: parseId(ctx.params.id), paused: true, actor: actorOf(ctx) }));
  });
  router.post('/api/admin/journeys/:id/resume', editors, async (ctx) => {
    ctx.body = unwrap(await journeys.setPaused({ id: parseId(ctx.params.id), paused: false, actor: actorOf(ctx) }));
  });
  router.post('/api/admin/journeys/:id/enroll', editors, async (ctx) => {
    const id = parseId(ctx.params.id);
    const body = await parseJsonBody(ctx, enrollSchema);
    ctx.body = unwrap(await journeys.enroll({ id, contactIds: body.contactIds, actor: actorOf(ctx) }));
  });
  router.get('/api/admin/journeys/:id/stats', editors, async (ctx) => {
    ctx.body = unwrap(await journeys.stats(parseId(ctx.params.id)));
  });
  return router;
}

/** `GET /r/:code`: a tracked link. 302 to its target; a forged or expired code is a 404, never a redirect. */
export function createTrackedLinksRouter(deps: { journeys: Pick<JourneysService, 'recordClick'> }): Router {
  const router = new Router();
  router.get('/r/:code', async (ctx) => {
    const target = await deps.journeys.recordClick(String(ctx.params.code ?? ''));
    if (target === null) throw notFound('No such link');
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(target);
  });
  return router;
}

function unwrap<T>(result: JourneyResult<T>): T {
  if (result.ok) return result.value;
  switch (result.reason) {
    case 'not_found':
      throw notFound('No such journey');
    case 'invalid':
      throw invalidFields(result.issues);
    case 'conflict':
      if (result.code === 'name_taken') throw conflict(result.message, [{ path: 'name', code: 'name_taken' }]);
      throw new HttpError(409, 'conflict', result.message, [{ path: '', code: result.code, message: result.message }]);
  }
}

function parseId(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw notFound();
  return parsed.data;
}
