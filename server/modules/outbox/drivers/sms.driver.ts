import type { EntityManager } from 'typeorm';
import { maskPersonalData, type Logger } from '../../../adapters/logger';
import { SmsRefusedError, type SmsSendInput, type SmsSendResult } from '../../../adapters/sms.client';
import { placeholders } from '../../../db/sql';
import type { ChannelDriver, OutboxRow, Refusal, SendPlan } from '../channel-driver';

/** Tencent Cloud SMS's SendSms, as the driver needs it (SmsClient). */
export interface SmsSendPort {
  readonly sdkAppId: string;
  sendSms(input: SmsSendInput): Promise<SmsSendResult>;
}

/** What a journey's SMS node enqueues (journey-engine.ts payloadOf 'sms'). */
export interface SmsPayload {
  templateId: string;
  params: string[];
}

const MAX_TEMPLATE_ID_LENGTH = 64;

/**
 * Per-number frequency limits ("同一手机号 30 秒 1 条、1 小时 5 条、1 个自然日 10 条"): the 30-second one
 * clears within the sender's backoff, so it is retried; the hourly and daily ones mean the person
 * has had enough messages for now, so a marketing message is skipped rather than held.
 */
const RETRY_CODES: ReadonlySet<string> = new Set(['LimitExceeded.PhoneNumberThirtySecondLimit', 'InternalError.RequestTimeException']);
const SKIP_CODES: ReadonlyMap<string, string> = new Map([
  ['LimitExceeded.PhoneNumberOneHourLimit', 'LimitExceeded.PhoneNumberOneHourLimit'],
  ['LimitExceeded.PhoneNumberDailyLimit', 'LimitExceeded.PhoneNumberDailyLimit'],
  ['LimitExceeded.PhoneNumberSameContentDailyLimit', 'LimitExceeded.PhoneNumberSameContentDailyLimit'],
  ['FailedOperation.PhoneNumberInBlacklist', 'FailedOperation.PhoneNumberInBlacklist'],
  ['FailedOperation.PhoneNumberOnBlacklist', 'FailedOperation.PhoneNumberInBlacklist'],
  ['InvalidParameterValue.IncorrectPhoneNumber', 'bad_phone'],
  ['FailedOperation.PhoneNumberParseFail', 'bad_phone'],
]);
/** The package or the account's own caps are spent: the channel pauses, nothing is lost. */
const QUOTA_CODES: ReadonlySet<string> = new Set([
  'FailedOperation.InsufficientBalanceInSmsPackage',
  'LimitExceeded.AppDailyLimit',
  'LimitExceeded.DailyLimit',
  'LimitExceeded.AppCountryOrRegionDailyLimit',
  'LimitExceeded.AppGlobalDailyLimit',
  'LimitExceeded.AppMainlandChinaDailyLimit',
]);

/**
 * The `sms` channel (docs/ARCHITECTURE.md, "The outbox"): one message to the contact's phone
 * (contacts.phone, as an operator typed it) through Tencent Cloud SMS. SendSms takes no key the
 * platform would dedupe by, so a send whose answer was lost stays `unknown` for good; every refusal
 * it names (Response.Error or the number's SendStatus.Code) happened before anything was sent.
 * @link https://cloud.tencent.com/document/product/382/52075 (错误码)
 */
export class SmsDriver implements ChannelDriver {
  readonly channel = 'sms' as const;
  readonly account: string;
  readonly interactionChannel = 'sms';
  readonly idempotencyWindowMs = null;

  constructor(private readonly deps: { client: SmsSendPort; logger: Logger }) {
    this.account = deps.client.sdkAppId;
  }

  async plan(rows: OutboxRow[], manager: EntityManager): Promise<Map<number, SendPlan>> {
    const phones = await this.phonesOf(
      manager,
      rows.map((r) => r.contactId),
    );
    const plans = new Map<number, SendPlan>();
    for (const row of rows) {
      const payload = smsPayloadOf(row.payload);
      if (typeof payload === 'string') {
        plans.set(row.id, { kind: 'fail', reason: payload });
        continue;
      }
      const typed = phones.get(row.contactId) ?? null;
      if (typed === null) {
        plans.set(row.id, { kind: 'skip', reason: 'no_phone' });
        continue;
      }
      const phone = toE164(typed);
      if (phone === null) {
        this.deps.logger.info('sms skipped: the contact’s phone is not a number SMS can reach', {
          outboxId: row.id,
          phone: maskPersonalData(typed),
        });
        plans.set(row.id, { kind: 'skip', reason: 'bad_phone' });
        continue;
      }
      const input: SmsSendInput = {
        phone,
        templateId: payload.templateId,
        params: payload.params,
        sessionContext: sessionContextOf(row.id),
      };
      plans.set(row.id, {
        kind: 'send',
        request: async () => {
          const sent = await this.deps.client.sendSms(input);
          return { msgid: sent.serialNo === '' ? null : sent.serialNo };
        },
      });
    }
    return plans;
  }

  classify(error: unknown): Refusal | null {
    return classifySmsError(error);
  }

  /** contacts.phone per contact; a contact merged into another reaches the person it became. */
  private async phonesOf(manager: EntityManager, contactIds: number[]): Promise<Map<number, string | null>> {
    const ids = [...new Set(contactIds)];
    const out = new Map<number, string | null>();
    if (ids.length === 0) return out;
    const found: { id: number | string; phone: string | null; merged_phone: string | null }[] = await manager.query(
      `SELECT c.id, c.phone, t.phone AS merged_phone FROM contacts c LEFT JOIN contacts t ON t.id = c.merged_into_id
       WHERE c.id IN (${placeholders(ids.length)})`,
      ids,
    );
    for (const f of found) {
      const phone = (f.merged_phone ?? f.phone ?? '').trim();
      out.set(Number(f.id), phone === '' ? null : phone);
    }
    return out;
  }
}

/**
 * What a refusal means. Every code the platform answers is a refusal before sending (Tencent
 * sends nothing for an Error, and nothing to a number whose status is not Ok), except InternalError,
 * after which it cannot be told: null, and the sender takes the send as uncertain. Transport
 * failures are PlatformTransportError, the sender's defaults (a refused connection retried, the
 * rest uncertain).
 */
export function classifySmsError(error: unknown): Refusal | null {
  if (!(error instanceof SmsRefusedError)) return null;
  const code = error.code;
  const refusal = (outcome: Refusal['outcome'], reason: string): Refusal => ({ outcome, errcode: null, reason });
  const skip = SKIP_CODES.get(code);
  if (skip) return refusal('skip', skip);
  if (RETRY_CODES.has(code) || code === 'RequestLimitExceeded' || code.startsWith('RequestLimitExceeded.')) return refusal('retry', code);
  if (QUOTA_CODES.has(code)) return refusal('quota', code);
  if (code.startsWith('AuthFailure.'))
    return refusal('fail', `${code}: the platform refused SMS_SECRET_ID/SMS_SECRET_KEY (check them and the machine's clock)`);
  if (code.startsWith('InternalError')) return null;
  // Templates, the signature, the SdkAppId, parameters: the message itself is wrong, for good.
  return refusal('fail', code);
}

/** The row's payload checked, or why it cannot be sent (`failed`). */
export function smsPayloadOf(payload: unknown): SmsPayload | string {
  if (typeof payload !== 'object' || payload === null) return 'sms_payload: not an object';
  const p = payload as Record<string, unknown>;
  const templateId = typeof p.templateId === 'string' ? p.templateId.trim() : '';
  if (templateId === '' || templateId.length > MAX_TEMPLATE_ID_LENGTH) return 'sms_payload: templateId is missing';
  const raw: unknown = p.params === undefined ? [] : p.params;
  if (!Array.isArray(raw)) return 'sms_payload: params is not a list';
  const params: string[] = [];
  for (const value of raw as unknown[]) {
    // A journey's data may be plain values or template-style { value } objects.
    const inner = typeof value === 'object' && value !== null && 'value' in value ? value.value : value;
    if (typeof inner !== 'string' && typeof inner !== 'number') return 'sms_payload: a parameter is not text';
    // Lengths are the platform's to judge (they depend on the account's certification and the
    // template's kind): InvalidParameterValue.TemplateParameterLengthLimit fails the row.
    params.push(String(inner));
  }
  // The tracked link is the template's last variable ({n}), unless the data already holds it.
  if (typeof p.url === 'string' && p.url !== '' && !params.includes(p.url)) params.push(p.url);
  return { templateId, params };
}

/**
 * A phone as operators type it (`13812345678`, `+86 138-1234-5678`, `008613812345678`,
 * `+14155552671`) in E.164, or null when it is none. A mainland number must be a mobile one.
 */
export function toE164(typed: string): string | null {
  const compact = typed.replace(/[\s()-]/g, '');
  const international = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
  if (/^1[3-9]\d{9}$/.test(international)) return `+86${international}`;
  if (/^861[3-9]\d{9}$/.test(international)) return `+${international}`;
  if (international.startsWith('+86')) return /^\+861[3-9]\d{9}$/.test(international) ? international : null;
  return /^\+[1-9]\d{6,14}$/.test(international) ? international : null;
}

/** SendSms's SessionContext: the outbox row, echoed in the platform's records for tracing. */
export function sessionContextOf(outboxId: number): string {
  return `outbox:${outboxId}`;
}
