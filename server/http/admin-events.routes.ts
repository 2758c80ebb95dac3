import Router from '@koa/router';
import { z } from 'zod';
import { EVENT_FIELD_TYPES } from '../../entities/event.entity';
import type { CheckinsService } from '../modules/exhibitions/checkins.service';
import { REGISTRATION_LIST_STATUSES, type EventInput, type EventsService } from '../modules/exhibitions/events.service';
import type { RegistrationsService } from '../modules/exhibitions/registrations.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { unwrapExhibition } from './exhibition-answers';
import { HttpError } from './http-error';
import { idParamSchema, invalidFields, parseInput, parseJsonBody } from './validate-input';

export interface AdminEventsRouterDeps {
  events: EventsService;
  checkins: CheckinsService;
  registrations: RegistrationsService;
  auth: AuthMiddleware;
}

const isoTime = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
const fieldSchema = z.strictObject({
  key: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  label: z.string().trim().min(1).max(32),
  type: z.enum(EVENT_FIELD_TYPES),
  required: z.boolean(),
  options: z.array(z.string().trim().min(1).max(64)).min(1).max(50).optional(),
  maxLength: z.number().int().min(1).max(2000).optional(),
});
const venueSchema = z.strictObject({
  name: z.string().trim().min(1).max(128).optional(),
  address: z.string().trim().min(1).max(256),
  lat: z.number().min(-90).max(90).optional(),
  lng: z.number().min(-180).max(180).optional(),
});
const benefitSchema = z.strictObject({ kind: z.enum(['gift', 'coupon']), description: z.string().trim().min(1).max(200) }).nullable();
const agendaSchema = z
  .array(
    z.strictObject({
      time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
      title: z.string().trim().min(1).max(128),
      speaker: z.string().trim().min(1).max(64).optional(),
    }),
  )
  .max(100);
const factsSchema = z.strictObject({
  weather: z.string().trim().max(200).optional(),
  traffic: z.string().trim().max(500).optional(),
  expectedHeadcount: z.number().int().min(0).max(10_000_000).optional(),
});
const eventShape = {
  name: z.string().trim().min(1).max(128),
  venue: venueSchema,
  startsAt: isoTime,
  endsAt: isoTime,
  capacity: z.number().int().min(1).max(1_000_000),
  registrationDeadline: isoTime,
  fields: z.array(fieldSchema).max(30),
  benefit: benefitSchema,
  agenda: agendaSchema.optional(),
  facts: factsSchema.optional(),
  smsVerification: z.boolean().optional(),
  waitlist: z.boolean().optional(),
  /** Paid tickets: the price in fen (¥0.01 to ¥1,000,000), null or absent for a free event. */
  ticketPriceFen: z.number().int().min(1).max(100_000_000).nullable().optional(),
};
const createSchema = z.strictObject(eventShape);
const updateSchema = z.strictObject({
  name: eventShape.name.optional(),
  venue: venueSchema.optional(),
  startsAt: isoTime.optional(),
  endsAt: isoTime.optional(),
  capacity: eventShape.capacity.optional(),
  registrationDeadline: isoTime.optional(),
  fields: eventShape.fields.optional(),
  benefit: benefitSchema.optional(),
  agenda: agendaSchema.optional(),
  facts: factsSchema.optional(),
  smsVerification: z.boolean().optional(),
  waitlist: z.boolean().optional(),
  ticketPriceFen: eventShape.ticketPriceFen,
});
const registrationsQuery = z.strictObject({
  /** The keyset cursor: the `next` of the page before (`before`/`nextBefore`: its earlier name). */
  after: idParamSchema.optional(),
  before: idParamSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  status: z.enum(REGISTRATION_LIST_STATUSES).optional(),
  q: z.string().trim().max(64).optional(),
});
/** A gate's name, and the scanner's nonce (a UUID or any id the phone made; 64 characters at most). */
const gateSchema = z.string().trim().min(1).max(32).optional();
const nonceSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/)
  .optional();
const checkinSchema = z.strictObject({ token: z.string().min(1).max(256), gate: gateSchema, nonce: nonceSchema });
const walkInSchema = z.strictObject({ answers: z.record(z.string(), z.unknown()), gate: gateSchema, nonce: nonceSchema });

/**
 * Events (活动), issue 15 §2 and §4: admins and operators create and edit them (audited); every
 * role reads them and scans at the gates (sales reps staff the gates too). The contract:
 * docs/ARCHITECTURE.md, "Exhibitions".
 */
export function createAdminEventsRouter(deps: AdminEventsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const readers = deps.auth.requireOperator(['admin', 'operator', 'sales']);
  const editors = deps.auth.requireOperator(['admin', 'operator']);

  router.get('/api/admin/events', readers, async (ctx) => {
    ctx.body = { items: await deps.events.listEvents() };
  });

  router.post('/api/admin/events', editors, async (ctx) => {
    const body = await parseJsonBody(ctx, createSchema);
    const input: EventInput = {
      ...body,
      agenda: body.agenda ?? [],
      facts: body.facts ?? {},
      smsVerification: body.smsVerification ?? false,
      waitlist: body.waitlist ?? false,
      ticketPriceFen: body.ticketPriceFen ?? null,
    };
    checkEvent(input);
    ctx.body = await deps.events.createEvent({ ...input, actor: actorOf(ctx) });
    ctx.status = 201;
  });

  router.get('/api/admin/events/:eventId', readers, async (ctx) => {
    const event = await deps.events.getEvent(eventIdOf(ctx.params.eventId));
    if (!event) throw eventNotFound();
    ctx.body = event;
  });

  router.patch('/api/admin/events/:eventId', editors, async (ctx) => {
    const id = eventIdOf(ctx.params.eventId);
    const patch = await parseJsonBody(ctx, updateSchema);
    const current = await deps.events.getEvent(id);
    if (!current) throw eventNotFound();
    checkEvent({
      startsAt: patch.startsAt ?? new Date(current.startsAt),
      endsAt: patch.endsAt ?? new Date(current.endsAt),
      registrationDeadline: patch.registrationDeadline ?? new Date(current.registrationDeadline),
      fields: patch.fields ?? current.fields,
      waitlist: patch.waitlist ?? current.waitlist,
      ticketPriceFen: patch.ticketPriceFen === undefined ? current.ticketPriceFen : patch.ticketPriceFen,
    });
    const result = await deps.events.updateEvent({ id, patch, actor: actorOf(ctx) });
    if (result.ok) {
      ctx.body = result.value;
      return;
    }
    if (result.reason === 'not_found') throw eventNotFound();
    if (result.reason === 'price_locked')
      throw invalidFields([
        {
          path: 'ticketPriceFen',
          code: 'price_locked',
          message: `The ticket price cannot change once people registered (${result.registrations})`,
          params: { registrations: result.registrations },
        },
      ]);
    throw invalidFields([
      {
        path: 'capacity',
        code: 'capacity_below_registered',
        message: `At least ${result.registered}`,
        params: { registered: result.registered },
      },
    ]);
  });

  // Phones masked for sales reps, as on the contacts screens (their phones are not theirs to copy).
  router.get('/api/admin/events/:eventId/registrations', readers, async (ctx) => {
    const { after, before, ...query } = parseInput(registrationsQuery, ctx.query);
    const page = await deps.events.listRegistrations({
      eventId: eventIdOf(ctx.params.eventId),
      ...query,
      before: after ?? before,
      maskPhones: ctx.state.operator.role === 'sales',
    });
    if (!page) throw eventNotFound();
    ctx.body = { ...page, next: page.nextBefore };
  });

  // The operator's cancel: the ticket revoked as the holder's cancel does, audited.
  router.post('/api/admin/events/:eventId/registrations/:registrationId/cancel', editors, async (ctx) => {
    const registrationId = idParamSchema.safeParse(ctx.params.registrationId);
    if (!registrationId.success) throw new HttpError(404, 'registration_not_found', 'No such registration for this event');
    const result = await deps.registrations.cancelByOperator({
      eventId: eventIdOf(ctx.params.eventId),
      registrationId: registrationId.data,
      actor: actorOf(ctx),
    });
    ctx.body = unwrapExhibition(result);
  });

  router.post('/api/admin/events/:eventId/checkins', readers, async (ctx) => {
    const body = await parseJsonBody(ctx, checkinSchema);
    const result = await deps.checkins.checkIn({ eventId: eventIdOf(ctx.params.eventId), ...body, operatorId: ctx.state.operator.id });
    ctx.body = unwrapExhibition(result);
  });

  router.post('/api/admin/events/:eventId/walk-ins', readers, async (ctx) => {
    const body = await parseJsonBody(ctx, walkInSchema);
    const result = await deps.checkins.walkIn({ eventId: eventIdOf(ctx.params.eventId), ...body, operatorId: ctx.state.operator.id });
    ctx.body = unwrapExhibition(result);
    ctx.status = 201;
  });

  router.get('/api/admin/events/:eventId/headcount', readers, async (ctx) => {
    const headcount = await deps.checkins.headcount(eventIdOf(ctx.params.eventId));
    if (!headcount) throw eventNotFound();
    ctx.body = headcount;
  });

  return router;
}

/** What zod cannot see field by field: the times' order and the form's keys. */
function checkEvent(e: Pick<EventInput, 'startsAt' | 'endsAt' | 'registrationDeadline' | 'fields' | 'waitlist' | 'ticketPriceFen'>): void {
  const issues: { path: string; code: string; message: string }[] = [];
  if (e.endsAt.getTime() <= e.startsAt.getTime())
    issues.push({ path: 'endsAt', code: 'event_times', message: 'The end must come after the start' });
  if (e.registrationDeadline.getTime() > e.endsAt.getTime())
    issues.push({ path: 'registrationDeadline', code: 'event_times', message: 'The deadline must not be after the end' });
  const keys = e.fields.map((f) => f.key);
  keys.forEach((key, i) => {
    if (keys.indexOf(key) !== i) issues.push({ path: `fields.${i}.key`, code: 'event_field_keys', message: `Key ${key} is used twice` });
  });
  e.fields.forEach((field, i) => {
    if (field.type === 'select' && !field.options?.length)
      issues.push({ path: `fields.${i}.options`, code: 'event_field_options', message: 'A select needs options' });
    if ((field.key === 'name' && field.type !== 'text') || (field.key === 'phone' && field.type !== 'phone'))
      issues.push({ path: `fields.${i}.type`, code: 'event_field_type', message: 'name is text, phone is phone' });
  });
  // A promoted waitlisted person would have to pay on the notice of their seat, which is not built:
  // a paid event is first come, first paid, and full when every seat is held (paid or unpaid).
  if (e.waitlist && e.ticketPriceFen !== null)
    issues.push({ path: 'waitlist', code: 'paid_event_waitlist', message: 'A paid event keeps no waitlist' });
  if (issues.length > 0) throw invalidFields(issues);
}

function eventIdOf(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw eventNotFound();
  return parsed.data;
}

function eventNotFound(): HttpError {
  return new HttpError(404, 'event_not_found', 'No such event');
}
