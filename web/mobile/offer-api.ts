/**
 * The offer page's calls (server/http/offers.routes.ts) and WeChat's in-app payment. Inside
 * WeChat the page has WeixinJSBridge; in sandbox mode the server serves a stand-in for it at
 * /sandbox/pay/jsbridge.js, which this loads when the real one is missing (the path exists only
 * in sandbox mode, so elsewhere the page says to open it in WeChat).
 */
import { api } from '@shared/api';

export interface OfferProduct {
  id: number;
  name: string;
  priceFen: number;
  oncePerContact: boolean;
}

/** The pay-sign parameters getBrandWCPayRequest takes (JSAPI调起支付), as the server made them. */
export interface PayParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: string;
  paySign: string;
}

export interface OfferOrder {
  id: number;
  state: 'created' | 'paid' | 'closed' | 'refunding' | 'refunded';
  description: string;
  amountFen: number;
}

export const offerApi = {
  product: (productId: string) => api.get<OfferProduct>(`/api/offers/${encodeURIComponent(productId)}`),
  order: (productId: string) =>
    api.post<{ order: OfferOrder; payParams: PayParams }>(`/api/offers/${encodeURIComponent(productId)}/orders`, {}),
  orderState: (orderId: number) => api.get<OfferOrder>(`/api/offers/orders/${orderId}`),
};

interface WeixinJSBridgeLike {
  invoke(name: 'getBrandWCPayRequest', params: PayParams, callback: (answer: { err_msg?: string }) => void): void;
}

declare global {
  interface Window {
    WeixinJSBridge?: WeixinJSBridgeLike;
  }
}

/** WeChat's bridge, or the sandbox's stand-in; null outside WeChat. */
async function bridge(): Promise<WeixinJSBridgeLike | null> {
  if (window.WeixinJSBridge) return window.WeixinJSBridge;
  // Inside WeChat the bridge is injected a moment after the page loads: a quick tap waits for it.
  if (/MicroMessenger/i.test(navigator.userAgent)) {
    await new Promise<void>((resolve) => {
      document.addEventListener('WeixinJSBridgeReady', () => resolve(), { once: true });
      setTimeout(resolve, 3000);
    });
    if (window.WeixinJSBridge) return window.WeixinJSBridge;
  }
  const loaded = await new Promise<boolean>((resolve) => {
    const script = document.createElement('script');
    script.src = '/sandbox/pay/jsbridge.js';
    script.onload = () => resolve(true);
    script.onerror = () => resolve(false);
    document.head.appendChild(script);
  });
  return loaded ? (window.WeixinJSBridge ?? null) : null;
}

/**
 * Asks WeChat to pay: `ok` when the payer paid (the order becomes paid when WeChat Pay's
 * notification arrives, so the page then polls the order), `cancel` when they closed the sheet,
 * `fail` otherwise, `no_wechat` outside WeChat.
 */
export async function requestPayment(params: PayParams): Promise<'ok' | 'cancel' | 'fail' | 'no_wechat'> {
  const wx = await bridge();
  if (!wx) return 'no_wechat';
  return new Promise((resolve) => {
    wx.invoke('getBrandWCPayRequest', params, (answer) => {
      const message = answer.err_msg ?? '';
      resolve(message.endsWith(':ok') ? 'ok' : message.endsWith(':cancel') ? 'cancel' : 'fail');
    });
  });
}
