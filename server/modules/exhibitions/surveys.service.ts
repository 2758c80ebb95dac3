import type { DataSource, EntityManager } from 'typeorm';
import { Survey, type SurveyQuestion } from '../../../entities/survey.entity';
import { SurveyAnswer } from '../../../entities/survey-answer.entity';
import type { Clock } from '../../adapters/clock';
import { isUniqueViolation } from '../../db/errors';
import type { Transactor } from '../../db/transaction';
import { describeRecord, type AuditActor, type AuditService } from '../audit/audit.service';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';
import { refuse, type Refusal } from './exhibition-refusal';
import { checkSurveyAnswer, type SurveyAnswers } from './survey-questions';
import { signSurveyToken, verifySurveyToken } from './survey-token';

export interface SurveysServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
  /** The tickets' HMAC key: survey links are signed with it (survey-token.ts keeps the two apart). */
  secret: () => Promise<Buffer>;
  /** Where survey links point: `${publicBaseUrl}/e/<event>/survey?t=<token>`. */
  publicBaseUrl: string;
  onRecorded?: () => void;
}

export interface SurveyInput {
  title: string;
  satisfactionLabel: string;
  questions: SurveyQuestion[];
}

export interface SurveyView extends SurveyInput {
  id: number;
  eventId: number;
  responses: number;
  updatedAt: string;
}

export interface PublicSurveyView {
  eventId: number;
  eventName: string;
  title: string;
  satisfactionLabel: string;
  questions: SurveyQuestion[];
  /** The link's person answered already: the page shows its thanks instead. */
  answered: boolean;
}

type Result<T> = { ok: true; value: T } | Refusal;

/**
 * Who answers: the H5 page's signed link (its token names the registration), or a contact known
 * otherwise (the mini-program's session), whose registration for the event is looked up.
 */
export type SurveyTaker = { token: string } | { contactId: number };

/**
 * The satisfaction survey (满意度调查, issue 15 §5): one per event, edited by operators (audited),
 * answered through a signed link that names the survey and the registration, so the answer lands on
 * the right contact without a login. An answer is a `survey_answer` interaction (detail
 * `{eventId, surveyId, satisfaction, answers}`), which the rules, scoring and journeys react to.
 */
export class SurveysService {
  constructor(private readonly deps: SurveysServiceDeps) {}

  async getSurvey(eventId: number): Promise<SurveyView | null> {
    const survey = await this.deps.dataSource.getRepository(Survey).findOneBy({ eventId });
    if (!survey) return null;
    const [row] = await this.deps.dataSource.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM survey_answers WHERE survey_id = ?',
      [survey.id],
    );
    return viewOf(survey, Number(row?.n ?? 0));
  }

  /** Creates the event's survey or replaces its questions; audited (`event.survey_save`). */
  async saveSurvey(p: { eventId: number; input: SurveyInput; actor: AuditActor }): Promise<Result<SurveyView>> {
    const now = this.deps.clock.now();
    const saved = await this.deps.transactor.runRetrying(async (m) => {
      const [event] = await m.query<{ id: number }[]>('SELECT id FROM events WHERE id = ?', [p.eventId]);
      if (!event) return null;
      const repo = m.getRepository(Survey);
      const current = await repo.findOneBy({ eventId: p.eventId });
      if (current) await repo.update({ id: current.id }, { ...p.input, updatedAt: now });
      else await repo.insert({ eventId: p.eventId, ...p.input, createdAt: now, updatedAt: now });
      const survey = await repo.findOneByOrFail({ eventId: p.eventId });
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'event.survey_save',
        targetType: 'event',
        targetId: p.eventId,
        detail: describeRecord({ surveyId: survey.id, title: p.input.title, questions: p.input.questions.map((q) => q.label) }),
      });
      return survey;
    });
    if (!saved) return refuse('event_not_found', 'No such event');
    return { ok: true, value: (await this.getSurvey(p.eventId)) ?? viewOf(saved, 0) };
  }

  /** A registration's survey link (absolute). */
  async linkFor(surveyId: number, eventId: number, registrationId: number): Promise<string> {
    const token = signSurveyToken(await this.deps.secret(), { surveyId, registrationId });
    return `${this.deps.publicBaseUrl.replace(/\/+$/, '')}/e/${eventId}/survey?t=${token}`;
  }

  /** GET /api/events/:eventId/survey?t= (and the mini-program's): the questions, for the taker. */
  async publicSurvey(p: { eventId: number } & SurveyTaker): Promise<Result<PublicSurveyView>> {
    const found = await this.resolve(this.deps.dataSource.manager, p);
    if (!found.ok) return found;
    const { survey, registration } = found;
    const [answered] = await this.deps.dataSource.query<{ id: number }[]>(
      'SELECT id FROM survey_answers WHERE survey_id = ? AND contact_id = ?',
      [survey.id, registration.contactId],
    );
    return {
      ok: true,
      value: {
        eventId: p.eventId,
        eventName: registration.eventName,
        title: survey.title,
        satisfactionLabel: survey.satisfactionLabel,
        questions: survey.questions,
        answered: answered !== undefined,
      },
    };
  }

  /**
   * An answer, once per person: the unique key (survey, contact) refuses a second (409
   * `already_answered`; nothing is written, the first answer stands), and the interaction is in
   * the same transaction as the row.
   */
  async answer(
    p: { eventId: number; satisfaction: unknown; answers: unknown; channel?: 'web' | 'mp' } & SurveyTaker,
  ): Promise<Result<{ status: 'answered' }>> {
    const found = await this.resolve(this.deps.dataSource.manager, p);
    if (!found.ok) return found;
    const { survey, registration } = found;
    const checked = checkSurveyAnswer(survey.questions, p.satisfaction, p.answers);
    if (!checked.ok) return refuse('validation_failed', 'Some answers are not valid', { fields: checked.fields });
    const now = this.deps.clock.now();
    try {
      await this.deps.transactor.runRetrying(async (m) => {
        await m.insert(SurveyAnswer, {
          surveyId: survey.id,
          eventId: p.eventId,
          contactId: registration.contactId,
          registrationId: registration.id,
          satisfaction: checked.satisfaction,
          answers: checked.answers,
          createdAt: now,
        });
        await this.deps.interactions.recordInteraction(m, {
          type: 'survey_answer',
          channel: p.channel ?? 'web',
          direction: 'in',
          occurredAt: now,
          detail: { eventId: p.eventId, surveyId: survey.id, satisfaction: checked.satisfaction, answers: flatten(checked.answers) },
          identity: null,
          contactId: registration.contactId,
          dedupeKey: `event:${p.eventId}:survey:${survey.id}:${registration.contactId}`,
          ref: { type: 'event', id: String(p.eventId) },
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) return refuse('already_answered', 'This survey was answered already');
      throw error;
    }
    this.deps.onRecorded?.();
    return { ok: true, value: { status: 'answered' } };
  }

  /**
   * The taker's survey and registration, both of this event. A forged or foreign token is
   * `invalid_survey_token`; a contact with no live registration for the event is `not_registered`,
   * and an event without a survey `survey_not_found`.
   */
  private async resolve(
    m: EntityManager,
    p: { eventId: number } & SurveyTaker,
  ): Promise<{ ok: true; survey: Survey; registration: { id: number; contactId: number; eventName: string } } | Refusal> {
    if ('contactId' in p) return this.resolveContact(m, { eventId: p.eventId, contactId: p.contactId });
    const claims = verifySurveyToken(await this.deps.secret(), p.token);
    if (!claims) return refuse('invalid_survey_token', 'Not a valid survey link');
    const survey = await m.getRepository(Survey).findOneBy({ id: claims.surveyId });
    const [registration] = await m.query<{ id: number | string; contact_id: number | string; event_id: number | string; name: string }[]>(
      'SELECT r.id, r.contact_id, r.event_id, e.name FROM event_registrations r JOIN events e ON e.id = r.event_id WHERE r.id = ?',
      [claims.registrationId],
    );
    if (!survey || !registration || survey.eventId !== p.eventId || Number(registration.event_id) !== p.eventId)
      return refuse('invalid_survey_token', 'Not a valid survey link');
    return {
      ok: true,
      survey,
      registration: { id: Number(registration.id), contactId: Number(registration.contact_id), eventName: String(registration.name) },
    };
  }

  private async resolveContact(
    m: EntityManager,
    p: { eventId: number; contactId: number },
  ): Promise<{ ok: true; survey: Survey; registration: { id: number; contactId: number; eventName: string } } | Refusal> {
    const [event] = await m.query<{ name: string }[]>('SELECT name FROM events WHERE id = ?', [p.eventId]);
    if (!event) return refuse('event_not_found', 'No such event');
    const [registration] = await m.query<{ id: number | string }[]>(
      "SELECT id FROM event_registrations WHERE event_id = ? AND contact_id = ? AND status <> 'cancelled' ORDER BY id LIMIT 1",
      [p.eventId, p.contactId],
    );
    if (!registration) return refuse('not_registered', 'Only the event’s registrants answer its survey');
    const survey = await m.getRepository(Survey).findOneBy({ eventId: p.eventId });
    if (!survey) return refuse('survey_not_found', 'The event has no survey');
    return { ok: true, survey, registration: { id: Number(registration.id), contactId: p.contactId, eventName: String(event.name) } };
  }
}

/**
 * An interaction's detail holds scalars and lists of strings, not objects: the answers become one
 * `key: answer` line each (a multiple choice's options joined by 、); the full answer is the row.
 */
function flatten(answers: SurveyAnswers): string[] {
  return Object.entries(answers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join('、') : v}`);
}

function viewOf(survey: Survey, responses: number): SurveyView {
  return {
    id: survey.id,
    eventId: survey.eventId,
    title: survey.title,
    satisfactionLabel: survey.satisfactionLabel,
    questions: typeof survey.questions === 'string' ? (JSON.parse(survey.questions) as SurveyQuestion[]) : survey.questions,
    responses,
    updatedAt: survey.updatedAt.toISOString(),
  };
}
