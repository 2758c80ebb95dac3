/**
 * Paying for something already ordered (a paid ticket, issue 15 §7), as the offer page does: the
 * pay-sign parameters go to WeChat's bridge (or the sandbox's stand-in), then the order is polled
 * until WeChat Pay's signed notification made it paid. The page trusts the order, never the
 * bridge's `ok` alone.
 */
import { offerApi, requestPayment, type PayParams } from './offer-api';

export type PayOutcome = 'paid' | 'cancel' | 'fail' | 'no_wechat';

/** Pays and waits (1 s apart, a minute at most) for the order to be paid. */
export async function payAndConfirm(payment: { orderId: number; payParams: PayParams }, onConfirming?: () => void): Promise<PayOutcome> {
  const outcome = await requestPayment(payment.payParams);
  if (outcome !== 'ok') return outcome;
  onConfirming?.();
  for (let attempt = 0; attempt < 60; attempt += 1) {
    try {
      if ((await offerApi.orderState(payment.orderId)).state === 'paid') return 'paid';
    } catch {
      // A dropped request: the next look tells.
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return 'fail';
}

export const yuanOf = (fen: number): string => (fen / 100).toFixed(2);
