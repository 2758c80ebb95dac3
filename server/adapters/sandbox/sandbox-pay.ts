import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import {
  encryptPayResource,
  jsapiPaySignMessage,
  parsePayAuthorization,
  payRequestMessage,
  signPayMessage,
  verifyPayMessage,
} from '../../wechat/pay-signing';
import { systemClock, type Clock } from '../clock';
import type { SandboxPayKeys } from './sandbox-pay-keys';

/**
 * The sandbox's WeChat Pay API v3 (issue 15 §8): JSAPI prepay and refunds, each checking the
 * merchant's `Authorization` signature with the merchant public key it was given, answers signed
 * with the platform key as WeChat Pay signs them, and the platform's notifications (paid,
 * refunded): the resource encrypted with the APIv3 key, the message signed in public-key mode
 * (`PUB_KEY_ID_...`) or with the platform certificate. Served at `/sandbox/pay/v3/...`
 * (WECHATPAY_API_BASE = <origin>/sandbox/pay): the signed path is the real one, `/v3/...`.
 * @link https://pay.weixin.qq.com/doc/v3/merchant/4012791897 (JSAPI下单)
 * @link https://pay.weixin.qq.com/doc/v3/merchant/4012791903 (退款申请)
 */

export type PaySignMode = 'public_key' | 'certificate';

export interface SandboxPayOrder {
  appid: string;
  mchid: string;
  outTradeNo: string;
  description: string;
  notifyUrl: string;
  total: number;
  openid: string;
  prepayId: string;
  /** NOTPAY → SUCCESS → REFUND, or NOTPAY → CLOSED (as trade_state says it). */
  tradeState: 'NOTPAY' | 'SUCCESS' | 'REFUND' | 'CLOSED';
  transactionId: string | null;
  successTime: string | null;
}

export interface SandboxPayRefund {
  outRefundNo: string;
  refundId: string;
  outTradeNo: string;
  refund: number;
  notifyUrl: string;
  status: 'PROCESSING' | 'SUCCESS';
}

export interface PayDelivery {
  status: number;
  body: string;
}

/** Where the sandbox is mounted; the platform signs and checks the path WeChat Pay sees. */
const MOUNT = '/sandbox/pay';
const BODY_LIMIT_BYTES = 64 * 1024;

const prepaySchema = z.object({
  appid: z.string().min(1).max(32),
  mchid: z.string().min(1).max(32),
  description: z.string().min(1).max(127),
  out_trade_no: z.string().regex(/^[A-Za-z0-9_\-|*]{6,32}$/),
  notify_url: z.url().max(255),
  amount: z.object({ total: z.number().int().min(1), currency: z.literal('CNY').optional() }),
  payer: z.object({ openid: z.string().min(1).max(128) }),
});

const refundSchema = z.object({
  out_trade_no: z.string().min(6).max(32).optional(),
  transaction_id: z.string().min(1).max(32).optional(),
  out_refund_no: z.string().regex(/^[A-Za-z0-9_\-|*@]{1,64}$/),
  reason: z.string().max(80).optional(),
  notify_url: z.url().max(256).optional(),
  amount: z.object({ refund: z.number().int().min(1), total: z.number().int().min(1), currency: z.literal('CNY') }),
});

export const payActionSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('pay_order'),
    /** Default: the newest unpaid order. */
    outTradeNo: z.string().min(1).max(32).optional(),
    signWith: z.enum(['public_key', 'certificate']).optional(),
    /** WeChat Pay retries until it is answered 200/204; a test delivers the same notification again. */
    times: z.number().int().min(1).max(10).optional(),
  }),
  /**
   * What WeChat's in-app bridge does on getBrandWCPayRequest (the sandbox's `jsbridge.js` sends
   * the page's parameters here): the pay-sign checked with the merchant's public key, the order
   * found by its prepay_id, and paid.
   */
  z.object({
    action: z.literal('jsapi_pay'),
    appId: z.string().max(32),
    timeStamp: z.string().max(16),
    nonceStr: z.string().max(32),
    package: z.string().max(128),
    signType: z.string().max(16),
    paySign: z.string().max(1024),
  }),
]);

type PayAction = z.output<typeof payActionSchema>;

/**
 * The in-app bridge a page inside WeChat has (window.WeixinJSBridge), for a browser in sandbox
 * mode: getBrandWCPayRequest pays through the sandbox and answers as WeChat's client does
 * (`get_brand_wcpay_request:ok` / `:fail`). Served at /sandbox/pay/jsbridge.js; outside sandbox
 * mode the path does not exist, and a page outside WeChat says to open it in WeChat.
 */
const JS_BRIDGE = `(function () {
  if (window.WeixinJSBridge) return;
  window.WeixinJSBridge = {
    invoke: function (name, params, callback) {
      if (name !== 'getBrandWCPayRequest') return callback({ err_msg: name + ':fail not in the sandbox' });
      fetch('${MOUNT}/actions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(Object.assign({ action: 'jsapi_pay' }, params)),
      })
        .then(function (res) { return res.json(); })
        .then(
          function (answer) { callback({ err_msg: answer.err_msg || 'get_brand_wcpay_request:fail' }); },
          function () { callback({ err_msg: 'get_brand_wcpay_request:fail' }); }
        );
    },
  };
  document.dispatchEvent(new Event('WeixinJSBridgeReady'));
})();
`;

export class SandboxPay {
  readonly orders = new Map<string, SandboxPayOrder>();
  readonly refunds = new Map<string, SandboxPayRefund>();
  /** Refund notifications in flight, so a test can wait for them. */
  private readonly pending = new Set<Promise<PayDelivery[]>>();
  private readonly clock: Clock;
  /** The AppIDs bound to the merchant (AppID账号关联): an order or a pay-sign of another app is refused. */
  private readonly appIds: ReadonlySet<string>;

  constructor(
    readonly keys: SandboxPayKeys,
    /** Flywheel's origin: notifications go to it, keeping notify_url's path (as the player does for callbacks). */
    private readonly callbackBaseUrl: string | null,
    clock?: Clock,
    /** Apps bound besides the merchant's own (keys.appId): the sandbox's mini-program. */
    boundAppIds: readonly string[] = [],
  ) {
    this.clock = clock ?? systemClock;
    this.appIds = new Set([keys.appId, ...boundAppIds]);
  }

  register(router: Router): void {
    router.post(`${MOUNT}/v3/pay/transactions/jsapi`, async (ctx) => {
      const request = await this.authenticate(ctx);
      if (!request) return;
      const input = prepaySchema.safeParse(request.json);
      if (!input.success) return this.fail(ctx, 400, 'PARAM_ERROR', `参数错误: ${input.error.issues[0]?.path.join('.') ?? 'body'}`);
      const body = input.data;
      if (body.mchid !== this.keys.mchId) return this.fail(ctx, 400, 'MCH_NOT_EXISTS', '商户号不存在');
      if (!this.appIds.has(body.appid)) return this.fail(ctx, 400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
      const known = this.orders.get(body.out_trade_no);
      if (known) {
        if (known.tradeState === 'CLOSED') return this.fail(ctx, 400, 'ORDER_CLOSED', '订单已关闭');
        if (known.tradeState !== 'NOTPAY') return this.fail(ctx, 403, 'ORDERPAID', '该订单已支付');
        // A retried prepay of the same order gets the same prepay_id; different content is refused.
        if (known.total !== body.amount.total || known.openid !== body.payer.openid) {
          return this.fail(ctx, 400, 'OUT_TRADE_NO_USED', '商户订单号重复');
        }
        return this.answer(ctx, 200, { prepay_id: known.prepayId });
      }
      const order: SandboxPayOrder = {
        appid: body.appid,
        mchid: body.mchid,
        outTradeNo: body.out_trade_no,
        description: body.description,
        notifyUrl: body.notify_url,
        total: body.amount.total,
        openid: body.payer.openid,
        prepayId: `wx${randomBytes(16).toString('hex')}`,
        tradeState: 'NOTPAY',
        transactionId: null,
        successTime: null,
      };
      this.orders.set(order.outTradeNo, order);
      this.answer(ctx, 200, { prepay_id: order.prepayId });
    });

    router.post(`${MOUNT}/v3/pay/transactions/out-trade-no/:outTradeNo/close`, async (ctx) => {
      const request = await this.authenticate(ctx);
      if (!request) return;
      const body = request.json as { mchid?: unknown } | null;
      if (body?.mchid !== this.keys.mchId) return this.fail(ctx, 400, 'PARAM_ERROR', '参数错误: mchid');
      const order = this.orders.get(ctx.params.outTradeNo ?? '');
      if (!order) return this.fail(ctx, 404, 'ORDER_NOT_EXIST', '订单不存在');
      if (order.tradeState === 'SUCCESS' || order.tradeState === 'REFUND') return this.fail(ctx, 400, 'ORDERPAID', '订单已支付');
      order.tradeState = 'CLOSED';
      this.answer(ctx, 204, null);
    });

    router.post(`${MOUNT}/v3/refund/domestic/refunds`, async (ctx) => {
      const request = await this.authenticate(ctx);
      if (!request) return;
      const input = refundSchema.safeParse(request.json);
      if (!input.success) return this.fail(ctx, 400, 'PARAM_ERROR', `参数错误: ${input.error.issues[0]?.path.join('.') ?? 'body'}`);
      const body = input.data;
      const order = [...this.orders.values()].find(
        (o) =>
          (body.out_trade_no !== undefined && o.outTradeNo === body.out_trade_no) ||
          (body.transaction_id !== undefined && o.transactionId === body.transaction_id),
      );
      if (!order) return this.fail(ctx, 404, 'RESOURCE_NOT_EXISTS', '订单不存在');
      if (order.tradeState === 'NOTPAY') return this.fail(ctx, 403, 'INVALID_REQUEST', '订单未支付');
      const known = this.refunds.get(body.out_refund_no);
      // The same out_refund_no is the same refund: answered again, never refunded twice.
      if (known) return this.answer(ctx, 200, this.refundAnswer(order, known));
      if (body.amount.total !== order.total) return this.fail(ctx, 400, 'PARAM_ERROR', '订单金额不匹配');
      const refunded = [...this.refunds.values()].filter((r) => r.outTradeNo === order.outTradeNo).reduce((sum, r) => sum + r.refund, 0);
      if (refunded + body.amount.refund > order.total) return this.fail(ctx, 403, 'NOT_ENOUGH', '退款金额超过订单可退金额');
      const refund: SandboxPayRefund = {
        outRefundNo: body.out_refund_no,
        refundId: `50${Date.now()}${randomBytes(4).toString('hex')}`.slice(0, 32),
        outTradeNo: order.outTradeNo,
        refund: body.amount.refund,
        notifyUrl: body.notify_url ?? order.notifyUrl,
        status: 'PROCESSING',
      };
      this.refunds.set(refund.outRefundNo, refund);
      this.answer(ctx, 200, this.refundAnswer(order, refund));
      // WeChat Pay refunds after it answers, then notifies: the same here, once the answer is out.
      const delivery = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.completeRefund(refund, 'public_key'));
      this.pending.add(delivery);
      void delivery.finally(() => this.pending.delete(delivery)).catch(() => undefined);
    });

    router.get(`${MOUNT}/jsbridge.js`, (ctx) => {
      ctx.type = 'application/javascript; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = JS_BRIDGE;
    });

    router.post(`${MOUNT}/actions`, async (ctx) => {
      const input = payActionSchema.safeParse(await readJson(ctx));
      if (!input.success) {
        ctx.status = 400;
        ctx.body = {
          ok: false,
          error:
            'send {action: "pay_order", outTradeNo?, signWith?, times?} or {action: "jsapi_pay", appId, timeStamp, nonceStr, package, signType, paySign}',
          code: 'sandbox_bad_action',
          params: {},
        };
        return;
      }
      try {
        const deliveries = await this.act(input.data);
        ctx.body = { ok: true, deliveries, ...(input.data.action === 'jsapi_pay' ? { err_msg: 'get_brand_wcpay_request:ok' } : {}) };
      } catch (error) {
        ctx.status = error instanceof SandboxPayError ? 400 : 502;
        ctx.body = {
          ok: false,
          error: error instanceof Error ? error.message : String(error),
          code: 'sandbox_pay_failed',
          params: {},
          ...(input.data.action === 'jsapi_pay' ? { err_msg: 'get_brand_wcpay_request:fail' } : {}),
        };
      }
    });
  }

  private act(action: PayAction): Promise<PayDelivery[]> {
    if (action.action === 'pay_order') return this.payOrder(action);
    if (!this.appIds.has(action.appId)) throw new SandboxPayError(`appId ${action.appId} is not bound to the merchant`);
    if (action.signType !== 'RSA') throw new SandboxPayError('signType must be RSA');
    if (!verifyPayMessage(this.keys.merchantPublicKeyPem, jsapiPaySignMessage(action), action.paySign)) {
      throw new SandboxPayError('paySign does not verify with the merchant key');
    }
    const prepayId = action.package.replace(/^prepay_id=/, '');
    const order = [...this.orders.values()].find((o) => o.prepayId === prepayId);
    if (!order) throw new SandboxPayError(`no order with prepay_id ${prepayId}`);
    // The client opens the sheet in the app it runs in: an order made for another app's openid does not pay there.
    if (order.appid !== action.appId) throw new SandboxPayError(`the order was made for appid ${order.appid}, not ${action.appId}`);
    return this.payOrder({ outTradeNo: order.outTradeNo });
  }

  /** The payer pays: the order succeeds and its TRANSACTION.SUCCESS notification is delivered `times` times. */
  async payOrder(p: { outTradeNo?: string; signWith?: PaySignMode; times?: number }): Promise<PayDelivery[]> {
    const order =
      p.outTradeNo === undefined
        ? [...this.orders.values()].reverse().find((o) => o.tradeState === 'NOTPAY')
        : this.orders.get(p.outTradeNo);
    if (!order) throw new SandboxPayError(p.outTradeNo === undefined ? 'no unpaid order' : `no order ${p.outTradeNo}`);
    if (order.tradeState === 'CLOSED') throw new SandboxPayError(`order ${order.outTradeNo} is closed`);
    if (order.tradeState === 'NOTPAY') {
      order.tradeState = 'SUCCESS';
      order.transactionId = `4200${randomBytes(14).toString('hex')}`.slice(0, 28);
      order.successTime = beijingTime(this.clock.now());
    }
    const notification = this.notification({
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      originalType: 'transaction',
      resource: this.transactionResource(order),
      signWith: p.signWith ?? 'public_key',
    });
    const deliveries: PayDelivery[] = [];
    for (let i = 0; i < (p.times ?? 1); i += 1) deliveries.push(await this.deliver(order.notifyUrl, notification));
    return deliveries;
  }

  /** Waits for the refund notifications the sandbox is sending. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** The paid order's decrypted resource, as the notification carries it (tests build tampered copies from it). */
  transactionResource(order: SandboxPayOrder): Record<string, unknown> {
    return {
      mchid: order.mchid,
      appid: order.appid,
      out_trade_no: order.outTradeNo,
      transaction_id: order.transactionId,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      bank_type: 'OTHERS',
      attach: '',
      success_time: order.successTime,
      payer: { openid: order.openid },
      amount: { total: order.total, payer_total: order.total, currency: 'CNY', payer_currency: 'CNY' },
    };
  }

  /** A notification as WeChat Pay sends it: the body (resource encrypted) and its Wechatpay-* headers. */
  notification(p: {
    eventType: string;
    summary: string;
    originalType: string;
    resource: Record<string, unknown>;
    signWith: PaySignMode;
    /** Seconds; default the sandbox's clock. */
    timestamp?: number;
  }): { body: string; headers: Record<string, string> } {
    const now = this.clock.now();
    const resource = encryptPayResource({
      apiV3Key: this.keys.apiV3Key,
      plaintext: JSON.stringify(p.resource),
      associatedData: p.originalType,
      nonce: randomBytes(6).toString('hex'),
    });
    const body = JSON.stringify({
      id: `EV-${randomBytes(10).toString('hex')}`,
      create_time: beijingTime(now),
      resource_type: 'encrypt-resource',
      event_type: p.eventType,
      summary: p.summary,
      resource: { original_type: p.originalType, ...resource },
    });
    return { body, headers: this.signedHeaders(body, p.signWith, p.timestamp ?? Math.floor(now.getTime() / 1000)) };
  }

  /** Posts a notification to Flywheel, at notify_url's path on Flywheel's origin. */
  async deliver(notifyUrl: string, notification: { body: string; headers: Record<string, string> }): Promise<PayDelivery> {
    const url = this.callbackBaseUrl === null ? notifyUrl : `${this.callbackBaseUrl}${new URL(notifyUrl).pathname}`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...notification.headers },
      body: notification.body,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: await response.text() };
  }

  private async completeRefund(refund: SandboxPayRefund, signWith: PaySignMode): Promise<PayDelivery[]> {
    const order = this.orders.get(refund.outTradeNo);
    if (!order) return [];
    refund.status = 'SUCCESS';
    order.tradeState = 'REFUND';
    const notification = this.notification({
      eventType: 'REFUND.SUCCESS',
      summary: '退款成功',
      originalType: 'refund',
      resource: {
        mchid: order.mchid,
        out_trade_no: order.outTradeNo,
        transaction_id: order.transactionId,
        out_refund_no: refund.outRefundNo,
        refund_id: refund.refundId,
        refund_status: 'SUCCESS',
        success_time: beijingTime(this.clock.now()),
        user_received_account: '支付用户零钱',
        amount: { total: order.total, refund: refund.refund, payer_total: order.total, payer_refund: refund.refund },
      },
      signWith,
    });
    return [await this.deliver(refund.notifyUrl, notification)];
  }

  private refundAnswer(order: SandboxPayOrder, refund: SandboxPayRefund): Record<string, unknown> {
    return {
      refund_id: refund.refundId,
      out_refund_no: refund.outRefundNo,
      transaction_id: order.transactionId,
      out_trade_no: order.outTradeNo,
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
      create_time: beijingTime(this.clock.now()),
      status: refund.status,
      funds_account: 'AVAILABLE',
      amount: { total: order.total, refund: refund.refund, payer_total: order.total, payer_refund: refund.refund, currency: 'CNY' },
    };
  }

  private signedHeaders(body: string, signWith: PaySignMode, timestamp: number): Record<string, string> {
    const signer =
      signWith === 'certificate'
        ? this.keys.certificate && { id: this.keys.certificate.serialNo, privateKeyPem: this.keys.certificate.privateKeyPem }
        : { id: this.keys.publicKey.id, privateKeyPem: this.keys.publicKey.privateKeyPem };
    if (!signer) throw new SandboxPayError('the sandbox has no platform certificate (a test gives one)');
    const nonce = randomBytes(16).toString('hex');
    return {
      'Wechatpay-Timestamp': String(timestamp),
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': signPayMessage(signer.privateKeyPem, `${timestamp}\n${nonce}\n${body}\n`),
      'Wechatpay-Serial': signer.id,
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    };
  }

  /**
   * The merchant's request signature, checked as WeChat Pay checks it: the scheme, the merchant id,
   * the serial of the merchant certificate it was configured with, and SHA256withRSA over
   * "METHOD\n/v3/...\ntimestamp\nnonce\nbody\n". (The timestamp's age is not checked: the
   * sandbox's clock may have been moved days ahead while wechatpay-node-v3 stamps real time.)
   */
  private async authenticate(ctx: Context): Promise<{ json: unknown } | null> {
    const raw = await readRaw(ctx);
    if (raw === null) {
      this.fail(ctx, 400, 'PARAM_ERROR', '请求体过大');
      return null;
    }
    const auth = parsePayAuthorization(ctx.get('authorization'));
    if (!auth) {
      this.fail(ctx, 401, 'SIGN_ERROR', 'Authorization 缺失或格式错误');
      return null;
    }
    if (auth.mchid !== this.keys.mchId || auth.serialNo.toUpperCase() !== this.keys.merchantSerialNo.toUpperCase()) {
      this.fail(ctx, 401, 'SIGN_ERROR', '商户号或证书序列号不正确');
      return null;
    }
    const path = ctx.url.slice(MOUNT.length);
    const message = payRequestMessage({ method: ctx.method, path, timestamp: auth.timestamp, nonceStr: auth.nonceStr, body: raw });
    if (!verifyPayMessage(this.keys.merchantPublicKeyPem, message, auth.signature)) {
      this.fail(ctx, 401, 'SIGN_ERROR', '签名错误');
      return null;
    }
    try {
      return { json: JSON.parse(raw) as unknown };
    } catch {
      this.fail(ctx, 400, 'PARAM_ERROR', '请求体不是 JSON');
      return null;
    }
  }

  /** Answers are signed as WeChat Pay signs them, an empty 204 too (over an empty body). */
  private answer(ctx: Context, status: number, body: object | null): void {
    const text = body === null ? '' : JSON.stringify(body);
    ctx.status = status;
    if (body !== null) {
      ctx.type = 'application/json';
      ctx.body = text;
    }
    for (const [name, value] of Object.entries(this.signedHeaders(text, 'public_key', Math.floor(this.clock.now().getTime() / 1000)))) {
      ctx.set(name, value);
    }
  }

  private fail(ctx: Context, status: number, code: string, message: string): void {
    this.answer(ctx, status, { code, message });
  }
}

export class SandboxPayError extends Error {}

/** rfc3339 in UTC+8, as WeChat Pay writes times: 2026-12-07T14:00:00+08:00. */
function beijingTime(at: Date): string {
  return `${new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 19)}+08:00`;
}

async function readRaw(ctx: Context): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(ctx: Context): Promise<unknown> {
  const raw = await readRaw(ctx);
  try {
    return raw === null ? null : (JSON.parse(raw) as unknown);
  } catch {
    return null;
  }
}
