/**
 * Paying for something already ordered (a paid ticket, issue 15 §7), as the offer page does: the
 * pay-sign parameters go to WeChat's bridge (or the sandbox's stand-in), then the order is polled
 * until WeChat Pay's signed notification made it paid. The page trusts the order, never the
 * bridge's `ok` alone.
 */
import { offerApi, requestPayment, type PayParams } from './offer-api';

/**
 * `pending`: WeChat said ok but the paid notification has not been applied within a minute (the
 * page must not offer to pay again: the money may be on its way); `closed`: the order closed unpaid.
 */
export type PayOutcome = 'paid' | 'pending' | 'closed' | 'cancel' | 'fail' | 'no_wechat';

/**
 * Pays and waits (1 s apart, a minute at most) for the order to be paid. `stopped` ends the wait
 * when the page is left (its answer is then `pending`).
 */
export async function payAndConfirm(
  payment: { orderId: number; payParams: PayParams },
  options: { onConfirming?: () => void; stopped?: () => boolean } = {},
): Promise<PayOutcome> {
  const outcome = await requestPayment(payment.payParams);
  if (outcome !== 'ok') return outcome;
  options.onConfirming?.();
  for (let attempt = 0; attempt < 60 && !options.stopped?.(); attempt += 1) {
    try {
      const { state } = await offerApi.orderState(payment.orderId);
      if (state === 'paid') return 'paid';
      if (state === 'closed') return 'closed';
    } catch {
      // A dropped request: the next look tells.
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return 'pending';
}

/** What the page says for an outcome that is not `paid`. */
export function payOutcomeKey(
  outcome: Exclude<PayOutcome, 'paid'>,
): 'offer.cancelled' | 'offer.openInWechat' | 'offer.failed' | 'offer.pending' {
  if (outcome === 'cancel') return 'offer.cancelled';
  if (outcome === 'no_wechat') return 'offer.openInWechat';
  return outcome === 'pending' ? 'offer.pending' : 'offer.failed';
}

export const yuanOf = (fen: number): string => (fen / 100).toFixed(2);
