/**
 * Turns an API error body into words for the operator. Pure (no Vue, no DOM) so jest tests it.
 * Known codes have a translation (`errors.<code>`, server/http/error-codes.ts lists them all);
 * validation details are shown next to their field, translated by path and rule code. The API's
 * English message is never shown: a code without a sentence gets a general one.
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
  /** The rule the value broke (server/http/validate-input.ts): zod's code or a named rule; '' when absent. */
  code: string;
  message: string;
  params: Record<string, string | number>;
}

/** The `details` of a 400 bad_request or 409 conflict: `[{path, code, message, params}]`; anything else is not field issues. */
export function fieldIssuesOf(error: ApiErrorBody): FieldIssue[] {
  if (!Array.isArray(error.details)) return [];
  const issues: FieldIssue[] = [];
  for (const item of error.details as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const path = 'path' in item && typeof item.path === 'string' ? item.path : '';
    const code = 'code' in item && typeof item.code === 'string' ? item.code : '';
    const message = 'message' in item && typeof item.message === 'string' ? item.message : '';
    const params: Record<string, string | number> = {};
    if ('params' in item && typeof item.params === 'object' && item.params !== null)
      for (const [key, value] of Object.entries(item.params))
        if (typeof value === 'string' || typeof value === 'number') params[key] = value;
    issues.push({ path, code, message, params });
  }
  return issues;
}

/**
 * One issue in words, most specific first: a named rule (`forms.issues.<code>`, e.g. the
 * platform a tag name is too long for), then the field's own sentence (`fieldErrors.<path>`),
 * then zod's generic rule (`forms.rules.<code>`, e.g. "at most 128 characters"), else a general sentence.
 */
export function translateFieldIssue(issue: FieldIssue, tr: Translator): string {
  const path = issue.path || '(body)';
  const named = `forms.issues.${issue.code}`;
  if (issue.code && tr.has(named)) return tr.t(named, issue.params);
  const field = `fieldErrors.${path.replace(/\.\d+(?=\.|$)/g, '')}`;
  if (tr.has(field)) return tr.t(field);
  const origin = typeof issue.params.origin === 'string' ? issue.params.origin : '';
  const generic = [`forms.rules.${issue.code}_${origin}`, `forms.rules.${issue.code}`].find((key) => issue.code && tr.has(key));
  if (generic) return tr.t(generic, issue.params);
  // A rule with no sentence yet: a general one, never the API's (zod's) English.
  return tr.t('forms.rules.custom');
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
  if (tr.has(key)) return tr.t(key, paramsOf(error.details));
  // An answer with no sentence (an unknown code, a proxy's page): never its English words.
  const byStatus = /^http_(\d{3})$/.exec(error.code);
  if (byStatus && tr.has(`errors.http_${byStatus[1]}`)) return tr.t(`errors.http_${byStatus[1]}`);
  return tr.t('errors.unknown');
}

/** A details object's strings and numbers, for the sentence's placeholders ({seconds}, {field}). */
function paramsOf(details: unknown): Record<string, string | number> {
  const params: Record<string, string | number> = {};
  if (typeof details !== 'object' || details === null || Array.isArray(details)) return params;
  for (const [name, value] of Object.entries(details)) if (typeof value === 'string' || typeof value === 'number') params[name] = value;
  return params;
}

/**
 * One message per field path (the first issue wins), for `<el-form-item :error>`. A nested
 * path such as `addTags.0.name` is also filed under its first segment, where the form shows it.
 */
export function translateFieldErrors(error: ApiErrorBody, tr: Translator): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of fieldIssuesOf(error)) {
    const path = issue.path || '(body)';
    const text = translateFieldIssue(issue, tr);
    const top = path.split('.')[0];
    out[path] ??= text;
    out[top] ??= text;
  }
  return out;
}
