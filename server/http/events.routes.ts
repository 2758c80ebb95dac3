import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { EventsService } from '../modules/exhibitions/events.service';
import type { RegistrationsService } from '../modules/exhibitions/registrations.service';
import { clientIp, refusalError, unwrapExhibition } from './exhibition-answers';
import { HttpError } from './http-error';
import { visitorContactId } from './visitor.middleware';
import { idParamSchema, parseJsonBody } from './validate-input';

export interface EventsRouterDeps {
  events: EventsService;
  registrations: RegistrationsService;
  /**
   * The web OAuth visitor middleware (visitor.middleware.ts): on the visit and the registration it
   * reads the page's visitor cookie (an API call is never redirected), so a visitor identified
   * inside WeChat visits and registers as their contact. Absent: every caller is anonymous.
   */
  visitor?: Middleware;
  /** The registering visitor's contact: visitorContactId after `visitor`, unless a test gives its own (as the offer page's). */
  identifyVisitor?: (ctx: Context) => Promise<number | null>;
}

/** The invitation page's random visitor id (localStorage). */
const visitorIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
const channelIdSchema = z.number().int().positive().max(2_147_483_647).nullable().optional();
const visitSchema = z.strictObject({ channelId: channelIdSchema, visitorId: visitorIdSchema });
const smsCodeSchema = z.strictObject({ phone: z.string().max(32) });
/** Answers are checked against the event's own form (registration-form.ts), not here. */
const registrationSchema = z.strictObject({
  answers: z.unknown().optional(),
  consent: z.unknown().optional(),
  channelId: channelIdSchema,
  smsCode: z.string().max(16).nullable().optional(),
  visitorId: visitorIdSchema.nullable().optional(),
});
const cancelSchema = z.strictObject({ token: z.string().min(1).max(256) });
/** A token as the contract shapes it; anything else is not looked at. */
const TOKEN_PARAM = /^[A-Za-z0-9._-]{1,256}$/;

/**
 * The exhibition API the H5 pages (and later the mini-program) call without a login (issue 15 §3).
 * Every write is limited per client IP and per phone (RegistrationsService); a 429 says when to
 * come back. Reads of an event or a ticket change nothing and carry nothing guessable.
 */
export function createEventsRouter(deps: EventsRouterDeps): Router {
  const router = new Router();
  const visitor: Middleware = deps.visitor ?? ((_ctx, next) => next());

  router.get('/api/events/:eventId', async (ctx) => {
    const event = await deps.events.getPublicEvent(eventIdOf(ctx.params.eventId));
    if (!event) throw eventNotFound();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = event;
  });

  router.post('/api/events/:eventId/visits', visitor, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const body = await parseJsonBody(ctx, visitSchema);
    const limited = await deps.registrations.limitIp(clientIp(ctx));
    if (limited) throw refusalError(limited);
    const visit = { eventId, visitorId: body.visitorId, channelId: body.channelId ?? null, contactId: visitorContactId(ctx) };
    if (!(await deps.events.recordVisit(visit))) throw eventNotFound();
    ctx.status = 204;
  });

  router.post('/api/events/:eventId/sms-codes', async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const body = await parseJsonBody(ctx, smsCodeSchema);
    unwrapExhibition(await deps.registrations.sendSmsCode({ eventId, phone: body.phone, ip: clientIp(ctx) }));
    ctx.status = 202;
  });

  router.post('/api/events/:eventId/registrations', visitor, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const body = await parseJsonBody(ctx, registrationSchema);
    const result = await deps.registrations.register({
      eventId,
      answers: body.answers,
      consent: body.consent,
      channelId: body.channelId ?? null,
      smsCode: body.smsCode ?? null,
      visitorId: body.visitorId ?? null,
      ip: clientIp(ctx),
      visitorContactId: deps.identifyVisitor ? await deps.identifyVisitor(ctx) : visitorContactId(ctx),
    });
    ctx.body = unwrapExhibition(result);
    ctx.status = 201;
  });

  router.post('/api/events/:eventId/registrations/cancel', async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const body = await parseJsonBody(ctx, cancelSchema);
    ctx.body = unwrapExhibition(await deps.registrations.cancel({ eventId, token: body.token, ip: clientIp(ctx) }));
  });

  // Paid tickets: the ticket page's 去支付 (the same order prepaid again: its pay-sign parameters).
  router.post('/api/events/:eventId/registrations/pay', async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const body = await parseJsonBody(ctx, cancelSchema);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = unwrapExhibition(await deps.registrations.payAgain({ eventId, token: body.token, ip: clientIp(ctx) }));
  });

  router.get('/api/events/:eventId/tickets/:token', async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = unwrapExhibition(await deps.registrations.ticketStatus({ eventId, token: tokenOf(ctx.params.token) }));
  });

  router.get('/api/events/:eventId/tickets/:token/qr.png', async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const png = unwrapExhibition(await deps.registrations.ticketQr({ eventId, token: tokenOf(ctx.params.token) }));
    ctx.type = 'image/png';
    // The token is in the URL: no shared cache may keep it.
    ctx.set('Cache-Control', 'private, max-age=3600');
    ctx.body = png;
  });

  return router;
}

function eventIdOf(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw eventNotFound();
  return parsed.data;
}

function tokenOf(raw: string | undefined): string {
  if (raw === undefined || !TOKEN_PARAM.test(raw)) throw new HttpError(400, 'invalid_ticket', 'Not a ticket');
  return raw;
}

function eventNotFound(): HttpError {
  return new HttpError(404, 'event_not_found', 'No such event');
}
