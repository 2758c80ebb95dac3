/**
 * Every `error.code` the API answers with, and every rule code a validation detail carries. The
 * page turns each into a sentence (`errors.<code>`, `forms.issues.<code>`, `forms.rules.<code>`);
 * test/unit/web/error-codes.test.ts proves both locales have one, so a new code cannot reach a
 * Chinese page as English. Pure data: the page's tests import it too.
 */
export const ERROR_CODES = [
  /** 400: a field broke a rule; `details` lists `{path, code, message, params}`. */
  'bad_request',
  /** 400: the body is not JSON. */
  'bad_json',
  /** 400: the current password given to change it is wrong. */
  'wrong_password',
  /** 401: no session, or it expired. */
  'unauthorized',
  /** 401: the username or password is wrong. */
  'invalid_credentials',
  /** 403: the operator's role does not allow the call. */
  'forbidden',
  /** 403: a write without the session's CSRF header (a stale page). */
  'csrf_failed',
  /** 403: the operator must choose a new password first. */
  'password_change_required',
  /** 403: /metrics without a token, from another host. */
  'metrics_loopback_only',
  /** 404: no such record or route. */
  'not_found',
  /** 409: the request clashes with stored data (a group that still has tags). */
  'conflict',
  /** 409: a tag group still has tags (delete with ?force=true). */
  'group_not_empty',
  /** 413: the body is over the size limit. */
  'payload_too_large',
  /** 415: the body is not application/json. */
  'unsupported_media_type',
  /** 429: too many failed logins; `details.retryAfterSeconds`. */
  'login_throttled',
  /** 500: anything unexpected (logged, no detail to the client). */
  'internal',
  /** 503: the admin page was not built. */
  'admin_not_built',
  /** 503: the WeCom sidebar was not built. */
  'sidebar_not_built',
  /** 400: the JS-SDK signs only this site's /sidebar pages (PUBLIC_BASE_URL's origin). */
  'sidebar_url_not_ours',
  /** 409: WeChat Pay is not configured (no WECHATPAY_* outside sandbox mode). */
  'pay_not_configured',
  /** 502: WeChat Pay refused or did not answer (a refund); `details.code` is its code. */
  'pay_api_failed',
  /** 502: WeChat or WeCom refused a call made for the request, or did not answer; `details.errcode`. */
  'platform_refused',
  /** 502: the content centre's S3-compatible store refused an upload or did not answer; `details.code` is its code. */
  'content_store_failed',
  // The offer page (server/http/offers.routes.ts).
  /** 404: no such product on offer (unknown or inactive). */
  'product_not_found',
  /** 404: no such order of this visitor. */
  'order_not_found',
  /** 401: paying needs the visitor's WeChat identity (web OAuth): open the page in WeChat. */
  'wechat_required',
  /** 409: a once-per-person product (the trial offer) this person has bought already. */
  'already_purchased',
  // Exhibitions (server/modules/exhibitions/exhibition-refusal.ts gives each its status).
  /** 404: no such event. */
  'event_not_found',
  /** 404: no such registration. */
  'registration_not_found',
  /** 429: too many calls from this IP or for this phone; `details.retryAfterSeconds`. */
  'rate_limited',
  /** 400: registration answers refused; `details.fields` maps each field to a Chinese message. */
  'validation_failed',
  /** 400: the privacy consent was not given. */
  'consent_required',
  /** 400: the SMS code is wrong, used up or expired. */
  'sms_code_invalid',
  /** 409: the event does not verify phones by SMS. */
  'sms_verification_off',
  /** 409: this phone is registered for the event already; `details.registrationId`. */
  'already_registered',
  /** 409: every seat is taken; `details.waitlisted` (and `position`, `ticket` when kept on the waitlist). */
  'event_full',
  /** 409: past the registration deadline, or the event is over. */
  'registration_closed',
  /** 400: the ticket is malformed or its signature is not ours. */
  'invalid_ticket',
  /** 409: the ticket was checked in already; `details.gate` and `details.checkedInAt` of the first check-in. */
  'already_checked_in',
  /** 409: the ticket's registration was cancelled. */
  'ticket_revoked',
  /** 409: the ticket's registration is still on the waitlist. */
  'ticket_waitlisted',
  /** 409: the ticket's paid registration is not paid yet (paid tickets). */
  'ticket_unpaid',
  /** 502: a paid registration's WeChat Pay order could not be made or prepaid; the ticket page retries. */
  'pay_order_failed',
  /** 409: the ticket is for another event. */
  'wrong_event',
  /** 409: the event is over. */
  'ticket_expired',
  /** 409: the event has not ended yet (the recap goes after it). */
  'event_not_ended',
  /** 404: the event has no survey. */
  'survey_not_found',
  /** 403: only the event's registrants may do this (its survey in the mini-program). */
  'not_registered',
  /** 400: a survey link's token is malformed or its signature is not ours. */
  'invalid_survey_token',
  /** 409: this person answered the survey already. */
  'already_answered',
  /** 404: no such follow-up (or not one of the sales rep's). */
  'followup_not_found',
  // The mini-program's API (server/modules/miniprogram/mp-refusal.ts gives each its status).
  /** 401: no mini-program session token, or one never issued (log in with wx.login again). */
  'mp_session_required',
  /** 401: the mini-program session expired (log in with wx.login again). */
  'mp_session_expired',
  /** 403: a staff-only mini-program route, for a user not bound to an operator. */
  'mp_staff_only',
  /** 400: WeChat refused the wx.login code (40029: wrong or expired); `details.errcode`. */
  'mp_code_invalid',
  /** 400: the wx.login code was used already (40163); `details.errcode`. */
  'mp_code_used',
  /** 403: WeChat's risk control refuses this user (40226); `details.errcode`. */
  'mp_user_blocked',
  /** 400: WeChat refused the getPhoneNumber code (40029: wrong, used or expired); `details.errcode`. */
  'mp_phone_code_invalid',
  /** 400: the staff binding code is wrong, used or expired. */
  'mp_binding_code_invalid',
  /** 409: leaving a phone on a card needs the phone shared first (POST /api/mp/phone). */
  'mp_phone_required',
  // The business card (server/modules/cards).
  /** 404: no card for this operator (unknown, disabled, or none saved yet). */
  'card_not_found',
  /** 404: a mini-program code's scene names no channel of ours (POST /api/mp/channel-visits). */
  'channel_not_found',
  /** 415: an uploaded file is not of a type the material takes (its first bytes decide, not its name). */
  'content_file_type',
  /** 416: a byte range past the end of a content file (`Content-Range: bytes *\/<size>`). */
  'range_not_satisfiable',
  /** 400: an uploaded CSV is neither UTF-8 nor GBK (lead imports). */
  'bad_encoding',
  /** 400: a lead CSV's header names no phone column. */
  'no_phone_column',
  /** 400: a lead CSV has no header row. */
  'empty_file',
  /** 400: a lead CSV cannot be parsed (an unclosed quote, a row too long). */
  'bad_csv',
  // The WeCom sidebar (server/http/sidebar.routes.ts).
  /** 404: Flywheel has never seen this WeCom external_userid (or contact). */
  'contact_unknown',
  /** 403: the customer exists, but this sales rep does not follow them in WeCom. */
  'not_your_customer',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Named rules a validation detail may carry (server/http/validate-input.ts); zod's own issue codes
 * are listed in ZOD_ISSUE_CODES. Each has a sentence under `forms.issues`.
 */
export const FIELD_RULE_CODES = [
  'username_empty',
  'username_too_long',
  'username_chars',
  'username_taken',
  'operator_self_change',
  'tag_name_empty',
  'tag_name_too_long',
  'tag_name_oa_bytes',
  'tag_name_wecom_chars',
  'search_too_long',
  'score_range',
  'password_same',
  'wrong_password',
  'name_taken',
  'group_not_found',
  'match_value_required',
  'match_kind_not_for_type',
  'match_value_rating',
  'reply_one_kind',
  'time_or_cursor',
  'phone_format',
  // Segment filters (web/shared/segment-filter.ts) and saved segments.
  'range_bound',
  'time_range',
  'filter_depth',
  'filter_size',
  'segment_unknown',
  'segment_cycle',
  'segment_in_use',
  // A contact's time zone (PATCH /api/admin/contacts/:id).
  'time_zone_format',
  // Channel codes (server/http/admin-channels.routes.ts).
  'tag_unknown',
  'platform_disabled',
  'cost_cents',
  'mp_page_format',
  'channel_field_kind',
  'channel_users_required',
  'channel_event_unknown',
  'channel_product_unknown',
  // Events (server/http/admin-events.routes.ts).
  'event_times',
  'paid_event_waitlist',
  'event_field_keys',
  'event_field_options',
  'event_field_type',
  'capacity_below_registered',
  'price_locked',
  // Surveys (server/http/admin-event-after.routes.ts).
  'survey_questions',
  // The content centre (server/http/admin-content.routes.ts).
  'content_body_bytes',
  'content_body_article',
  // An event's cloud exhibition (server/http/admin-event-cloud.routes.ts).
  'cloud_material_unknown',
  'cloud_material_twice',
  'cloud_section_size',
  // The WeCom sidebar (server/http/sidebar.routes.ts).
  'note_too_long',
  // The business card (server/http/admin-cards.routes.ts).
  'card_material_unknown',
] as const;

export type FieldRuleCode = (typeof FIELD_RULE_CODES)[number];

/**
 * zod 4's issue codes: a schema refusal carries one of these (with `minimum`/`maximum` and the
 * value's `origin` for sizes); each has a sentence under `forms.rules`, so zod's English default
 * message is never what the page shows.
 */
export const ZOD_ISSUE_CODES = [
  'invalid_type',
  'too_big',
  'too_small',
  'invalid_format',
  'not_multiple_of',
  'unrecognized_keys',
  'invalid_union',
  'invalid_key',
  'invalid_element',
  'invalid_value',
  'custom',
] as const;

/** Why a tag sync failed (the tags screen's `errors.sync.<code>`): defined next to the messages it reads. */
export { TAG_SYNC_FAILURE_CODES, type TagSyncFailureCode } from '../modules/tag-sync/sync-failure';

/** The sandbox's refusals (`{ok: false, error, code, params}`, sentences under `errors.<code>`): defined at the sandbox. */
export { SANDBOX_ERROR_CODES, type SandboxErrorCode } from '../adapters/sandbox/sandbox-player';

/** A journey definition's or journey action's refusals (sentences under `journeys.issues.<code>`): defined with the definition. */
export { JOURNEY_RULE_CODES, type JourneyRuleCode } from '../modules/journeys/journey-rule-codes';
