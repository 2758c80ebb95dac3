/**
 * The survey page's API (`GET /api/events/:eventId/survey?t=`, `POST …/survey-answers`): the
 * signed token from the link names the survey and the person, so no login is needed.
 */
import { api } from '@shared/api';

export interface SurveyQuestion {
  key: string;
  kind: 'single' | 'multiple' | 'text';
  label: string;
  required: boolean;
  options?: string[];
}

export interface PublicSurvey {
  eventId: number;
  eventName: string;
  title: string;
  satisfactionLabel: string;
  questions: SurveyQuestion[];
  answered: boolean;
}

const base = (eventId: string): string => `/api/events/${encodeURIComponent(eventId)}`;

export const surveyApi = {
  survey: (eventId: string, token: string) => api.get<PublicSurvey>(`${base(eventId)}/survey?t=${encodeURIComponent(token)}`),
  answer: (eventId: string, token: string, answers: Record<string, number | string | string[]>) =>
    api.post<{ status: 'answered' }>(`${base(eventId)}/survey-answers`, { token, answers }),
};

/** Which required questions are unanswered (by key), `satisfaction` first: the page's check before it sends. */
export function missingAnswers(
  survey: Pick<PublicSurvey, 'questions'>,
  satisfaction: number,
  answers: Record<string, string | string[]>,
): string[] {
  const missing = satisfaction >= 1 && satisfaction <= 5 ? [] : ['satisfaction'];
  for (const q of survey.questions) {
    const value = answers[q.key];
    const empty = value === undefined || (Array.isArray(value) ? value.length === 0 : value.trim() === '');
    if (q.required && empty) missing.push(q.key);
  }
  return missing;
}
