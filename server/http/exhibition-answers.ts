import type { Context } from 'koa';
import { EXHIBITION_REFUSALS, type Refusal } from '../modules/exhibitions/exhibition-refusal';
import { HttpError } from './http-error';

/** A service's refusal as the API's error: its own code, the contract's status, its details. */
export function refusalError(refusal: Refusal): HttpError {
  return new HttpError(EXHIBITION_REFUSALS[refusal.code], refusal.code, refusal.message, refusal.details);
}

export function unwrapExhibition<T>(result: { ok: true; value: T } | Refusal): T {
  if (result.ok) return result.value;
  throw refusalError(result);
}

/** The client IP the rate limits count (Koa's ctx.ip: X-Forwarded-For only with TRUST_PROXY). */
export function clientIp(ctx: Context): string {
  return ctx.ip || 'unknown';
}
