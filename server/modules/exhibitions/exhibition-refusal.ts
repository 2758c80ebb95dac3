/**
 * What the exhibition services refuse with: a code the API answers as `error.code` (each listed in
 * server/http/error-codes.ts, with a sentence in both page languages) and the HTTP status the
 * contract gives it. The routes map these one to one.
 */
export const EXHIBITION_REFUSALS = {
  event_not_found: 404,
  registration_not_found: 404,
  rate_limited: 429,
  validation_failed: 400,
  consent_required: 400,
  sms_code_invalid: 400,
  sms_verification_off: 409,
  already_registered: 409,
  event_full: 409,
  registration_closed: 409,
  invalid_ticket: 400,
  already_checked_in: 409,
  ticket_revoked: 409,
  ticket_waitlisted: 409,
  ticket_unpaid: 409,
  wechat_required: 401,
  pay_not_configured: 409,
  already_purchased: 409,
  pay_order_failed: 502,
  wrong_event: 409,
  ticket_expired: 409,
  event_not_ended: 409,
  survey_not_found: 404,
  not_registered: 403,
  invalid_survey_token: 400,
  already_answered: 409,
  followup_not_found: 404,
} as const;

export type ExhibitionRefusalCode = keyof typeof EXHIBITION_REFUSALS;

export interface Refusal {
  ok: false;
  code: ExhibitionRefusalCode;
  message: string;
  details?: Record<string, unknown>;
}

export function refuse(code: ExhibitionRefusalCode, message: string, details?: Record<string, unknown>): Refusal {
  return details === undefined ? { ok: false, code, message } : { ok: false, code, message, details };
}
