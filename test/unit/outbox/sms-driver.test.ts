import type { EntityManager } from 'typeorm';
import { createLogger } from '../../../server/adapters/logger';
import { PlatformTransportError } from '../../../server/adapters/platform-error';
import { SmsRefusedError, type SmsSendInput } from '../../../server/adapters/sms.client';
import type { OutboxRow } from '../../../server/modules/outbox/channel-driver';
import { classifySmsError, SmsDriver, smsPayloadOf, toE164 } from '../../../server/modules/outbox/drivers/sms.driver';

const refused = (code: string, scope: 'request' | 'number' = 'number') => new SmsRefusedError(code, 'detail', scope, 'rid');

describe('SMS driver', () => {
  describe('classify', () => {
    it.each([
      ['LimitExceeded.PhoneNumberThirtySecondLimit', 'retry', 'LimitExceeded.PhoneNumberThirtySecondLimit'],
      ['LimitExceeded.PhoneNumberOneHourLimit', 'skip', 'LimitExceeded.PhoneNumberOneHourLimit'],
      ['LimitExceeded.PhoneNumberDailyLimit', 'skip', 'LimitExceeded.PhoneNumberDailyLimit'],
      ['FailedOperation.PhoneNumberInBlacklist', 'skip', 'FailedOperation.PhoneNumberInBlacklist'],
      ['InvalidParameterValue.IncorrectPhoneNumber', 'skip', 'bad_phone'],
      ['FailedOperation.InsufficientBalanceInSmsPackage', 'quota', 'FailedOperation.InsufficientBalanceInSmsPackage'],
      ['FailedOperation.TemplateIncorrectOrUnapproved', 'fail', 'FailedOperation.TemplateIncorrectOrUnapproved'],
      ['FailedOperation.TemplateParamSetNotMatchApprovedTemplate', 'fail', 'FailedOperation.TemplateParamSetNotMatchApprovedTemplate'],
      ['FailedOperation.SignatureIncorrectOrUnapproved', 'fail', 'FailedOperation.SignatureIncorrectOrUnapproved'],
      ['InvalidParameterValue.TemplateParameterLengthLimit', 'fail', 'InvalidParameterValue.TemplateParameterLengthLimit'],
      ['RequestLimitExceeded', 'retry', 'RequestLimitExceeded'],
    ])('%s → %s', (code, outcome, reason) => {
      expect(classifySmsError(refused(code))).toEqual({ outcome, errcode: null, reason });
    });

    it('fails an authentication refusal with a reason that says what to check', () => {
      const refusal = classifySmsError(refused('AuthFailure.SignatureFailure', 'request'));
      expect(refusal?.outcome).toBe('fail');
      expect(refusal?.reason).toMatch(/^AuthFailure\.SignatureFailure: .*SMS_SECRET_ID\/SMS_SECRET_KEY/);
      expect(classifySmsError(refused('AuthFailure.SecretIdNotFound', 'request'))?.outcome).toBe('fail');
    });

    it('leaves InternalError and transport failures to the sender (uncertain unless the connection was refused)', () => {
      expect(classifySmsError(refused('InternalError.Timeout', 'request'))).toBeNull();
      expect(classifySmsError(new PlatformTransportError('sms/SendSms', 'timeout', 'network timeout'))).toBeNull();
      expect(classifySmsError(new Error('boom'))).toBeNull();
    });
  });

  describe('payload', () => {
    it('takes the journey node’s payload: template, parameters, then the tracked link as the last variable', () => {
      expect(smsPayloadOf({ templateId: 'SMS_REACTIVATION_001', params: ['老朋友回归礼'], url: 'http://x/r/abc' })).toEqual({
        templateId: 'SMS_REACTIVATION_001',
        params: ['老朋友回归礼', 'http://x/r/abc'],
      });
      expect(smsPayloadOf({ templateId: '1400001', params: [{ value: 123456 }] })).toEqual({ templateId: '1400001', params: ['123456'] });
      expect(smsPayloadOf({ templateId: '1400002', params: ['a', 'http://x/r/abc'], url: 'http://x/r/abc' })).toEqual({
        templateId: '1400002',
        params: ['a', 'http://x/r/abc'],
      });
    });

    it('names what is wrong with a payload it cannot send', () => {
      expect(smsPayloadOf(null)).toMatch(/^sms_payload/);
      expect(smsPayloadOf({ params: [] })).toBe('sms_payload: templateId is missing');
      expect(smsPayloadOf({ templateId: '1', params: 'x' })).toBe('sms_payload: params is not a list');
      expect(smsPayloadOf({ templateId: '1', params: [{ a: 1 }] })).toBe('sms_payload: a parameter is not text');
    });
  });

  it.each([
    ['13812345678', '+8613812345678'],
    ['+86 138-1234-5678', '+8613812345678'],
    ['008613812345678', '+8613812345678'],
    ['8613812345678', '+8613812345678'],
    ['+14155552671', '+14155552671'],
    ['+8612345678901', null],
    ['010-12345678', null],
    ['hello', null],
  ])('E.164 of %s is %s', (typed, e164) => {
    expect(toE164(typed)).toBe(e164);
  });

  it('a logged SMS account shows no SecretKey', () => {
    const lines: string[] = [];
    createLogger('info', (line) => lines.push(line)).info('sms account', {
      sms: { secretId: 'AKIDx', secretKey: 'do-not-log' },
    });
    expect(lines.join('')).not.toMatch(/do-not-log/);
  });

  describe('plan', () => {
    const row = (id: number, contactId: number, payload: unknown): OutboxRow => ({
      id,
      contactId,
      purpose: 'marketing',
      sourceType: 'journey',
      sourceId: '1',
      runId: 1,
      nodeId: 'sms',
      payload,
      attempts: 1,
    });
    const lines: string[] = [];
    const sent: SmsSendInput[] = [];
    const driver = new SmsDriver({
      client: {
        sdkAppId: '1400000001',
        sendSms: (input) => {
          sent.push(input);
          return Promise.resolve({ serialNo: `serial-${input.sessionContext}`, fee: 1, requestId: 'r' });
        },
      },
      logger: createLogger('debug', (line) => lines.push(line)),
    });
    const manager = {
      query: (sql: string, ids: number[]) => {
        expect(sql).toMatch(/FROM contacts c LEFT JOIN contacts t/);
        const phones: Record<number, [string | null, string | null]> = {
          1: ['13800000001', null],
          2: [null, null],
          3: ['+8612345678901', null],
          4: ['13800000004', '13800000005'],
        };
        return Promise.resolve(ids.map((id) => ({ id: String(id), phone: phones[id][0], merged_phone: phones[id][1] })));
      },
    } as unknown as EntityManager;
    const payload = { templateId: '1400001', params: ['1234'] };

    it('plans a send to the contact’s phone in E.164, skips no_phone and bad_phone, fails a bad payload', async () => {
      const plans = await driver.plan(
        [row(11, 1, payload), row(12, 2, payload), row(13, 3, payload), row(14, 1, { params: [] }), row(15, 4, payload)],
        manager,
      );
      expect(driver).toMatchObject({ channel: 'sms', account: '1400000001', interactionChannel: 'sms', idempotencyWindowMs: null });
      expect(plans.get(12)).toEqual({ kind: 'skip', reason: 'no_phone' });
      expect(plans.get(13)).toEqual({ kind: 'skip', reason: 'bad_phone' });
      expect(plans.get(14)).toEqual({ kind: 'fail', reason: 'sms_payload: templateId is missing' });
      const send = plans.get(11);
      if (send?.kind !== 'send') throw new Error('expected a send');
      expect(await send.request()).toEqual({ msgid: 'serial-outbox:11' });
      const merged = plans.get(15);
      if (merged?.kind !== 'send') throw new Error('expected a send');
      await merged.request();
      expect(sent).toEqual([
        { phone: '+8613800000001', templateId: '1400001', params: ['1234'], sessionContext: 'outbox:11' },
        { phone: '+8613800000005', templateId: '1400001', params: ['1234'], sessionContext: 'outbox:15' },
      ]);
      // The phone of the skipped row is in the log only masked.
      expect(lines.join('\n')).toContain('+86****8901');
      expect(lines.join('\n')).not.toContain('+8612345678901');
    });
  });
});
