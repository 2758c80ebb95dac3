import Router from '@koa/router';
import { z } from 'zod';
import { SURVEY_QUESTION_KINDS } from '../../entities/survey.entity';
import type { EventFollowupsService, FollowupScope } from '../modules/exhibitions/event-followups.service';
import type { EventRecapService } from '../modules/exhibitions/event-recap.service';
import { checkSurveyQuestions, SURVEY_MAX_QUESTIONS } from '../modules/exhibitions/survey-questions';
import type { SurveysService } from '../modules/exhibitions/surveys.service';
import type { OperatorView } from '../modules/operators/operators.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { unwrapExhibition } from './exhibition-answers';
import { HttpError } from './http-error';
import { idParamSchema, invalidFields, parseInput, parseJsonBody } from './validate-input';

export interface AdminEventAfterRouterDeps {
  recaps: EventRecapService;
  surveys: SurveysService;
  followups: EventFollowupsService;
  /** The active sales operators reachable in WeCom: whom a follow-up can be assigned to. */
  salesReps: () => Promise<{ operatorId: number; name: string }[]>;
  auth: AuthMiddleware;
}

/** A link of a recap: a path of this site (`/e/…`) or an http(s) URL. */
const linkSchema = z
  .string()
  .trim()
  .max(512)
  .refine((value) => /^\/[^/]/.test(value) || /^https?:\/\/[^\s]+$/.test(value), 'A path starting with / or an http(s) URL');
const versionSchema = z.strictObject({
  title: z.string().trim().min(1).max(20),
  text: z.string().trim().min(1).max(200),
  link: linkSchema.nullable().optional(),
});
const recapSchema = z.strictObject({ attendee: versionSchema, absentee: versionSchema });
const questionSchema = z.strictObject({
  key: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  kind: z.enum(SURVEY_QUESTION_KINDS),
  label: z.string().trim().min(1).max(200),
  required: z.boolean(),
  options: z.array(z.string().trim().min(1).max(64)).max(20).optional(),
});
const surveySchema = z.strictObject({
  title: z.string().trim().min(1).max(20),
  satisfactionLabel: z.string().trim().min(1).max(128),
  questions: z.array(questionSchema).max(SURVEY_MAX_QUESTIONS),
});
const surveySendSchema = z.strictObject({
  minScore: z.number().int().min(-1_000_000).max(1_000_000),
  minInteractions: z.number().int().min(0).max(1_000_000),
  dryRun: z.boolean().optional(),
});
const followupsQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
const assignSchema = z.strictObject({
  contactIds: z.array(z.number().int().positive().max(2_147_483_647)).min(1).max(500),
  operatorId: z.number().int().positive().max(2_147_483_647),
});

/**
 * After the event (issue 15 §5): the recap push, the survey (its questions and its invitation to
 * the most active attendees) and the sales follow-up list. Marketers (admins, operators) send and
 * assign, audited; sales reps read and close their own follow-ups. The contract:
 * docs/ARCHITECTURE.md, "After the event".
 */
export function createAdminEventAfterRouter(deps: AdminEventAfterRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const everyone = deps.auth.requireOperator(['admin', 'operator', 'sales']);
  const marketers = deps.auth.requireOperator(['admin', 'operator']);

  router.post('/api/admin/events/:eventId/recap', marketers, async (ctx) => {
    const body = await parseJsonBody(ctx, recapSchema);
    ctx.body = unwrapExhibition(
      await deps.recaps.sendRecap({
        eventId: eventIdOf(ctx.params.eventId),
        attendee: { ...body.attendee, link: body.attendee.link ?? null },
        absentee: { ...body.absentee, link: body.absentee.link ?? null },
        actor: actorOf(ctx),
      }),
    );
  });

  router.get('/api/admin/events/:eventId/survey', marketers, async (ctx) => {
    const survey = await deps.surveys.getSurvey(eventIdOf(ctx.params.eventId));
    if (!survey) throw new HttpError(404, 'survey_not_found', 'The event has no survey');
    ctx.body = survey;
  });

  router.put('/api/admin/events/:eventId/survey', marketers, async (ctx) => {
    const body = await parseJsonBody(ctx, surveySchema);
    const problems = checkSurveyQuestions(body.questions);
    if (problems.length > 0) throw invalidFields(problems.map((p) => ({ ...p, code: 'survey_questions' })));
    const input = { ...body, questions: body.questions.map((q) => (q.kind === 'text' ? { ...q, options: undefined } : q)) };
    ctx.body = unwrapExhibition(await deps.surveys.saveSurvey({ eventId: eventIdOf(ctx.params.eventId), input, actor: actorOf(ctx) }));
  });

  router.post('/api/admin/events/:eventId/survey/send', marketers, async (ctx) => {
    const body = await parseJsonBody(ctx, surveySendSchema);
    ctx.body = unwrapExhibition(
      await deps.recaps.sendSurvey({ eventId: eventIdOf(ctx.params.eventId), ...body, dryRun: body.dryRun ?? false, actor: actorOf(ctx) }),
    );
  });

  router.get('/api/admin/events/:eventId/followups', everyone, async (ctx) => {
    const query = parseInput(followupsQuery, ctx.query);
    const { operator } = ctx.state;
    const page = await deps.followups.list({
      eventId: eventIdOf(ctx.params.eventId),
      scope: scopeOf(operator),
      maskPhones: operator.role === 'sales',
      ...query,
    });
    ctx.body = { ...page, reps: operator.role === 'sales' ? [] : await deps.salesReps() };
  });

  router.post('/api/admin/events/:eventId/followups/assign', marketers, async (ctx) => {
    const body = await parseJsonBody(ctx, assignSchema);
    ctx.body = unwrapExhibition(await deps.followups.assign({ eventId: eventIdOf(ctx.params.eventId), ...body, actor: actorOf(ctx) }));
  });

  router.post('/api/admin/events/:eventId/followups/:contactId/done', everyone, async (ctx) => {
    const contactId = idParamSchema.safeParse(ctx.params.contactId);
    if (!contactId.success) throw new HttpError(404, 'followup_not_found', 'No such follow-up');
    ctx.body = unwrapExhibition(
      await deps.followups.done({
        eventId: eventIdOf(ctx.params.eventId),
        contactId: contactId.data,
        scope: scopeOf(ctx.state.operator),
        actor: actorOf(ctx),
      }),
    );
  });

  return router;
}

/** Sales reps see and close the follow-ups assigned to them; another's answers 404, as contacts outside their scope do. */
function scopeOf(operator: OperatorView): FollowupScope {
  return operator.role === 'sales' ? { kind: 'operator', operatorId: operator.id } : { kind: 'all' };
}

function eventIdOf(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw new HttpError(404, 'event_not_found', 'No such event');
  return parsed.data;
}
