import Router, { type RouterContext, type RouterMiddleware } from '@koa/router';
import { z } from 'zod';
import type { ChannelsService } from '../modules/channels/channels.service';
import type { CheckinsService } from '../modules/exhibitions/checkins.service';
import type { EventCloudService, PublicCloudItem } from '../modules/exhibitions/event-cloud.service';
import type { EventsService } from '../modules/exhibitions/events.service';
import type { RegistrationsService } from '../modules/exhibitions/registrations.service';
import type { SurveysService } from '../modules/exhibitions/surveys.service';
import type { ContentService } from '../modules/content/content.service';
import { MP_REFUSALS, type MpRefusal, type MpResult } from '../modules/miniprogram/mp-refusal';
import type { MpCaller, MpSessionsService } from '../modules/miniprogram/mp-sessions.service';
import type { MpStaff, MpStaffService } from '../modules/miniprogram/mp-staff.service';
import { readBearerToken } from './auth.middleware';
import { clientIp, unwrapExhibition } from './exhibition-answers';
import { HttpError } from './http-error';
import { idParamSchema, parseInput, parseJsonBody } from './validate-input';

export interface MpRouterDeps {
  sessions: MpSessionsService;
  staff: MpStaffService;
  channels: ChannelsService;
  events: EventsService;
  registrations: RegistrationsService;
  checkins: CheckinsService;
  content: ContentService;
  cloud: EventCloudService;
  surveys: SurveysService;
  /** The subscribe-message templates the register page asks consent for (the event reminder's, when configured). */
  subscribeTemplateIds: readonly string[];
}

/** Koa state on /api/mp routes after `requireSession`: the caller, and (after `requireStaff`) their operator. */
export interface MpState {
  caller: MpCaller;
  staff?: MpStaff;
}
type MpContext = RouterContext<MpState>;

/** wx.login's and getPhoneNumber's codes, and a staff binding code: short opaque strings. */
const codeSchema = z.strictObject({ code: z.string().trim().min(1).max(128) });
const channelIdSchema = z.number().int().positive().max(2_147_483_647).nullable().optional();
/** Answers are checked against the event's own form (registration-form.ts), as the H5 page's are. */
const registrationSchema = z.strictObject({
  answers: z.unknown().optional(),
  consent: z.unknown().optional(),
  channelId: channelIdSchema,
  smsCode: z.string().max(16).nullable().optional(),
});
/** wx.requestSubscribeMessage's success result: `{TEMPLATE_ID: 'accept' | 'reject' | 'ban' | 'filter', errMsg}`. */
const consentSchema = z.strictObject({
  result: z
    .record(z.string().min(1).max(128), z.string().max(64))
    .refine((r) => Object.keys(r).length <= 20, { message: 'At most 20 templates' }),
  reportKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/)
    .nullable()
    .optional(),
});
const checkinSchema = z.strictObject({
  ticket: z.string().min(1).max(256),
  gate: z.string().trim().min(1).max(32).nullable().optional(),
  /** The scanner's id for this scan: the same nonce again gets the first answer (an offline retry). */
  nonce: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/)
    .nullable()
    .optional(),
});
const viewSchema = z.strictObject({
  /** The view's key from the first report; with it, `seconds` is the read time so far. */
  viewKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/)
    .optional(),
  seconds: z.number().min(0).max(86_400).optional(),
  eventId: z.number().int().positive().max(2_147_483_647).nullable().optional(),
});
/**
 * A mini-program code's scene as onLaunch handed it over (getwxacodeunlimit: at most 32 visible
 * characters, URL-encoded, so 96 encoded), and the launch's own random id: one visit per launch.
 */
const channelVisitSchema = z.strictObject({
  scene: z.string().min(1).max(96),
  launchId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
});
const ticketsQuerySchema = z.object({ eventId: idParamSchema.optional() });
/** Types and bounds only: the cloud service checks the question (CONSULT_MAX_CHARS) and answers validation_failed. */
const consultSchema = z.strictObject({ question: z.string().max(5000) });
/** `satisfaction` (1–5) and each question's answer by key, checked against the survey as the H5 page's are. */
const surveyAnswerSchema = z.strictObject({ answers: z.record(z.string().max(32), z.unknown()) });
/** A content link's code (content.service.ts makes them base64url). */
const CONTENT_CODE = /^[A-Za-z0-9_-]{4,64}$/;
/** A ticket's first part is its event (ticket-token.ts): `<eventId>.<registrationId>.<key>.<mac>`. */
const TICKET_EVENT = /^([1-9]\d{0,9})\./;

/**
 * The mini-program's API (issue 17 §2-3). `POST /api/mp/login` opens a session; every other route
 * takes its token as `Authorization: Bearer <token>` (401 `mp_session_required` without a live
 * one, `mp_session_expired` past its expiry). Every call counts against its client IP and its
 * session (429 `rate_limited` with `details.retryAfterSeconds` and Retry-After). Event routes reuse
 * the exhibitions' services, so their answers are the H5 page's and the admin scanner's.
 */
export function createMpRouter(deps: MpRouterDeps): Router<MpState> {
  const router = new Router<MpState>();

  const requireSession = mpSessionMiddleware(deps.sessions);
  const requireStaff: RouterMiddleware<MpState> = async (ctx, next) => {
    const staff = await deps.staff.staffOf(ctx.state.caller);
    if (!staff)
      throw mpError({ ok: false, code: 'mp_staff_only', message: 'Only staff may scan tickets: bind this WeChat to an operator first' });
    ctx.state.staff = staff;
    await next();
  };

  router.post('/api/mp/login', async (ctx) => {
    const body = await parseJsonBody(ctx, codeSchema);
    const login = unwrapMp(await deps.sessions.login({ code: body.code, ip: clientIp(ctx) }));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { token: login.token, expiresAt: login.expiresAt, created: login.created };
  });

  router.get('/api/mp/me', requireSession, async (ctx) => {
    const [staff, phoneBound] = await Promise.all([deps.staff.staffOf(ctx.state.caller), deps.sessions.hasPhone(ctx.state.caller)]);
    ctx.body = { phoneBound, staff };
  });

  router.get('/api/mp/config', requireSession, (ctx) => {
    ctx.body = { subscribeTemplateIds: deps.subscribeTemplateIds };
  });

  router.post('/api/mp/phone', requireSession, async (ctx) => {
    const body = await parseJsonBody(ctx, codeSchema);
    ctx.body = unwrapMp(await deps.sessions.bindPhone({ caller: ctx.state.caller, code: body.code }));
  });

  router.post('/api/mp/subscribe-consent', requireSession, async (ctx) => {
    const body = await parseJsonBody(ctx, consentSchema);
    ctx.body = await deps.sessions.recordSubscribeConsent({
      caller: ctx.state.caller,
      result: body.result,
      reportKey: body.reportKey ?? null,
    });
  });

  // The mini-program was opened through a channel's code: the visit is attributed to the channel
  // (as an H5 page's `?ch=`), and the answer names the event it invites to, whose page opens next.
  router.post('/api/mp/channel-visits', requireSession, async (ctx) => {
    const body = await parseJsonBody(ctx, channelVisitSchema);
    const caller = ctx.state.caller;
    const visit = await deps.channels.recordVisit({
      scene: body.scene,
      channel: 'mp',
      identity: { kind: 'mp_openid', appId: caller.appId, value: caller.openid },
      page: 'launch',
      visitId: `${caller.sessionId}:${body.launchId}`,
    });
    if (!visit) throw new HttpError(404, 'channel_not_found', 'The scene names no channel of ours');
    ctx.status = 201;
    ctx.body = visit;
  });

  router.get('/api/mp/events', requireSession, async (ctx) => {
    ctx.body = { items: (await deps.events.listPublicEvents()).map(listItemOf) };
  });

  router.get('/api/mp/events/:eventId', requireSession, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const event = await deps.events.getPublicEvent(eventId);
    if (!event) throw eventNotFound();
    const caller = ctx.state.caller;
    // Opening the page is the visit: counted for the report (its visitor id is the contact's) and,
    // once a day, an `event_visit` on the timeline, as the H5 page's visits are.
    await deps.events.recordVisit({
      eventId,
      visitorId: `mp-${caller.contactId}`,
      channelId: null,
      contactId: caller.contactId,
      channel: 'mp',
    });
    const [mine] = await deps.registrations.ticketsOf(caller.contactId, { eventId });
    ctx.body = { ...event, seatsLeft: Math.max(0, event.capacity - event.registered), myRegistration: mine ?? null };
  });

  router.post('/api/mp/events/:eventId/registrations', requireSession, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const body = await parseJsonBody(ctx, registrationSchema);
    const result = await deps.registrations.register({
      eventId,
      answers: body.answers,
      consent: body.consent,
      channelId: body.channelId ?? null,
      smsCode: body.smsCode ?? null,
      visitorId: `mp-${ctx.state.caller.contactId}`,
      ip: clientIp(ctx),
      visitorContactId: ctx.state.caller.contactId,
      source: 'mp',
      // A paid event's order is for the session's openid of the mini-program's appid: its
      // wx.requestPayment opens the pay sheet in the mini-program.
      payer: payerOf(ctx.state.caller),
    });
    ctx.body = unwrapExhibition(result);
    ctx.status = 201;
  });

  // 去支付 of the session's unpaid registration of the event: its order's pay-sign parameters again.
  router.post('/api/mp/events/:eventId/registrations/pay', requireSession, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    ctx.body = unwrapExhibition(await deps.registrations.payAgainAs({ eventId, payer: payerOf(ctx.state.caller), ip: clientIp(ctx) }));
  });

  router.get('/api/mp/me/tickets', requireSession, async (ctx) => {
    const { eventId } = parseInput(ticketsQuerySchema, ctx.query);
    ctx.body = { items: await deps.registrations.ticketsOf(ctx.state.caller.contactId, { eventId }) };
  });

  router.get('/api/mp/events/:eventId/cloud', requireSession, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const cloud = await deps.cloud.publicCloud(eventId, null);
    if (!cloud) throw eventNotFound();
    // Opening the page is the visit, counted once per visitor (here, the contact) and on the
    // timeline once a day, as the H5 page's beacon records it.
    const contactId = ctx.state.caller.contactId;
    await deps.cloud.recordVisit({ eventId, visitorId: `mp-${contactId}`, channelId: null, contactId, channel: 'mp' });
    const items = (list: PublicCloudItem[]) =>
      list.map((item) => ({ code: item.code, title: item.title, kind: item.kind, summary: item.summary, cover: item.cover }));
    ctx.body = {
      event: cloud.event,
      sections: {
        materials: items(cloud.sections.materials),
        products: items(cloud.sections.products),
        cases: items(cloud.sections.cases),
      },
    };
  });

  router.post('/api/mp/events/:eventId/cloud/consult', requireSession, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const body = await parseJsonBody(ctx, consultSchema);
    const result = await deps.cloud.consult({
      eventId,
      message: body.question,
      phone: null,
      name: null,
      contactId: ctx.state.caller.contactId,
      channelId: null,
      ip: clientIp(ctx),
      channel: 'mp',
    });
    ctx.body = unwrapExhibition(result);
    ctx.status = 201;
  });

  router.get('/api/mp/events/:eventId/survey', requireSession, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    ctx.body = unwrapExhibition(await deps.surveys.publicSurvey({ eventId, contactId: ctx.state.caller.contactId }));
  });

  router.post('/api/mp/events/:eventId/survey/answers', requireSession, async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const { satisfaction, ...answers } = (await parseJsonBody(ctx, surveyAnswerSchema)).answers;
    const result = await deps.surveys.answer({ eventId, contactId: ctx.state.caller.contactId, satisfaction, answers, channel: 'mp' });
    ctx.body = unwrapExhibition(result);
    ctx.status = 201;
  });

  router.post('/api/mp/staff/bind', requireSession, async (ctx) => {
    const body = await parseJsonBody(ctx, codeSchema);
    ctx.body = { staff: unwrapMp(await deps.staff.bind({ caller: ctx.state.caller, code: body.code, ip: clientIp(ctx) })) };
  });

  router.post('/api/mp/checkins', requireSession, requireStaff, async (ctx) => {
    const body = await parseJsonBody(ctx, checkinSchema);
    const event = TICKET_EVENT.exec(body.ticket);
    if (!event) throw new HttpError(400, 'invalid_ticket', 'The ticket is not one of ours (malformed or forged)');
    const result = await deps.checkins.checkIn({
      eventId: Number(event[1]),
      token: body.ticket,
      gate: body.gate ?? null,
      nonce: body.nonce ?? null,
      operatorId: ctx.state.staff?.operatorId ?? null,
    });
    ctx.body = unwrapExhibition(result);
  });

  router.get('/api/mp/content/:code', requireSession, async (ctx) => {
    const code = String(ctx.params.code ?? '');
    const material = CONTENT_CODE.test(code) ? await deps.content.readMaterial(code) : null;
    if (!material) throw contentNotFound();
    ctx.body = material;
  });

  router.post('/api/mp/content/:code/views', requireSession, async (ctx) => {
    const code = String(ctx.params.code ?? '');
    const body = await parseJsonBody(ctx, viewSchema);
    if (!CONTENT_CODE.test(code)) throw contentNotFound();
    if (body.viewKey !== undefined) {
      const kept = await deps.content.recordReadTime({ code, viewKey: body.viewKey, seconds: body.seconds ?? 0 });
      if (kept === 'not_found') throw contentNotFound();
      ctx.status = 204;
      return;
    }
    const viewed = await deps.content.recordView({
      code,
      channelId: null,
      visitorId: null,
      contactId: ctx.state.caller.contactId,
      eventId: body.eventId ?? null,
      channel: 'mp',
    });
    if (!viewed) throw contentNotFound();
    ctx.status = 201;
    ctx.body = { viewKey: viewed.viewKey };
  });

  return router;
}

/**
 * The session check every /api/mp route but login runs: 401 without a live bearer token, then the
 * call counted against its IP and session (429). Shared by the mini-program's routers.
 */
export function mpSessionMiddleware(sessions: MpSessionsService): RouterMiddleware<MpState> {
  return async (ctx, next) => {
    const token = readBearerToken(ctx);
    const session = token === null ? null : await sessions.authenticate(token);
    if (session === null)
      throw mpError({ ok: false, code: 'mp_session_required', message: 'Send Authorization: Bearer <token> from POST /api/mp/login' });
    const caller = unwrapMp(session);
    unwrapLimit(ctx, await sessions.limit({ ip: clientIp(ctx), sessionId: caller.sessionId }));
    ctx.state.caller = caller;
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
}

function listItemOf(event: Awaited<ReturnType<EventsService['listPublicEvents']>>[number]) {
  return {
    id: event.id,
    name: event.name,
    venue: event.venue,
    startsAt: event.startsAt,
    endsAt: event.endsAt,
    registrationDeadline: event.registrationDeadline,
    capacity: event.capacity,
    registered: event.registered,
    seatsLeft: Math.max(0, event.capacity - event.registered),
    status: event.status,
    waitlist: event.waitlist,
    ticketPriceFen: event.ticketPriceFen,
  };
}

function payerOf(caller: MpCaller): { contactId: number; openid: string; appId: string } {
  return { contactId: caller.contactId, openid: caller.openid, appId: caller.appId };
}

function mpError(refusal: MpRefusal): HttpError {
  return new HttpError(MP_REFUSALS[refusal.code], refusal.code, refusal.message, refusal.details);
}

/** A mini-program service's answer, or its refusal thrown as the HTTP error MP_REFUSALS maps it to. */
export function unwrapMp<T>(result: MpResult<T>): T {
  if (result.ok) return result.value;
  throw mpError(result);
}

function unwrapLimit(ctx: MpContext, refusal: MpRefusal | null): void {
  if (!refusal) return;
  const retry = refusal.details?.retryAfterSeconds;
  if (typeof retry === 'number') ctx.set('Retry-After', String(retry));
  throw mpError(refusal);
}

function eventIdOf(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw eventNotFound();
  return parsed.data;
}

function eventNotFound(): HttpError {
  return new HttpError(404, 'event_not_found', 'No such event');
}

function contentNotFound(): HttpError {
  return new HttpError(404, 'not_found', 'No such content link');
}
