import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';

/**
 * The sandbox's Tencent Cloud SMS (SendSms, API 2021-01-11): the account's SdkAppId, signature and
 * approved templates, the per-number frequency limits ("同一手机号：30秒内1条、1小时内5条、1个自然日内10条",
 * the console's defaults), a blacklist and a package balance, and a record of every message it
 * accepted, so tests can check that a message went out exactly once.
 * @link https://cloud.tencent.com/document/api/382/55981 (SendSms)
 * @link https://cloud.tencent.com/document/product/382/52075 (错误码)
 */

export interface SandboxSmsAccount {
  secretId: string;
  secretKey: string;
  sdkAppId: string;
  signName: string;
}

/** An approved template: its id and how many variables ({1}, {2}...) its text has. */
export interface SandboxSmsTemplate {
  id: string;
  params: number;
  text: string;
}

/** The sandbox's approved templates (the reactivation journey's among them). */
export const SANDBOX_SMS_TEMPLATES: readonly SandboxSmsTemplate[] = [
  { id: 'SMS_REACTIVATION_001', params: 2, text: '好久不见！{1}已放入您的账户，点击领取：{2} 拒收请回复R' },
  { id: '1400001', params: 1, text: '您的验证码为：{1}，5分钟内有效。' },
  { id: '1400002', params: 2, text: '{1}，您关注的活动即将开始：{2} 拒收请回复R' },
  { id: '1400003', params: 2, text: '【{1}】{2} 拒收请回复R' },
];

export interface SandboxSmsLimits {
  perThirtySeconds: number;
  perHour: number;
  /** Per natural day in Beijing time. */
  perDay: number;
}

export const DEFAULT_SMS_LIMITS: SandboxSmsLimits = Object.freeze({ perThirtySeconds: 1, perHour: 5, perDay: 10 });

/** A message the sandbox accepted. */
export interface SandboxSmsMessage {
  serialNo: string;
  phone: string;
  sdkAppId: string;
  signName: string;
  templateId: string;
  params: string[];
  sessionContext: string;
  at: Date;
}

/** One number's line of SendStatusSet, as the platform answers it. */
interface SendStatus {
  SerialNo: string;
  PhoneNumber: string;
  Fee: number;
  SessionContext: string;
  Code: string;
  Message: string;
  IsoCode: string;
}

/** A refusal of the whole request: `{"Response": {"Error": {Code, Message}, RequestId}}`. */
export class SandboxSmsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_NUMBERS = 200;
const BEIJING_OFFSET_MS = 8 * 3_600_000;

export class SandboxSms {
  readonly account: SandboxSmsAccount;
  readonly templates = new Map<string, SandboxSmsTemplate>(SANDBOX_SMS_TEMPLATES.map((t) => [t.id, t]));
  readonly accepted: SandboxSmsMessage[] = [];
  limits: SandboxSmsLimits = { ...DEFAULT_SMS_LIMITS };
  /** Messages the package has left; null: unlimited. At 0, FailedOperation.InsufficientBalanceInSmsPackage. */
  balance: number | null = null;
  readonly blacklist = new Set<string>();
  private readonly failures: { code: string; remaining: number }[] = [];
  private nextSerial = 1;

  constructor(
    account: SandboxSmsAccount,
    private readonly clock: Clock,
  ) {
    this.account = { ...account };
  }

  /** The next `times` SendSms answer this code for every number (a refusal of the request for AuthFailure/InvalidParameter/FailedOperation codes). */
  failNext(code: string, times = 1): void {
    this.failures.push({ code, remaining: times });
  }

  /** Back to the defaults: no messages, default limits, no blacklist, no balance limit. */
  reset(): void {
    this.accepted.length = 0;
    this.limits = { ...DEFAULT_SMS_LIMITS };
    this.balance = null;
    this.blacklist.clear();
    this.failures.length = 0;
  }

  /** SendSms's `Response` (without RequestId), or throws SandboxSmsError for a refusal of the whole request. */
  sendSms(body: Record<string, unknown>): { SendStatusSet: SendStatus[] } {
    const phones = Array.isArray(body.PhoneNumberSet) ? body.PhoneNumberSet : null;
    if (!phones || phones.length === 0 || !phones.every((p): p is string => typeof p === 'string'))
      throw new SandboxSmsError('MissingParameter', 'PhoneNumberSet is required');
    if (phones.length > MAX_NUMBERS)
      throw new SandboxSmsError('LimitExceeded.PhoneNumberCountLimit', `at most ${MAX_NUMBERS} numbers per request`);
    if (body.SmsSdkAppId !== this.account.sdkAppId)
      throw new SandboxSmsError('InvalidParameterValue.SdkAppIdNotExist', 'the SdkAppId does not exist');
    if (body.SignName !== this.account.signName)
      throw new SandboxSmsError('FailedOperation.SignatureIncorrectOrUnapproved', 'the signature is not approved or not this account’s');
    const template = typeof body.TemplateId === 'string' ? this.templates.get(body.TemplateId) : undefined;
    if (!template)
      throw new SandboxSmsError('FailedOperation.TemplateIncorrectOrUnapproved', 'the template is not approved or does not exist');
    const params = Array.isArray(body.TemplateParamSet) ? body.TemplateParamSet : [];
    if (!params.every((p): p is string => typeof p === 'string') || params.length !== template.params)
      throw new SandboxSmsError(
        'FailedOperation.TemplateParamSetNotMatchApprovedTemplate',
        `the template has ${template.params} variables, TemplateParamSet has ${params.length}`,
      );
    const injected = this.takeFailure();
    if (injected && !injected.startsWith('LimitExceeded.') && !injected.startsWith('FailedOperation.PhoneNumber'))
      throw new SandboxSmsError(injected, 'sandbox injected failure');
    if (this.balance !== null && this.balance < phones.length)
      throw new SandboxSmsError('FailedOperation.InsufficientBalanceInSmsPackage', 'the SMS package balance is insufficient');
    const sessionContext = typeof body.SessionContext === 'string' ? body.SessionContext : '';
    const now = this.clock.now();
    return {
      SendStatusSet: phones.map((phone) => {
        const refused = injected ?? this.refusalFor(phone, now);
        const base = { PhoneNumber: phone, SessionContext: sessionContext, IsoCode: isoCodeOf(phone) };
        if (refused) return { ...base, SerialNo: '', Fee: 0, Code: refused, Message: refused };
        const serialNo = `${this.nextSerial++}:sandbox${randomBytes(8).toString('hex')}`;
        this.accepted.push({
          serialNo,
          phone,
          sdkAppId: this.account.sdkAppId,
          signName: this.account.signName,
          templateId: template.id,
          params: [...params],
          sessionContext,
          at: now,
        });
        if (this.balance !== null) this.balance -= 1;
        return { ...base, SerialNo: serialNo, Fee: 1, Code: 'Ok', Message: 'send success' };
      }),
    };
  }

  private takeFailure(): string | null {
    const next = this.failures[0];
    if (!next) return null;
    next.remaining -= 1;
    if (next.remaining <= 0) this.failures.shift();
    return next.code;
  }

  /** Why this number gets nothing now, or null. */
  private refusalFor(phone: string, now: Date): string | null {
    if (!isE164(phone)) return 'InvalidParameterValue.IncorrectPhoneNumber';
    if (this.blacklist.has(phone)) return 'FailedOperation.PhoneNumberInBlacklist';
    const sent = this.accepted.filter((m) => m.phone === phone).map((m) => m.at.getTime());
    const t = now.getTime();
    if (sent.filter((at) => t - at < 30_000).length >= this.limits.perThirtySeconds) return 'LimitExceeded.PhoneNumberThirtySecondLimit';
    if (sent.filter((at) => t - at < 3_600_000).length >= this.limits.perHour) return 'LimitExceeded.PhoneNumberOneHourLimit';
    const day = beijingDay(now);
    if (sent.filter((at) => beijingDay(new Date(at)) === day).length >= this.limits.perDay) return 'LimitExceeded.PhoneNumberDailyLimit';
    return null;
  }
}

/** `+86` and a mainland mobile number, or another country's E.164 number. */
function isE164(phone: string): boolean {
  if (phone.startsWith('+86')) return /^\+861[3-9]\d{9}$/.test(phone);
  return /^\+[1-9]\d{6,14}$/.test(phone);
}

function isoCodeOf(phone: string): string {
  return phone.startsWith('+86') ? 'CN' : 'DEF';
}

function beijingDay(at: Date): string {
  return new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}
