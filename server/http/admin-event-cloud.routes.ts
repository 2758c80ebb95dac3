import Router from '@koa/router';
import { z } from 'zod';
import { CLOUD_SECTIONS } from '../../entities/event-cloud-item.entity';
import { CLOUD_MAX_PER_SECTION, type EventCloudService } from '../modules/exhibitions/event-cloud.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { HttpError } from './http-error';
import { idParamSchema, invalidFields, parseJsonBody } from './validate-input';

export interface AdminEventCloudRouterDeps {
  cloud: EventCloudService;
  auth: AuthMiddleware;
}

const itemSchema = z.strictObject({ materialId: z.number().int().positive().max(2_147_483_647), section: z.enum(CLOUD_SECTIONS) });
/** The whole list, in page order per section (the panel saves what it shows). */
const replaceSchema = z.strictObject({ items: z.array(itemSchema).max(CLOUD_MAX_PER_SECTION * CLOUD_SECTIONS.length) });

/**
 * An event's cloud exhibition (云展厅, issue 15 §4): every role reads it, admins and operators
 * replace it (audited `event.cloud_update`), as with the event itself (admin-events.routes.ts).
 */
export function createAdminEventCloudRouter(deps: AdminEventCloudRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const readers = deps.auth.requireOperator(['admin', 'operator', 'sales']);
  const editors = deps.auth.requireOperator(['admin', 'operator']);

  router.get('/api/admin/events/:eventId/cloud', readers, async (ctx) => {
    const cloud = await deps.cloud.getCloud(eventIdOf(ctx.params.eventId));
    if (!cloud) throw eventNotFound();
    ctx.body = cloud;
  });

  router.put('/api/admin/events/:eventId/cloud', editors, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const body = await parseJsonBody(ctx, replaceSchema);
    const result = await deps.cloud.replaceCloud({ eventId, items: body.items, actor: actorOf(ctx) });
    if (result.ok) {
      ctx.body = result.value;
      return;
    }
    if (result.reason === 'not_found') throw eventNotFound();
    throw invalidFields(result.issues);
  });

  return router;
}

function eventIdOf(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw eventNotFound();
  return parsed.data;
}

function eventNotFound(): HttpError {
  return new HttpError(404, 'event_not_found', 'No such event');
}
