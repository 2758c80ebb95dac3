import type { SurveyQuestion } from '../../../entities/survey.entity';

/**
 * A survey's rules (issue 15 §5), pure: what a survey may ask and what an answer must be. The
 * satisfaction rating (1–5) is always asked and always required; up to 10 more questions, each
 * a single choice, a multiple choice or a text of at most 500 characters (by character: a Chinese
 * character or an emoji is one). Messages are the page's language (zh-CN), field by field.
 */
export const SURVEY_MAX_QUESTIONS = 10;
export const SURVEY_TEXT_MAX = 500;

export type SurveyAnswers = Record<string, string | string[]>;
export type SurveyAnswerResult = { ok: true; satisfaction: number; answers: SurveyAnswers } | { ok: false; fields: Record<string, string> };

/** Problems with a survey's questions (keys unique, choices given for choice questions), by path. */
export function checkSurveyQuestions(questions: SurveyQuestion[]): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (questions.length > SURVEY_MAX_QUESTIONS) problems.push({ path: 'questions', message: `At most ${SURVEY_MAX_QUESTIONS} questions` });
  const seen = new Set<string>();
  questions.forEach((q, i) => {
    if (seen.has(q.key) || q.key === 'satisfaction') problems.push({ path: `questions.${i}.key`, message: 'Question keys must be unique' });
    seen.add(q.key);
    const options = q.options ?? [];
    if (q.kind === 'text' && options.length > 0)
      problems.push({ path: `questions.${i}.options`, message: 'A text question has no options' });
    if (q.kind !== 'text' && (options.length < 2 || new Set(options).size !== options.length))
      problems.push({ path: `questions.${i}.options`, message: 'A choice question needs two or more distinct options' });
  });
  return problems;
}

/** One answer checked against the survey: every problem at once, unknown keys refused, text trimmed. */
export function checkSurveyAnswer(questions: SurveyQuestion[], satisfaction: unknown, raw: unknown): SurveyAnswerResult {
  const fields: Record<string, string> = {};
  if (typeof satisfaction !== 'number' || !Number.isInteger(satisfaction) || satisfaction < 1 || satisfaction > 5)
    fields.satisfaction = '请选择 1 到 5 分的满意度';
  const given = raw === undefined || raw === null ? {} : raw;
  if (typeof given !== 'object' || Array.isArray(given)) return { ok: false, fields: { ...fields, answers: '答案格式不正确' } };
  const input = given as Record<string, unknown>;
  const byKey = new Map(questions.map((q) => [q.key, q]));
  for (const key of Object.keys(input)) if (!byKey.has(key)) fields[key] = '没有这个问题';
  const answers: SurveyAnswers = {};
  for (const q of questions) {
    const value = input[q.key];
    const empty = value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
    if (empty) {
      if (q.required) fields[q.key] = '此题必答';
      continue;
    }
    const options = q.options ?? [];
    switch (q.kind) {
      case 'single':
        if (typeof value !== 'string' || !options.includes(value)) fields[q.key] = '请从选项中选择一项';
        else answers[q.key] = value;
        break;
      case 'multiple':
        if (
          !Array.isArray(value) ||
          !value.every((v): v is string => typeof v === 'string' && options.includes(v)) ||
          new Set(value).size !== value.length
        )
          fields[q.key] = '请从选项中选择';
        else answers[q.key] = value;
        break;
      case 'text': {
        const text = typeof value === 'string' ? value.trim() : null;
        if (text === null) fields[q.key] = '请填写文字';
        else if ([...text].length > SURVEY_TEXT_MAX) fields[q.key] = `最多 ${SURVEY_TEXT_MAX} 个字`;
        else if (text === '') {
          if (q.required) fields[q.key] = '此题必答';
        } else answers[q.key] = text;
        break;
      }
    }
  }
  if (Object.keys(fields).length > 0) return { ok: false, fields };
  return { ok: true, satisfaction: satisfaction as number, answers };
}
