import Router from '@koa/router';
import { z } from 'zod';
import { PAY_ORDER_STATES } from '../../entities/pay-order.entity';
import { PayApiError } from '../adapters/wechat-pay.client';
import {
  InvalidOrderError,
  PaymentsNotConfiguredError,
  PayOrderNotFoundError,
  PayOrderStateError,
  type PaymentsService,
} from '../modules/payments/payments.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { badRequest, conflict, HttpError, notFound } from './http-error';
import { idParamSchema, parseInput, parseJsonBody } from './validate-input';

export interface AdminPaymentsRouterDeps {
  payments: PaymentsService;
  auth: AuthMiddleware;
}

const listSchema = z.strictObject({
  state: z.enum(PAY_ORDER_STATES).optional(),
  before: idParamSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const productSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  priceFen: z.number().int().min(1).max(100_000_000),
  active: z.boolean().optional(),
  /** Sold once per person, as the trial offer (一元体验) is. */
  oncePerContact: z.boolean().optional(),
});

const refundSchema = z.strictObject({ reason: z.string().trim().max(80).optional() });

/** 订单 (issue 15 §7): every operator reads orders; a refund moves money, so admins only, audited. */
export function createAdminPaymentsRouter(deps: AdminPaymentsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const readers = deps.auth.requireOperator();
  const admins = deps.auth.requireOperator(['admin']);

  router.get('/api/admin/pay/orders', readers, async (ctx) => {
    const query = parseInput(listSchema, ctx.query);
    ctx.body = { enabled: deps.payments.enabled, ...(await deps.payments.listOrders(query)) };
  });

  router.get('/api/admin/pay/products', readers, async (ctx) => {
    ctx.body = { items: await deps.payments.listProducts() };
  });

  router.post('/api/admin/pay/products', admins, async (ctx) => {
    const body = await parseJsonBody(ctx, productSchema);
    ctx.status = 201;
    ctx.body = await answer(() => deps.payments.createProduct({ ...body, actor: actorOf(ctx) }));
  });

  router.post('/api/admin/pay/orders/:id/refund', admins, async (ctx) => {
    const id = idParamSchema.safeParse(ctx.params.id);
    if (!id.success) throw notFound('No such order');
    const body = await parseJsonBody(ctx, refundSchema);
    ctx.body = await answer(() =>
      deps.payments.refund({ orderId: id.data, actor: actorOf(ctx), ...(body.reason ? { reason: body.reason } : {}) }),
    );
  });

  return router;
}

async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PayOrderNotFoundError) throw notFound('No such order');
    if (error instanceof PayOrderStateError)
      throw conflict(`The order is ${error.state}`, [{ path: 'state', code: 'custom', params: { state: error.state } }]);
    if (error instanceof InvalidOrderError) throw badRequest(error.message);
    if (error instanceof PaymentsNotConfiguredError) throw new HttpError(409, 'pay_not_configured', error.message);
    // The order stays `refunding` with the error shown; the same refund can be asked again.
    if (error instanceof PayApiError) throw new HttpError(502, 'pay_api_failed', error.message, { code: error.code });
    throw error;
  }
}
