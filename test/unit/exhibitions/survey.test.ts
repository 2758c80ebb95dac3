import type { SurveyQuestion } from '../../../entities/survey.entity';
import { checkSurveyAnswer, checkSurveyQuestions } from '../../../server/modules/exhibitions/survey-questions';
import { signSurveyToken, verifySurveyToken } from '../../../server/modules/exhibitions/survey-token';
import { newTicketKey, signTicket } from '../../../server/modules/exhibitions/ticket-token';

const SECRET = Buffer.from('a-test-ticket-secret-of-32-bytes!', 'utf8');

describe('survey links', () => {
  it('sign the survey and the registration; verifying gives them back', () => {
    const token = signSurveyToken(SECRET, { surveyId: 3, registrationId: 42 });
    expect(token).toMatch(/^3\.42\.[A-Za-z0-9_-]{43}$/);
    expect(verifySurveyToken(SECRET, token)).toEqual({ surveyId: 3, registrationId: 42 });
  });

  it('refuse another key, a changed id, the ids alone, and a ticket signed with the same key', () => {
    const token = signSurveyToken(SECRET, { surveyId: 3, registrationId: 42 });
    const [survey, , mac] = token.split('.');
    expect(verifySurveyToken(Buffer.from('another-secret-another-secret-32'), token)).toBeNull();
    expect(verifySurveyToken(SECRET, [survey, '43', mac].join('.'))).toBeNull();
    expect(verifySurveyToken(SECRET, '3.42')).toBeNull();
    expect(verifySurveyToken(SECRET, `${token}x`)).toBeNull();
    // A ticket's signature over the same numbers is not a survey link's (the `survey.` prefix).
    const ticket = signTicket(SECRET, { eventId: 3, registrationId: 42, key: newTicketKey() });
    expect(verifySurveyToken(SECRET, `3.42.${ticket.split('.')[3]}`)).toBeNull();
  });
});

describe('survey questions and answers', () => {
  const questions: SurveyQuestion[] = [
    { key: 'q1', kind: 'single', label: '来源', required: true, options: ['海报', '朋友圈'] },
    { key: 'q2', kind: 'multiple', label: '展区', required: false, options: ['机器人', '软件'] },
    { key: 'q3', kind: 'text', label: '建议', required: false },
  ];

  it('refuses duplicate keys, the reserved key, choices without two distinct options and more than 10 questions', () => {
    expect(checkSurveyQuestions(questions)).toEqual([]);
    expect(checkSurveyQuestions([...questions, { ...questions[2] }]).map((p) => p.path)).toEqual(['questions.3.key']);
    expect(checkSurveyQuestions([{ ...questions[2], key: 'satisfaction' }]).map((p) => p.path)).toEqual(['questions.0.key']);
    expect(checkSurveyQuestions([{ ...questions[0], options: ['海报', '海报'] }]).map((p) => p.path)).toEqual(['questions.0.options']);
    const eleven = Array.from({ length: 11 }, (_, i): SurveyQuestion => ({ key: `q${i}`, kind: 'text', label: 'x', required: false }));
    expect(checkSurveyQuestions(eleven).map((p) => p.path)).toEqual(['questions']);
  });

  it('takes a valid answer, trimmed, leaving out what was not answered', () => {
    expect(checkSurveyAnswer(questions, 4, { q1: '海报', q2: ['软件'], q3: '  很好 ' })).toEqual({
      ok: true,
      satisfaction: 4,
      answers: { q1: '海报', q2: ['软件'], q3: '很好' },
    });
    expect(checkSurveyAnswer(questions, 1, { q1: '朋友圈', q2: [] })).toEqual({ ok: true, satisfaction: 1, answers: { q1: '朋友圈' } });
  });

  it('names every problem at once: the rating, a missing required answer, a foreign option, a long text, an unknown key', () => {
    const result = checkSurveyAnswer(questions, 0, { q2: ['机器人', '机器人'], q3: '好'.repeat(501), q9: 'x' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.fields).sort()).toEqual(['q1', 'q2', 'q3', 'q9', 'satisfaction']);
    // 500 characters by character: emoji count once.
    expect(checkSurveyAnswer(questions, 5, { q1: '海报', q3: '😀'.repeat(500) }).ok).toBe(true);
    expect(checkSurveyAnswer(questions, 2.5, { q1: '海报' }).ok).toBe(false);
  });
});
