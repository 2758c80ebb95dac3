/**
 * Turns an API error body into words for the operator. Pure (no Vue, no DOM) so jest tests it.
 * Known codes have a translation (`errors.<code>`); validation details are shown next to their
 * field, translated by path and code when a translation exists, else the API's own message.
 */
export interface ApiErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export interface Translator {
  /** Whether the message catalogue has this key. */
  has(key: string): boolean;
  t(key: string, params?: Record<string, unknown>): string;
}

export interface FieldIssue {
  path: string;
  message: string;
}

/** The `details` of a 400 bad_request: `[{path, message}]`; anything else is not field issues. */
export function fieldIssuesOf(error: ApiErrorBody): FieldIssue[] {
  if (!Array.isArray(error.details)) return [];
  const issues: FieldIssue[] = [];
  for (const item of error.details as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const path = 'path' in item && typeof item.path === 'string' ? item.path : '';
    const message = 'message' in item && typeof item.message === 'string' ? item.message : '';
    issues.push({ path, message });
  }
  return issues;
}

/** The seconds to wait from a login_throttled error, or null. */
export function retryAfterSecondsOf(error: ApiErrorBody): number | null {
  const details = error.details;
  if (typeof details !== 'object' || details === null || Array.isArray(details)) return null;
  const value = 'retryAfterSeconds' in details ? details.retryAfterSeconds : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(1, Math.ceil(value)) : null;
}

/** The sentence for the whole error. */
export function translateError(error: ApiErrorBody, tr: Translator): string {
  if (error.code === 'login_throttled') {
    const seconds = retryAfterSecondsOf(error);
    if (seconds !== null) return tr.t('errors.login_throttled', { seconds });
  }
  const key = `errors.${error.code}`;
  if (tr.has(key)) return tr.t(key);
  return error.message || tr.t('errors.unknown');
}

/**
 * One message per field path (the first issue wins), for `<el-form-item :error>`. A nested
 * path such as `addTags.0.name` is also filed under its first segment, where the form shows it.
 */
export function translateFieldErrors(error: ApiErrorBody, tr: Translator): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of fieldIssuesOf(error)) {
    const path = issue.path || '(body)';
    const key = `fieldErrors.${path.replace(/\.\d+(?=\.|$)/g, '')}`;
    const text = tr.has(key) ? tr.t(key) : issue.message;
    const top = path.split('.')[0];
    out[path] ??= text;
    out[top] ??= text;
  }
  return out;
}
