import { ApiError } from '@shared/api';
import { translateError, translateFieldErrors } from '@shared/errors';
import { translator } from '@shared/i18n';
import { formatDateTime } from '@shared/time';
import { session } from './session';

/** Any thrown value as a sentence in the page's language. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return translateError(error.body, translator);
  if (error instanceof TypeError) return translator.t('errors.network');
  return translator.t('errors.unknown');
}

/** Field path → message, for a form's validation errors. */
export function fieldErrors(error: unknown): Record<string, string> {
  return error instanceof ApiError ? translateFieldErrors(error.body, translator) : {};
}

/** A time in the business time zone. */
export function at(value: string | null | undefined): string {
  return formatDateTime(value, session.config.timezone);
}
