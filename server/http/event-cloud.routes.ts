import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { channelIdFromQuery } from '../modules/channels/channel-scene';
import type { EventCloudService } from '../modules/exhibitions/event-cloud.service';
import type { Refusal } from '../modules/exhibitions/exhibition-refusal';
import { clientIp, refusalError, unwrapExhibition } from './exhibition-answers';
import { HttpError } from './http-error';
import { idParamSchema, parseJsonBody } from './validate-input';
import { visitorContactId } from './visitor.middleware';

export interface EventCloudRouterDeps {
  cloud: EventCloudService;
  /** Limits the visit beacon per IP as the invitation's visits are (RegistrationsService.limitIp). */
  limitIp: (ip: string | null) => Promise<Refusal | null>;
  /** Sets the visitor from the cookie before the POSTs (visitor.middleware.ts, createVisitorReader): visitorContactId(ctx) after it. */
  readVisitor: Middleware;
}

const visitorIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
const channelIdSchema = z.number().int().positive().max(2_147_483_647).nullable().optional();
const visitSchema = z.strictObject({ channelId: channelIdSchema, visitorId: visitorIdSchema });
/** Types and generous bounds only: the service checks the message and the phone, and answers validation_failed per field. */
const consultSchema = z.strictObject({
  message: z.string().max(5000),
  phone: z.string().max(32).nullable().optional(),
  name: z.string().max(200).nullable().optional(),
  channelId: channelIdSchema,
});

/**
 * The cloud exhibition's public API (/e/:eventId/cloud calls it without a login, issue 15 §4):
 * the items, the visit beacon, and the online consult. Writes are limited per client IP (and a
 * consult per phone) like registrations; a 429 says when to come back.
 */
export function createEventCloudRouter(deps: EventCloudRouterDeps): Router {
  const router = new Router();

  router.get('/api/events/:eventId/cloud', async (ctx) => {
    const cloud = await deps.cloud.publicCloud(eventIdOf(ctx.params.eventId), channelIdFromQuery(ctx.query.ch));
    if (!cloud) throw eventNotFound();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = cloud;
  });

  router.post('/api/events/:eventId/cloud/visits', deps.readVisitor, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const body = await parseJsonBody(ctx, visitSchema);
    const limited = await deps.limitIp(clientIp(ctx));
    if (limited) throw refusalError(limited);
    const contactId = visitorContactId(ctx);
    const recorded = await deps.cloud.recordVisit({ eventId, visitorId: body.visitorId, channelId: body.channelId ?? null, contactId });
    if (!recorded) throw eventNotFound();
    // The page cannot read the httpOnly visitor cookie: this tells it whether the consult form needs a phone.
    ctx.body = { known: contactId !== null };
  });

  router.post('/api/events/:eventId/consults', deps.readVisitor, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const body = await parseJsonBody(ctx, consultSchema);
    const result = await deps.cloud.consult({
      eventId,
      message: body.message,
      phone: body.phone ?? null,
      name: body.name ?? null,
      contactId: visitorContactId(ctx),
      channelId: body.channelId ?? null,
      ip: clientIp(ctx),
    });
    ctx.body = unwrapExhibition(result);
    ctx.status = 201;
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
