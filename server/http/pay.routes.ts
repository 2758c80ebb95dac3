import Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from '../adapters/logger';
import type { PaymentsService } from '../modules/payments/payments.service';
import { readRawBody } from './body';
import type { DrainGate } from './drain-gate';

/** WeChat Pay's notifications are a few KiB; the body is read raw (its signature covers the exact bytes). */
export const PAY_NOTIFY_BODY_LIMIT = 64 * 1024;

export interface PayRouterDeps {
  payments: PaymentsService;
  gate: DrainGate;
  logger: Logger;
}

/**
 * `POST /pay/notify`: WeChat Pay's paid and refunded notifications. 204 only once the order's
 * change is committed; anything else is an error WeChat Pay retries, answered as it expects:
 * `{"code": "FAIL", "message": "..."}`.
 * @link https://pay.weixin.qq.com/doc/v3/merchant/4012791902 (支付成功回调通知)
 */
export function createPayRouter(deps: PayRouterDeps): Router {
  const router = new Router();
  if (!deps.payments.enabled) return router;
  router.post('/pay/notify', async (ctx) => {
    const passed = await deps.gate.pass(async () => {
      let raw: Buffer;
      try {
        raw = await readRawBody(ctx, PAY_NOTIFY_BODY_LIMIT);
      } catch {
        answer(ctx, 413, 'body too large');
        return true;
      }
      let result: Awaited<ReturnType<PaymentsService['receiveNotification']>>;
      try {
        result = await deps.payments.receiveNotification(raw.toString('utf8'), {
          timestamp: ctx.get('wechatpay-timestamp') || undefined,
          nonce: ctx.get('wechatpay-nonce') || undefined,
          signature: ctx.get('wechatpay-signature') || undefined,
          serial: ctx.get('wechatpay-serial') || undefined,
        });
      } catch (error) {
        // Nothing was committed (a database failure ...): WeChat Pay delivers it again later.
        deps.logger.error('pay notification failed', { error: error instanceof Error ? error.message : String(error) });
        answer(ctx, 500, 'temporary failure, retry');
        return true;
      }
      if (result.body === null) ctx.status = result.status;
      else answer(ctx, result.status, result.body.message);
      return true;
    });
    // Shutting down: a 5xx, so WeChat Pay delivers it again (to an instance that is up).
    if (passed === null) answer(ctx, 503, 'shutting down');
  });
  return router;
}

function answer(ctx: Context, status: number, message: string): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify({ code: 'FAIL', message });
}
