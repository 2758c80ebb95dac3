/**
 * An event's registration form (the `fields` of GET /api/events/:eventId) and the checks its
 * answers must pass: one pure module (no Vue, no Node), so the invitation page refuses what the
 * public registration API refuses, with the same reasons, before the visitor waits for an answer.
 * The server answers `validation_failed` with a message per field all the same; the page shows
 * those too (a check the page cannot make, such as a phone number the event has already seen).
 */
import { characterCount } from './field-rules';

export type RegistrationFieldType = 'text' | 'phone' | 'email' | 'number' | 'select' | 'textarea';

export interface RegistrationField {
  key: string;
  label: string;
  type: RegistrationFieldType;
  required: boolean;
  /** The choices of a `select` field. */
  options?: string[];
  /** Characters (code points, as a person counts them), not bytes or UTF-16 units. */
  maxLength?: number;
}

/**
 * A field without its own maxLength still has one: what a person could reasonably type there, and
 * what the answers column keeps without surprise. A field's own smaller limit wins.
 */
export const DEFAULT_MAX_CHARS: Record<RegistrationFieldType, number> = {
  text: 100,
  phone: 20,
  email: 254, // RFC 5321's longest forward path less its angle brackets
  number: 20,
  select: 100,
  textarea: 1000,
};

export type FieldProblem =
  | { code: 'required' }
  | { code: 'too_long'; max: number }
  | { code: 'phone_invalid' }
  | { code: 'email_invalid' }
  | { code: 'number_invalid' }
  | { code: 'option_invalid' };

/**
 * A mainland China mobile number as a visitor types it: spaces and dashes dropped, and a +86, 86
 * or 0086 prefix taken off (the invitation page serves mainland events; the number is the person's
 * identity outside WeChat and the target of the SMS code). Eleven digits starting 13–19.
 */
const CN_MOBILE = /^1[3-9]\d{9}$/;

/** The phone number as stored and compared: eleven digits, or the input trimmed when it is not one. */
export function normalizePhone(raw: string): string {
  const compact = raw.trim().replace(/[\s-]/g, '');
  const local = compact.replace(/^(?:\+86|0086|86)(?=1\d{10}$)/, '');
  return CN_MOBILE.test(local) ? local : raw.trim();
}

export function isValidPhone(raw: string): boolean {
  return CN_MOBILE.test(normalizePhone(raw));
}

/** One @, something on each side, a dot in the domain, no spaces: what a mail client would accept as typed. */
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;
/** A plain decimal number (a headcount, an age, a budget): no exponent, no thousands separators. */
const NUMBER = /^-?\d+(?:\.\d+)?$/;

/** Why one answer is refused, or null. Answers are compared trimmed; an empty optional answer passes. */
export function fieldProblemOf(field: RegistrationField, raw: string | undefined): FieldProblem | null {
  const value = (raw ?? '').trim();
  if (value === '') return field.required ? { code: 'required' } : null;
  const max = Math.min(field.maxLength ?? Infinity, DEFAULT_MAX_CHARS[field.type]);
  if (characterCount(value) > max) return { code: 'too_long', max };
  switch (field.type) {
    case 'phone':
      return isValidPhone(value) ? null : { code: 'phone_invalid' };
    case 'email':
      return EMAIL.test(value) ? null : { code: 'email_invalid' };
    case 'number':
      return NUMBER.test(value) ? null : { code: 'number_invalid' };
    case 'select':
      return (field.options ?? []).includes(value) ? null : { code: 'option_invalid' };
    case 'text':
    case 'textarea':
      return null;
  }
}

export interface RegistrationInput {
  fields: RegistrationField[];
  answers: Record<string, string | undefined>;
  consent: boolean;
  /** Whether the event asks for an SMS code (smsVerification), and the code typed. */
  smsVerification: boolean;
  smsCode?: string;
}

export interface RegistrationProblems {
  /** Per field key; empty when every answer passes. */
  fields: Record<string, FieldProblem>;
  consentMissing: boolean;
  smsCodeMissing: boolean;
}

/** A six-digit code, as the SMS sender writes it. */
const SMS_CODE = /^\d{6}$/;

/** Every problem of a filled form at once, so the page marks all of them on one submit. */
export function registrationProblemsOf(input: RegistrationInput): RegistrationProblems {
  const fields: Record<string, FieldProblem> = {};
  for (const field of input.fields) {
    const problem = fieldProblemOf(field, input.answers[field.key]);
    if (problem) fields[field.key] = problem;
  }
  return {
    fields,
    consentMissing: !input.consent,
    smsCodeMissing: input.smsVerification && !SMS_CODE.test((input.smsCode ?? '').trim()),
  };
}

export function hasProblems(problems: RegistrationProblems): boolean {
  return Object.keys(problems.fields).length > 0 || problems.consentMissing || problems.smsCodeMissing;
}

/**
 * The answers as sent: trimmed, phone numbers normalised, empty optional answers left out, and
 * only the form's own keys.
 */
export function answersToSend(fields: RegistrationField[], answers: Record<string, string | undefined>): Record<string, string> {
  const sent: Record<string, string> = {};
  for (const field of fields) {
    const value = (answers[field.key] ?? '').trim();
    if (value === '') continue;
    sent[field.key] = field.type === 'phone' ? normalizePhone(value) : value;
  }
  return sent;
}
