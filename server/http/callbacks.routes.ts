import Router from '@koa/router';
import type { Context } from 'koa';
import type { CallbackAnswer, CallbackQuery, CallbacksService } from '../modules/callbacks/callbacks.service';
import { readRawBody } from './body';
import { HttpError } from './http-error';

/** WeChat's own limit is far lower; 1 MiB bounds memory without refusing anything real. */
export const CALLBACK_BODY_LIMIT = 1024 * 1024;

export function createCallbacksRouter(deps: { callbacks: CallbacksService }): Router {
  const router = new Router();
  const { callbacks } = deps;

  router.get('/wechat/callback', (ctx) => answer(ctx, callbacks.verifyOfficialAccountUrl(queryOf(ctx))));
  router.post('/wechat/callback', async (ctx) => {
    const body = await readCallbackBody(ctx);
    if (body) answer(ctx, await callbacks.receiveOfficialAccount(queryOf(ctx), body));
  });
  router.get('/wecom/callback', (ctx) => answer(ctx, callbacks.verifyWecomUrl(queryOf(ctx))));
  router.post('/wecom/callback', async (ctx) => {
    const body = await readCallbackBody(ctx);
    if (body) answer(ctx, await callbacks.receiveWecom(queryOf(ctx), body));
  });
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
