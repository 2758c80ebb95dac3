import { ApiError } from '@shared/api';
import { fieldIssuesOf, translateError, translateFieldErrors, translateFieldIssue } from '@shared/errors';
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

/**
 * The line under a form: the error's sentence, followed by what the server said about any field
 * this form has no place for (so a refusal is never "check the fields in red" with none in red).
 */
export function formErrorText(error: unknown, shownFields: readonly string[]): string {
  const text = errorText(error);
  if (!(error instanceof ApiError)) return text;
  const unplaced = fieldIssuesOf(error.body)
    .filter((issue) => !shownFields.includes(issue.path.split('.')[0] ?? ''))
    .map((issue) => translateFieldIssue(issue, translator));
  return [text, ...new Set(unplaced)].join(translator.t('forms.issueSeparator'));
}

/** A time in the business time zone. */
export function at(value: string | null | undefined): string {
  return formatDateTime(value, session.config.timezone);
}
