/**
 * An event's registration form (the `fields` of GET /api/events/:eventId) and the checks its
 * answers must pass, as the invitation page makes them before it posts: the same rules as the
 * public registration API's (server/modules/exhibitions/registration-form.ts), so the page
 * refuses what the server refuses, for the same reason, before the visitor waits for an answer.
 * test/unit/web/registration-form-logic.test.ts runs both over the same answers and compares.
 * The server still answers `validation_failed` with a message per field; the page shows those too.
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

/** A text field without its own maxLength still has one (a textarea's is longer); the field's own wins. */
export const DEFAULT_TEXT_MAX = 100;
export const DEFAULT_TEXTAREA_MAX = 1000;
/** RFC 5321 caps an address at 254 characters. */
export const EMAIL_MAX = 254;

export type FieldProblem =
  | { code: 'required' }
  | { code: 'too_long'; max: number }
  | { code: 'phone_invalid' }
  | { code: 'email_invalid' }
  | { code: 'number_invalid' }
  | { code: 'option_invalid' };

/**
 * A mainland China mobile number as a visitor types it (`138 1234 5678`, `(138)1234-5678`,
 * `+86 13812345678`, `008613812345678`): spaces, dashes and brackets dropped, the +86, 86 or 0086
 * prefix taken off. Eleven digits starting 13–19 (the numbering plan's mobiles); the number is the
 * person's identity outside WeChat and where the SMS code goes, so landlines cannot register.
 */
const CN_MOBILE = /^(?:\+86|0086|86)?(1[3-9]\d{9})$/;

/** The phone number as sent: its eleven digits, or the input trimmed when it is not a mobile number. */
export function normalizePhone(raw: string): string {
  return CN_MOBILE.exec(raw.replace(/[\s()-]/g, ''))?.[1] ?? raw.trim();
}

export function isValidPhone(raw: string): boolean {
  return CN_MOBILE.test(raw.replace(/[\s()-]/g, ''));
}

/** One @, something on each side, a dot in the domain, no spaces: what a mail client would accept as typed. */
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;
/** A plain decimal number (a headcount, an age, a budget): no exponent, no thousands separators. */
const NUMBER = /^-?\d+(?:\.\d+)?$/;

/** Why one answer is refused, or null. Answers are compared trimmed; an empty optional answer passes. */
export function fieldProblemOf(field: RegistrationField, raw: string | undefined): FieldProblem | null {
  const value = (raw ?? '').trim();
  if (value === '') return field.required ? { code: 'required' } : null;
  switch (field.type) {
    case 'phone':
      return isValidPhone(value) ? null : { code: 'phone_invalid' };
    case 'email':
      return value.length <= EMAIL_MAX && EMAIL.test(value) ? null : { code: 'email_invalid' };
    case 'number':
      return NUMBER.test(value) ? null : { code: 'number_invalid' };
    case 'select':
      // Compared as given, untrimmed, as the server does: the page sends the option itself.
      return (field.options ?? []).includes(raw ?? '') ? null : { code: 'option_invalid' };
    case 'text':
    case 'textarea': {
      const max = field.maxLength ?? (field.type === 'textarea' ? DEFAULT_TEXTAREA_MAX : DEFAULT_TEXT_MAX);
      return characterCount(value) > max ? { code: 'too_long', max } : null;
    }
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
 * The answers as sent: trimmed (a select's option as it is), phone numbers normalised, empty
 * optional answers left out (the server refuses keys its form lacks), and only the form's own keys.
 */
export function answersToSend(fields: RegistrationField[], answers: Record<string, string | undefined>): Record<string, string> {
  const sent: Record<string, string> = {};
  for (const field of fields) {
    const value = (answers[field.key] ?? '').trim();
    if (value === '') continue;
    sent[field.key] = field.type === 'phone' ? normalizePhone(value) : field.type === 'select' ? (answers[field.key] ?? '') : value;
  }
  return sent;
}
