import type { Context, Next } from 'koa';
import type { Logger } from '../adapters/logger';
import type { ErrorCode } from './error-codes';
import { HttpError } from './http-error';

/**
 * Placed first. Expected failures (HttpError) become their status with a JSON body; anything
 * else is logged and answered 500 without a stack trace. Callback routes answer WeChat's way
 * themselves and only reach here on an unexpected failure (500 makes WeChat retry).
 */
export function createErrorMiddleware(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: { code: 'not_found', message: `No route for ${ctx.method} ${ctx.path}` } };
      }
    } catch (error) {
      if (error instanceof HttpError) {
        ctx.status = error.status;
        ctx.body = { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
        return;
      }
      const status = statusOf(error);
      if (status !== null && status < 500) {
        // Koa/body-reader errors such as 413 carry an expose-safe status.
        ctx.status = status;
        ctx.body = { error: { code: codeOfStatus(status), message: (error as Error).message } };
        return;
      }
      logger.error('unhandled error', {
        method: ctx.method,
        path: ctx.path,
        error: error instanceof Error ? error : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
      ctx.status = 500;
      ctx.body = { error: { code: 'internal', message: 'Internal error' } };
    }
  };
}

/** A listed code (error-codes.ts) for a status Koa or a body reader chose, so the page has its sentence. */
function codeOfStatus(status: number): ErrorCode {
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  return 'bad_request';
}

function statusOf(error: unknown): number | null {
  if (typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number') return error.status;
  return null;
}
