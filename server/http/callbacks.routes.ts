import Router from '@koa/router';
import type { Context } from 'koa';
import type { Metrics } from '../adapters/metrics';
import type { CallbackAnswer, CallbackQuery, CallbacksService } from '../modules/callbacks/callbacks.service';
import { readRawBody } from './body';
import type { DrainGate } from './drain-gate';
import { HttpError } from './http-error';

/**
 * An unauthenticated body is parsed (outer XML) before its signature can be checked, so the
 * limit bounds CPU as well as memory: 1 MiB of `&amp;` held the event loop for 94 ms. WeChat's
 * callbacks are a few KiB (a message is at most 2,048 characters); 64 KiB refuses nothing real.
 */
export const CALLBACK_BODY_LIMIT = 64 * 1024;

export interface CallbacksRouterDeps {
  callbacks: CallbacksService;
  /** Closed at shutdown: callbacks then answer 503 at once (WeChat retries), and the drain waits for those let in. */
  gate: DrainGate;
  metrics: Metrics;
}

type Source = 'oa' | 'wecom';

export function createCallbacksRouter(deps: CallbacksRouterDeps): Router {
  const router = new Router();
  const { callbacks } = deps;

  /**
   * Every callback route goes through the drain gate; POSTs (the pushes) are counted by answer,
   * whatever answered them: the service, the gate, the body limit or the error middleware.
   */
  const handle =
    (source: Source, counted: boolean, work: (ctx: Context) => Promise<void> | void) =>
    async (ctx: Context): Promise<void> => {
      try {
        const passed = await deps.gate.pass(async () => {
          await work(ctx);
          return true;
        });
        if (!passed) answer(ctx, DRAINING);
      } catch (error) {
        if (counted) deps.metrics.callbacks.inc({ source, status: String(statusOfError(error)) });
        throw error;
      }
      if (counted) deps.metrics.callbacks.inc({ source, status: String(ctx.status) });
    };

  // A platform that is not configured has no routes (404), so its bodies are never even read.
  if (callbacks.accepts('oa')) {
    router.get(
      '/wechat/callback',
      handle('oa', false, async (ctx) => answer(ctx, await callbacks.verifyOfficialAccountUrl(queryOf(ctx)))),
    );
    router.post(
      '/wechat/callback',
      handle('oa', true, async (ctx) => {
        const body = await readCallbackBody(ctx);
        if (body) answer(ctx, await callbacks.receiveOfficialAccount(queryOf(ctx), body));
      }),
    );
  }
  if (callbacks.accepts('wecom')) {
    router.get(
      '/wecom/callback',
      handle('wecom', false, (ctx) => answer(ctx, callbacks.verifyWecomUrl(queryOf(ctx)))),
    );
    router.post(
      '/wecom/callback',
      handle('wecom', true, async (ctx) => {
        const body = await readCallbackBody(ctx);
        if (body) answer(ctx, await callbacks.receiveWecom(queryOf(ctx), body));
      }),
    );
  }
  return router;
}

/** Shutting down: a 5xx, like the store's 503 past its deadline, so that WeChat retries (on an instance that is up). */
const DRAINING: CallbackAnswer = { status: 503, body: 'shutting down', contentType: 'text/plain' };

async function readCallbackBody(ctx: Context): Promise<Buffer | null> {
  try {
    return await readRawBody(ctx, CALLBACK_BODY_LIMIT);
  } catch (error) {
    if (!(error instanceof HttpError) || error.status !== 413) throw error;
    answer(ctx, { status: 413, body: 'payload too large', contentType: 'text/plain' });
    return null;
  }
}

/** Repeated query keys are a malformed request; take the first so signatures simply fail. */
function queryOf(ctx: Context): CallbackQuery {
  const out: CallbackQuery = {};
  for (const [key, value] of Object.entries(ctx.query)) out[key] = Array.isArray(value) ? value[0] : value;
  return out;
}

function answer(ctx: Context, a: CallbackAnswer): void {
  ctx.status = a.status;
  ctx.type = a.contentType;
  ctx.body = a.body;
}

/** The status the error middleware will answer for an error thrown by a route. */
function statusOfError(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  const status = typeof error === 'object' && error !== null && 'status' in error ? error.status : null;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}
