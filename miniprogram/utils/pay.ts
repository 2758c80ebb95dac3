/**
 * Paying for a paid event's ticket in the mini-program: the server's order (JSAPI for this
 * mini-program's appid, signed over it) goes to wx.requestPayment, then the ticket is polled until
 * WeChat Pay's signed notification made it valid on the server. The page trusts the ticket, never
 * requestPayment's success alone (as the H5 page trusts the order, web/mobile/pay-flow.ts).
 */
import { mpApi, type PayParams } from './api';

/**
 * `pending`: WeChat said ok but the notification has not been applied within the wait (the page
 * must not offer to pay again: the money may be on its way); `closed`: the registration is gone
 * (released when its order closed).
 */
export type PayOutcome = 'paid' | 'pending' | 'closed' | 'cancel' | 'fail';

/** What the page shows while it waits, and for each outcome that is not `paid`. */
export const PAY_TEXT = {
  confirming: '支付确认中，请勿重复支付',
  cancel: '您已取消支付，可稍后在「我的门票」中继续支付',
  fail: '支付没有完成，请重试',
  pending: '支付结果确认中，请稍后刷新查看，请勿重复支付',
  closed: '订单已关闭，名额已释放，请重新报名',
} as const;

/** How often and how long the ticket is polled: a minute, as the H5 page waits. */
const POLL_MS = 1000;
const POLLS = 60;

/** wx.requestPayment with the server's parameters; `cancel` when the user closed the sheet. */
export function requestPayment(params: PayParams): Promise<'ok' | 'cancel' | 'fail'> {
  return new Promise((resolve) => {
    wx.requestPayment({
      timeStamp: params.timeStamp,
      nonceStr: params.nonceStr,
      package: params.package,
      signType: params.signType,
      paySign: params.paySign,
      success: () => resolve('ok'),
      // `requestPayment:fail cancel` when the user closes the sheet; anything else is a failure.
      fail: (error) => resolve(/cancel/.test(error.errMsg) ? 'cancel' : 'fail'),
    });
  });
}

/**
 * Pays, then waits for the registration's ticket to be valid. `stopped` ends the wait when the
 * page is left (its answer is then `pending`).
 */
export async function payAndConfirm(
  p: { registrationId: number; payParams: PayParams },
  options: { onConfirming?: () => void; stopped?: () => boolean } = {},
): Promise<PayOutcome> {
  const outcome = await requestPayment(p.payParams);
  if (outcome !== 'ok') return outcome;
  options.onConfirming?.();
  for (let attempt = 0; attempt < POLLS && !options.stopped?.(); attempt += 1) {
    try {
      const { items } = await mpApi.myTickets();
      const mine = items.find((ticket) => ticket.registrationId === p.registrationId);
      if (!mine) return 'closed';
      if (mine.status !== 'unpaid') return 'paid';
    } catch {
      // A dropped request: the next look tells.
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return 'pending';
}

/** `¥99.00` */
export const yuanOf = (fen: number): string => `¥${(fen / 100).toFixed(2)}`;
