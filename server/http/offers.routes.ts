import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { PaymentsNotConfiguredError, type PaymentsService } from '../modules/payments/payments.service';
import type { RegistrationsService } from '../modules/exhibitions/registrations.service';
import { clientIp, refusalError } from './exhibition-answers';
import { HttpError } from './http-error';
import { idParamSchema } from './validate-input';

export interface OffersRouterDeps {
  payments: PaymentsService;
  /** Sets the visitor from the cookie before each call (visitor.middleware.ts, createVisitorReader). */
  readVisitor: Middleware;
  /** The visitor's contact; web OAuth's (visitorContactId) unless a test gives its own. */
  identifyVisitor: (ctx: Context) => Promise<number | null>;
  /** The public pages' rate limits (per IP, per visitor), kept in the database for every instance. */
  limits: Pick<RegistrationsService, 'limitIp' | 'limitVisitor'>;
}

/**
 * What the offer page (`/e/offer/:productId`, the trial offer 一元体验 or any product) calls:
 * the product, a JSAPI order for the WeChat visitor with the pay-sign parameters the page hands to
 * WeixinJSBridge's getBrandWCPayRequest, and the order's state while the page waits for the paid
 * notification. Paying needs the visitor's openid, so only a visitor web OAuth identified can buy
 * (401 `wechat_required` elsewhere: the page says to open it in WeChat).
 */
export function createOffersRouter(deps: OffersRouterDeps): Router {
  const router = new Router();

  router.get('/api/offers/:productId', async (ctx) => {
    const product = await deps.payments.getPublicProduct(idOf(ctx.params.productId, productNotFound));
    if (!product) throw productNotFound();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = product;
  });

  router.post('/api/offers/:productId/orders', deps.readVisitor, async (ctx) => {
    const productId = idOf(ctx.params.productId, productNotFound);
    const ipLimited = await deps.limits.limitIp(clientIp(ctx));
    if (ipLimited) throw refusalError(ipLimited);
    const contactId = await deps.identifyVisitor(ctx);
    if (contactId === null) throw wechatRequired();
    // Each order is a row and a prepay call to WeChat Pay: a script must not make them without end.
    const visitorLimited = await deps.limits.limitVisitor(contactId);
    if (visitorLimited) throw refusalError(visitorLimited);
    let result: Awaited<ReturnType<PaymentsService['buyProduct']>>;
    try {
      result = await deps.payments.buyProduct({ contactId, productId });
    } catch (error) {
      if (error instanceof PaymentsNotConfiguredError) throw new HttpError(409, 'pay_not_configured', error.message);
      throw error;
    }
    if (!result.ok) {
      if (result.reason === 'product_not_found') throw productNotFound();
      if (result.reason === 'openid_required') throw wechatRequired();
      throw new HttpError(409, 'already_purchased', 'This offer is once per person and you have bought it already');
    }
    const { order, payParams } = result;
    ctx.status = 201;
    ctx.body = { order: { id: order.id, state: order.state, description: order.description, amountFen: order.amountFen }, payParams };
  });

  router.get('/api/offers/orders/:orderId', deps.readVisitor, async (ctx) => {
    const orderId = idOf(ctx.params.orderId, orderNotFound);
    const contactId = await deps.identifyVisitor(ctx);
    const order = contactId === null ? null : await deps.payments.getOrderOf({ contactId, orderId });
    // Someone else's order is as unknown as a missing one: its existence is not told.
    if (!order) throw orderNotFound();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { id: order.id, state: order.state, description: order.description, amountFen: order.amountFen, paidAt: order.paidAt };
  });

  return router;
}

/** An id that is no id names nothing: the same 404 as an unknown one. */
function idOf(value: string | undefined, notFound: () => HttpError): number {
  const parsed = idParamSchema.safeParse(value);
  if (!parsed.success) throw notFound();
  return parsed.data;
}

function orderNotFound(): HttpError {
  return new HttpError(404, 'order_not_found', 'No such order');
}

function productNotFound(): HttpError {
  return new HttpError(404, 'product_not_found', 'No such product on offer');
}

function wechatRequired(): HttpError {
  return new HttpError(401, 'wechat_required', 'Open this page in WeChat to pay (WeChat Pay needs your WeChat identity)');
}
