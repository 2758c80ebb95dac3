import type { EventField } from '../../../entities/event.entity';

/**
 * The registration form's rules, pure (no I/O): the public API checks answers with them, and the
 * H5 page may import them to say the same thing before it posts. Messages are in Chinese: the
 * page shows them next to the field as they are (error.details.fields of validation_failed).
 */

/** Answers as stored: text trimmed, numbers as numbers, the phone in E.164. */
export type Answers = Record<string, string | number>;

export type FormResult = { ok: true; answers: Answers; name: string; phone: string } | { ok: false; fields: Record<string, string> };

/** A text answer's length when the field names none (a textarea's is longer). */
export const DEFAULT_TEXT_MAX = 100;
export const DEFAULT_TEXTAREA_MAX = 1000;
/** RFC 5321 caps an address at 254 characters. */
const EMAIL_MAX = 254;
/** Local part, @, a domain with a dot: what a person types, not the whole of RFC 5322. */
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/** The two fields every form has (added when the operator's list lacks them). */
export const NAME_FIELD: EventField = { key: 'name', label: '姓名', type: 'text', required: true, maxLength: 64 };
export const PHONE_FIELD: EventField = { key: 'phone', label: '手机号', type: 'phone', required: true };

/** The operator's fields with `name` and `phone` made present and required (kept where the operator put them). */
export function withRequiredFields(fields: EventField[]): EventField[] {
  const out = fields.map((field) => (field.key === 'name' || field.key === 'phone' ? { ...field, required: true } : field));
  if (!out.some((field) => field.key === 'phone')) out.unshift(PHONE_FIELD);
  if (!out.some((field) => field.key === 'name')) out.unshift(NAME_FIELD);
  return out;
}

/**
 * A mainland China mobile number as people type it (`138 1234 5678`, `138-1234-5678`,
 * `+86 13812345678`, `008613812345678`) in E.164 (`+8613812345678`), or null. Mobile numbers are
 * 11 digits starting 13-19 (工信部 numbering plan); landlines cannot get the SMS code.
 */
export function normalizeChineseMobile(typed: string): string | null {
  const compact = typed.replace(/[\s()-]/g, '');
  const match = /^(?:\+86|0086|86)?(1[3-9]\d{9})$/.exec(compact);
  return match ? `+86${match[1]}` : null;
}

/** Checks every field and refuses keys the form does not have; all problems at once, one message per field. */
export function validateAnswers(fields: EventField[], raw: unknown): FormResult {
  const problems: Record<string, string> = {};
  const answers: Answers = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, fields: { answers: '请填写报名信息' } };
  const given = raw as Record<string, unknown>;
  const known = new Set(fields.map((field) => field.key));
  for (const key of Object.keys(given)) if (!known.has(key)) problems[key] = '表单没有这一项';

  for (const field of fields) {
    const value = given[field.key];
    const empty = value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
    if (empty) {
      if (field.required) problems[field.key] = `请填写${field.label}`;
      continue;
    }
    const checked = checkField(field, value);
    if (typeof checked === 'object') problems[field.key] = checked.problem;
    else answers[field.key] = checked;
  }
  if (Object.keys(problems).length > 0) return { ok: false, fields: problems };
  return { ok: true, answers, name: String(answers.name), phone: String(answers.phone) };
}

function checkField(field: EventField, value: unknown): string | number | { problem: string } {
  switch (field.type) {
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
      return Number.isFinite(n) ? n : { problem: `${field.label}须为数字` };
    }
    case 'phone': {
      if (typeof value !== 'string' && typeof value !== 'number') return { problem: `${field.label}格式不正确` };
      return normalizeChineseMobile(String(value)) ?? { problem: '请填写正确的手机号' };
    }
    case 'email': {
      if (typeof value !== 'string') return { problem: `${field.label}格式不正确` };
      const email = value.trim();
      return email.length <= EMAIL_MAX && EMAIL.test(email) ? email : { problem: '请填写正确的邮箱地址' };
    }
    case 'select': {
      if (typeof value !== 'string') return { problem: `请选择${field.label}` };
      return (field.options ?? []).includes(value) ? value : { problem: `请从选项中选择${field.label}` };
    }
    case 'text':
    case 'textarea': {
      if (typeof value !== 'string' && typeof value !== 'number') return { problem: `${field.label}格式不正确` };
      const text = String(value).trim();
      const max = field.maxLength ?? (field.type === 'textarea' ? DEFAULT_TEXTAREA_MAX : DEFAULT_TEXT_MAX);
      // By code point: a Chinese character or an emoji is one character to the person typing.
      return [...text].length <= max ? text : { problem: `${field.label}最多${max}个字` };
    }
  }
}
