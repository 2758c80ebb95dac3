import Router from '@koa/router';
import { z } from 'zod';
import type { ContactScope } from '../modules/contacts/contacts-query.service';
import type { OperatorView } from '../modules/operators/operators.service';
import type { SegmentResult, SegmentsService } from '../modules/segments/segments.service';
import { segmentFilterSchema } from '../../web/shared/segment-filter';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { conflict, notFound } from './http-error';
import { idParamSchema, invalidFields, parseInput, parseJsonBody } from './validate-input';

export interface AdminSegmentsRouterDeps {
  segments: SegmentsService;
  auth: AuthMiddleware;
}

const nameSchema = z.string().trim().min(1).max(64);
const previewSchema = z.strictObject({ filter: segmentFilterSchema });
const createSchema = z.strictObject({ name: nameSchema, filter: segmentFilterSchema });
const updateSchema = z.strictObject({ name: nameSchema.optional(), filter: segmentFilterSchema.optional() });
const membersQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: idParamSchema.optional(),
});

/**
 * Segments (DESIGN contract): admins and operators build and save them; sales reps read the list,
 * a segment and its members (only those they follow, as on the contact list). Every change is
 * audited by the service in the change's transaction.
 */
export function createAdminSegmentsRouter(deps: AdminSegmentsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const readers = deps.auth.requireOperator(['admin', 'operator', 'sales']);
  const editors = deps.auth.requireOperator(['admin', 'operator']);

  router.post('/api/admin/segments/preview', editors, async (ctx) => {
    const { filter } = await parseJsonBody(ctx, previewSchema);
    ctx.body = { count: await deps.segments.previewCount(filter) };
  });

  router.get('/api/admin/segments', readers, async (ctx) => {
    ctx.body = { items: await deps.segments.listSegments() };
  });

  router.get('/api/admin/segments/:id', readers, async (ctx) => {
    const segment = await deps.segments.getSegment(parseSegmentId(ctx.params.id));
    if (!segment) throw notFound('No such segment');
    ctx.body = segment;
  });

  router.get('/api/admin/segments/:id/members', readers, async (ctx) => {
    const id = parseSegmentId(ctx.params.id);
    const query = parseInput(membersQuerySchema, ctx.query);
    const page = await deps.segments.listMembers({ id, ...query, scope: scopeOf(ctx.state.operator) });
    if (!page) throw notFound('No such segment');
    ctx.body = page;
  });

  router.post('/api/admin/segments', editors, async (ctx) => {
    const body = await parseJsonBody(ctx, createSchema);
    ctx.body = unwrap(await deps.segments.createSegment({ ...body, actor: actorOf(ctx) }));
    ctx.status = 201;
  });

  router.put('/api/admin/segments/:id', editors, async (ctx) => {
    const id = parseSegmentId(ctx.params.id);
    const body = await parseJsonBody(ctx, updateSchema);
    ctx.body = unwrap(await deps.segments.updateSegment({ id, ...body, actor: actorOf(ctx) }));
  });

  router.delete('/api/admin/segments/:id', editors, async (ctx) => {
    const deleted = unwrap(await deps.segments.deleteSegment({ id: parseSegmentId(ctx.params.id), actor: actorOf(ctx) }));
    ctx.body = { deleted: true, id: deleted.id };
  });

  return router;
}

function unwrap<T>(result: SegmentResult<T>): T {
  if (result.ok) return result.value;
  switch (result.reason) {
    case 'not_found':
      throw notFound('No such segment');
    case 'duplicate_name':
      throw conflict('A segment with this name already exists', [{ path: 'name', code: 'name_taken', message: 'Name taken' }]);
    case 'in_use':
      throw conflict('Another segment reads this one', result.issues);
    case 'invalid':
      throw invalidFields(result.issues);
  }
}

function parseSegmentId(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw notFound('No such segment');
  return parsed.data;
}

/** As the contact list: a sales rep sees the contacts they follow in WeCom. */
function scopeOf(operator: OperatorView): ContactScope {
  return operator.role === 'sales' ? { kind: 'follower', userId: operator.wecomUserId } : { kind: 'all' };
}
