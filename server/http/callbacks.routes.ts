import Router from '@koa/router';
import type { Context } from 'koa';
import type { CallbackAnswer, CallbackQuery, CallbacksService } from '../modules/callbacks/callbacks.service';
import { readRawBody } from './body';
import { HttpError } from './http-error';

/**
 * An unauthenticated body is parsed (outer XML) before its signature can be checked, so the
 * limit bounds CPU as well as memory: 1 MiB of `&amp;` held the event loop for 94 ms. WeChat's
 * callbacks are a few KiB (a message is at most 2,048 characters); 64 KiB refuses nothing real.
 */
export const CALLBACK_BODY_LIMIT = 64 * 1024;

export function createCallbacksRouter(deps: { callbacks: CallbacksService }): Router {
  const router = new Router();
  const { callbacks } = deps;

  // A platform that is not configured has no routes (404), so its bodies are never even read.
  if (callbacks.accepts('oa')) {
    router.get('/wechat/callback', async (ctx) => answer(ctx, await callbacks.verifyOfficialAccountUrl(queryOf(ctx))));
    router.post('/wechat/callback', async (ctx) => {
      const body = await readCallbackBody(ctx);
      if (body) answer(ctx, await callbacks.receiveOfficialAccount(queryOf(ctx), body));
    });
  }
  if (callbacks.accepts('wecom')) {
    router.get('/wecom/callback', (ctx) => answer(ctx, callbacks.verifyWecomUrl(queryOf(ctx))));
    router.post('/wecom/callback', async (ctx) => {
      const body = await readCallbackBody(ctx);
      if (body) answer(ctx, await callbacks.receiveWecom(queryOf(ctx), body));
    });
  }
  return router;
}

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
