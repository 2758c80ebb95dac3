/**
 * What the mini-program services refuse with: a code the API answers as `error.code` (each listed
 * in server/http/error-codes.ts with a sentence in both page languages) and its HTTP status. The
 * routes map these one to one, as they map the exhibitions' refusals.
 */
export const MP_REFUSALS = {
  mp_session_required: 401,
  mp_session_expired: 401,
  mp_staff_only: 403,
  mp_code_invalid: 400,
  mp_code_used: 400,
  mp_user_blocked: 403,
  mp_phone_code_invalid: 400,
  mp_binding_code_invalid: 400,
  platform_refused: 502,
  rate_limited: 429,
  not_found: 404,
  card_not_found: 404,
  mp_phone_required: 409,
} as const;

export type MpRefusalCode = keyof typeof MP_REFUSALS;

export interface MpRefusal {
  ok: false;
  code: MpRefusalCode;
  message: string;
  details?: Record<string, unknown>;
}

export type MpResult<T> = { ok: true; value: T } | MpRefusal;

export function refuseMp(code: MpRefusalCode, message: string, details?: Record<string, unknown>): MpRefusal {
  return details === undefined ? { ok: false, code, message } : { ok: false, code, message, details };
}
