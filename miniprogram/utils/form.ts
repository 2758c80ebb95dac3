/**
 * The registration form's checks, made before posting so the visitor learns at once what the server
 * would refuse: the same rules as web/shared/registration-form.ts and the server's
 * (server/modules/exhibitions/registration-form.ts). The server still answers `validation_failed`
 * with `details.fields` (a zh-CN message per field), which the page shows the same way.
 */
import type { RegistrationField } from './api';

const CN_MOBILE = /^(?:\+86|0086|86)?(1[3-9]\d{9})$/;
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;
const NUMBER = /^-?\d+(?:\.\d+)?$/;
const DEFAULT_TEXT_MAX = 100;
const DEFAULT_TEXTAREA_MAX = 1000;
const EMAIL_MAX = 254;

/** Characters as a person counts them (code points), not UTF-16 units. */
const characterCount = (value: string): number => Array.from(value).length;

export function normalizePhone(raw: string): string {
  return CN_MOBILE.exec(raw.replace(/[\s()-]/g, ''))?.[1] ?? raw.trim();
}

/** The zh-CN message for one answer, or '' when it passes. */
export function fieldError(field: RegistrationField, raw: string | undefined): string {
  const value = (raw ?? '').trim();
  if (value === '') return field.required ? `${field.type === 'select' ? '请选择' : '请填写'}${field.label}` : '';
  switch (field.type) {
    case 'phone':
      return CN_MOBILE.test(value.replace(/[\s()-]/g, '')) ? '' : '请输入正确的手机号';
    case 'email':
      return value.length <= EMAIL_MAX && EMAIL.test(value) ? '' : '请输入正确的邮箱';
    case 'number':
      return NUMBER.test(value) ? '' : '请输入数字';
    case 'select':
      return (field.options ?? []).includes(raw ?? '') ? '' : `请选择${field.label}`;
    case 'text':
    case 'textarea': {
      const max = field.maxLength ?? (field.type === 'textarea' ? DEFAULT_TEXTAREA_MAX : DEFAULT_TEXT_MAX);
      return characterCount(value) > max ? `${field.label}最多 ${max} 个字` : '';
    }
  }
}

/** Every field's message (only the failing ones); empty when the form may be sent. */
export function formErrors(fields: RegistrationField[], answers: Record<string, string>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const message = fieldError(field, answers[field.key]);
    if (message) errors[field.key] = message;
  }
  return errors;
}

/** The answers as sent: trimmed, phones as eleven digits, empty optional answers left out. */
export function answersToSend(fields: RegistrationField[], answers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of fields) {
    const raw = answers[field.key];
    if (raw === undefined || raw.trim() === '') continue;
    out[field.key] = field.type === 'phone' ? normalizePhone(raw) : field.type === 'select' ? raw : raw.trim();
  }
  return out;
}
