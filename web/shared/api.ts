import type { ApiErrorBody } from './errors';

/** An API answer that was not 2xx, with the body's `{error: {code, message, details}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }
  get code(): string {
    return this.body.code;
  }
}

type Listener = (error: ApiError) => void;
let onAuthProblem: Listener | null = null;

/** The router listens: 401 goes to the login page, password_change_required to the password page. */
export function onAuthError(listener: Listener): void {
  onAuthProblem = listener;
}

export function readCookie(name: string): string | null {
  for (const pair of document.cookie.split(';')) {
    const [key, ...rest] = pair.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return null;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface RequestOptions {
  /** A list is sent as the key repeated (`tag=a&tag=b`). */
  query?: Record<string, string | number | string[] | undefined | null>;
  body?: unknown;
  /** Do not hand 401/403 to the router (the login form shows them itself). */
  quiet?: boolean;
  /** A file sent as the raw body (an upload), instead of a JSON body; its type is the Blob's. */
  file?: Blob;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.file !== undefined) headers['Content-Type'] = options.file.type || 'application/octet-stream';
  if (!SAFE.has(method)) {
    // The cookie session's CSRF check: the page reads fw_csrf and echoes it (double submit).
    const csrf = readCookie('fw_csrf');
    if (csrf !== null) headers['X-CSRF-Token'] = csrf;
  }
  let url = path;
  if (options.query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query)) {
      if (Array.isArray(value)) for (const item of value) params.append(key, item);
      else if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const response = await fetch(url, {
    method,
    headers,
    credentials: 'same-origin',
    body: options.file ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed: unknown = text ? safeJson(text) : null;
  if (!response.ok) {
    const error = new ApiError(response.status, errorBodyOf(parsed, response.status));
    if (!options.quiet && (response.status === 401 || error.code === 'password_change_required')) onAuthProblem?.(error);
    throw error;
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorBodyOf(parsed: unknown, status: number): ApiErrorBody {
  if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
    const error = parsed.error;
    if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
      const message = 'message' in error && typeof error.message === 'string' ? error.message : '';
      return { code: error.code, message, ...('details' in error ? { details: error.details } : {}) };
    }
    // The sandbox answers {ok: false, error: 'text', code, params}: the params are the sentence's.
    if (typeof error === 'string') {
      const code = 'code' in parsed && typeof parsed.code === 'string' ? parsed.code : `http_${status}`;
      return { code, message: error, ...('params' in parsed ? { details: parsed.params } : {}) };
    }
  }
  return { code: `http_${status}`, message: typeof parsed === 'string' ? parsed.slice(0, 200) : `HTTP ${status}` };
}

export const api = {
  get: <T>(path: string, query?: RequestOptions['query']) => request<T>('GET', path, { query }),
  post: <T>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}) =>
    request<T>('POST', path, { ...options, body: body ?? {} }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  delete: <T>(path: string) => request<T>('DELETE', path),
  /**
   * Sends a file as the raw body: PUT for a material's file (the server reads its type from its
   * first bytes), POST for a lead import's CSV (options in the query).
   */
  upload: <T>(method: 'PUT' | 'POST', path: string, file: Blob, query?: RequestOptions['query']) =>
    request<T>(method, path, { file, query }),
};
