import type { ErrorCode } from './error-codes';

/**
 * The errors a route may throw on purpose. The error middleware maps them to
 * `{error: {code, message}}` with their status; anything else becomes a bare 500.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown): HttpError => new HttpError(400, 'bad_request', message, details);
export const unauthorized = (message = 'Authentication required'): HttpError => new HttpError(401, 'unauthorized', message);
export const forbidden = (message = 'Your role does not allow this'): HttpError => new HttpError(403, 'forbidden', message);
export const notFound = (message = 'Not found'): HttpError => new HttpError(404, 'not_found', message);
/** `details` may name the field in the way (`[{path, code}]`), so the page marks that field. */
export const conflict = (message: string, details?: unknown): HttpError => new HttpError(409, 'conflict', message, details);
