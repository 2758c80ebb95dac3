import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { maskPersonalData, type Logger } from '../adapters/logger';
import { runInRequestContext } from '../adapters/request-context';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * A proxy's id is kept when it is a short token of safe characters (a UUID, a trace id), so one
 * id follows the request through the proxy's logs and ours. Anything else is replaced: the id is
 * echoed in a header and written in every log line. An id the log would mask as a phone number
 * is replaced too, so the header and the log always show the same id.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function isUsableRequestId(id: string): boolean {
  return SAFE_REQUEST_ID.test(id) && maskPersonalData(id) === id;
}

/**
 * Placed first: opens the request's context (every line logged while it runs carries
 * `requestId`), answers the id in `X-Request-Id`, and writes one line when the request ends:
 * method, path (never the query: callbacks carry signatures and openids there), status and time.
 * Successes are debug, refusals (4xx) info, failures (5xx) warn.
 */
export function createRequestIdMiddleware(logger: Logger) {
  return async function requestId(ctx: Context, next: Next): Promise<void> {
    const incoming = ctx.get(REQUEST_ID_HEADER);
    const id = isUsableRequestId(incoming) ? incoming : randomUUID();
    ctx.set(REQUEST_ID_HEADER, id);
    await runInRequestContext({ requestId: id }, async () => {
      const started = Date.now();
      try {
        await next();
      } finally {
        // A mounted app (the sandbox) answers on the raw response, past Koa's ctx.status.
        const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
        const fields = { method: ctx.method, path: ctx.path, status, ms: Date.now() - started };
        if (status >= 500) logger.warn('request', fields);
        else if (status >= 400) logger.info('request', fields);
        else logger.debug('request', fields);
      }
    });
  };
}
