import Pay from 'wechatpay-node-v3';
import type { IPayRequest } from 'wechatpay-node-v3/dist/lib/pay-request.interface';
import type { Output } from 'wechatpay-node-v3/dist/lib/interface-v2';
import type { PayMerchantConfig } from '../../config/pay.config';
import { verifyPayNotification } from '../wechat/pay-notification';

/**
 * WeChat Pay API v3 through wechatpay-node-v3: it builds the request signature (`Authorization`)
 * and the JSAPI pay-sign parameters. The package writes the host into every URL
 * (https://api.mch.weixin.qq.com) and has no option for another one, but it lets its HTTP service
 * be replaced (`createHttp`): ours sends to the configured base (the sandbox's, in sandbox mode)
 * with the path unchanged, so the signature over `/v3/...` stays what WeChat Pay checks. It also
 * verifies the answer's Wechatpay-Signature, which the package's own service does not.
 */
export const PAY_API_HOST = 'https://api.mch.weixin.qq.com';

/** What `wx.chooseWXPay` / `WeixinJSBridge.invoke('getBrandWCPayRequest')` take. */
export interface JsapiPayParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export interface RefundAnswer {
  refundId: string;
  status: string;
}

/** An answer other than 2xx: WeChat Pay's `code` and `message` (or `network` for no answer). */
export class PayApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`WeChat Pay ${code}: ${message}`);
  }
}

export interface WechatPayClientParams {
  merchant: PayMerchantConfig;
  /** https://api.mch.weixin.qq.com, or the sandbox's <origin>/sandbox/pay. */
  baseUrl: string;
  timeoutMs: number;
}

export class WechatPayClient {
  private readonly pay: Pay;
  private readonly publicKeys: ReadonlyMap<string, string>;

  constructor(private readonly params: WechatPayClientParams) {
    const m = params.merchant;
    this.publicKeys = new Map(m.platformKeys.map((key) => [key.id, key.publicKeyPem]));
    this.pay = new Pay({
      appid: m.appId,
      mchid: m.mchId,
      // Given the serial, the package never reads this (it would parse a certificate for one).
      serial_no: m.merchantSerialNo,
      publicKey: Buffer.from(m.merchantPublicKeyPem),
      privateKey: Buffer.from(m.merchantPrivateKeyPem),
    });
    this.pay.createHttp(new RebasedPayRequest(params.baseUrl, this.publicKeys, params.timeoutMs));
  }

  get appId(): string {
    return this.params.merchant.appId;
  }

  /**
   * JSAPI下单, then the client's pay-sign parameters (signed with the merchant key over `appId`).
   * `appId`: the app the payer's openid belongs to, the merchant's own (the Official Account's) by
   * default; a mini-program's takes the same call (小程序支付 is JSAPI下单 with its appid) when
   * that appid is bound to the merchant (AppID账号关联), which WeChat Pay checks.
   */
  async prepayJsapi(p: {
    outTradeNo: string;
    description: string;
    notifyUrl: string;
    totalFen: number;
    openid: string;
    appId?: string;
  }): Promise<JsapiPayParams> {
    const result = await this.pay.transactions_jsapi({
      // The package signs the pay-sign over the request's appid, so the sheet opens in that app.
      ...(p.appId === undefined ? {} : { appid: p.appId }),
      description: p.description,
      out_trade_no: p.outTradeNo,
      notify_url: p.notifyUrl,
      amount: { total: p.totalFen, currency: 'CNY' },
      payer: { openid: p.openid },
    });
    const data = answerOf(result) as Partial<JsapiPayParams> & { prepay_id?: string };
    if (typeof data.package !== 'string' || typeof data.paySign !== 'string') {
      throw new PayApiError(result.status, 'bad_answer', 'the prepay answer has no prepay_id');
    }
    return {
      appId: String(data.appId),
      timeStamp: String(data.timeStamp),
      nonceStr: String(data.nonceStr),
      package: data.package,
      signType: 'RSA',
      paySign: data.paySign,
    };
  }

  /**
   * 关闭订单: the payer can no longer pay it. 204 means closed; a paid order answers an error
   * (ORDERPAID), and its notification is on its way.
   */
  async close(outTradeNo: string): Promise<void> {
    const result = await this.pay.close(outTradeNo);
    if (result.status === 204 || result.status === 200) return;
    answerOf(result);
  }

  /** 申请退款: the same out_refund_no is the same refund to WeChat Pay, so a retry is safe. */
  async refund(p: {
    outTradeNo: string;
    outRefundNo: string;
    totalFen: number;
    refundFen: number;
    notifyUrl: string;
    reason?: string;
  }): Promise<RefundAnswer> {
    const result = await this.pay.refunds({
      out_trade_no: p.outTradeNo,
      out_refund_no: p.outRefundNo,
      notify_url: p.notifyUrl,
      ...(p.reason ? { reason: p.reason } : {}),
      amount: { refund: p.refundFen, total: p.totalFen, currency: 'CNY' },
    });
    const data = answerOf(result) as { refund_id?: unknown; status?: unknown };
    return {
      refundId: typeof data.refund_id === 'string' ? data.refund_id : '',
      status: typeof data.status === 'string' ? data.status : '',
    };
  }
}

function answerOf(result: Output): Record<string, unknown> {
  if (result.status >= 200 && result.status < 300 && result.data && typeof result.data === 'object') {
    return result.data as Record<string, unknown>;
  }
  const failure = (typeof result.error === 'object' && result.error) as { code?: unknown; message?: unknown } | false;
  throw new PayApiError(
    result.status,
    failure && typeof failure.code === 'string' ? failure.code : 'http_error',
    failure && typeof failure.message === 'string' ? failure.message : `HTTP ${result.status}`,
  );
}

/**
 * The package's HTTP service, pointed at another base URL. An answer's body is read as text, its
 * signature checked (a 2xx answer unsigned or signed wrongly is refused: it may not be WeChat
 * Pay's), then parsed. Errors come back as the package expects them: `{ status, error }`.
 */
class RebasedPayRequest implements IPayRequest {
  constructor(
    private readonly baseUrl: string,
    private readonly publicKeys: ReadonlyMap<string, string>,
    private readonly timeoutMs: number,
  ) {}

  post(url: string, params: Record<string, unknown>, headers: Record<string, string>): Promise<Output> {
    // The package signed JSON.stringify(params); the same call gives the same text.
    return this.send('POST', url, headers, JSON.stringify(params));
  }

  get(url: string, headers: Record<string, string>): Promise<Output> {
    return this.send('GET', url, headers, undefined);
  }

  upload(): Promise<Output> {
    return Promise.reject(new Error('uploads are not used by Flywheel'));
  }

  private async send(method: string, url: string, headers: Record<string, string>, body: string | undefined): Promise<Output> {
    const target = url.startsWith(PAY_API_HOST) ? `${this.baseUrl}${url.slice(PAY_API_HOST.length)}` : url;
    const sendHeaders = { ...headers };
    // fetch decodes what it asks for itself.
    delete sendHeaders['Accept-Encoding'];
    let response: Response;
    let text: string;
    try {
      response = await fetch(target, { method, headers: sendHeaders, body, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await response.text();
    } catch (error) {
      return { status: 0, error: { code: 'network', message: error instanceof Error ? error.message : String(error) } };
    }
    let data: unknown;
    try {
      data = text === '' ? null : JSON.parse(text);
    } catch {
      return { status: response.status, error: { code: 'bad_answer', message: 'the answer is not JSON' } };
    }
    if (!response.ok) return { status: response.status, error: data ?? { code: 'http_error', message: text } };
    try {
      verifyPayNotification({
        rawBody: text,
        headers: {
          timestamp: response.headers.get('wechatpay-timestamp') ?? undefined,
          nonce: response.headers.get('wechatpay-nonce') ?? undefined,
          signature: response.headers.get('wechatpay-signature') ?? undefined,
          serial: response.headers.get('wechatpay-serial') ?? undefined,
        },
        publicKeys: this.publicKeys,
        nowSeconds: 0,
        // An answer is checked for its signature only; its age says nothing about a replay here.
        maxAgeSeconds: 0,
      });
    } catch (error) {
      return { status: 502, error: { code: 'bad_answer_signature', message: error instanceof Error ? error.message : String(error) } };
    }
    return { status: response.status, data };
  }
}
