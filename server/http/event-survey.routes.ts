import Router from '@koa/router';
import { z } from 'zod';
import type { RegistrationsService } from '../modules/exhibitions/registrations.service';
import type { SurveysService } from '../modules/exhibitions/surveys.service';
import { clientIp, refusalError, unwrapExhibition } from './exhibition-answers';
import { HttpError } from './http-error';
import { idParamSchema, parseInput, parseJsonBody } from './validate-input';

export interface EventSurveyRouterDeps {
  surveys: SurveysService;
  registrations: Pick<RegistrationsService, 'limitIp'>;
}

const tokenSchema = z.string().min(1).max(256);
const answerSchema = z.strictObject({
  token: tokenSchema,
  /** `satisfaction` (1–5) and each question's answer by key; checked against the survey (survey-questions.ts). */
  answers: z.record(z.string().max(32), z.unknown()),
});

/**
 * The survey page's API (`/e/:eventId/survey?t=<token>`), without a login: the signed token names
 * the survey and the registration. An answer counts against the client IP like every public write.
 */
export function createEventSurveyRouter(deps: EventSurveyRouterDeps): Router {
  const router = new Router();

  router.get('/api/events/:eventId/survey', async (ctx) => {
    const { t } = parseInput(z.object({ t: tokenSchema }), ctx.query);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = unwrapExhibition(await deps.surveys.publicSurvey({ eventId: eventIdOf(ctx.params.eventId), token: t }));
  });

  router.post('/api/events/:eventId/survey-answers', async (ctx) => {
    const eventId = eventIdOf(ctx.params.eventId);
    const body = await parseJsonBody(ctx, answerSchema);
    const limited = await deps.registrations.limitIp(clientIp(ctx));
    if (limited) throw refusalError(limited);
    const { satisfaction, ...answers } = body.answers;
    ctx.body = unwrapExhibition(await deps.surveys.answer({ eventId, token: body.token, satisfaction, answers }));
    ctx.status = 201;
  });

  return router;
}

function eventIdOf(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw new HttpError(404, 'event_not_found', 'No such event');
  return parsed.data;
}
