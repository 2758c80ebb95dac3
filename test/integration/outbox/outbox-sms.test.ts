import { SMS_SANDBOX_CREDENTIALS } from '../../../config/sms.config';
import { OutboxMessage } from '../../../entities/outbox-message.entity';
import { toSqlDate } from '../../../server/db/sql';
import type { OutboxDraft } from '../../../server/modules/outbox/outbox.service';
import { sessionContextOf } from '../../../server/modules/outbox/drivers/sms.driver';
import { describeEachDatabase } from '../../support/database';
import { attemptsOf } from '../../support/outbox-fixtures';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 in Shanghai: outside the default quiet hours. */
const DAYTIME = new Date('2026-12-07T02:00:00.000Z');

jest.setTimeout(60_000);

/**
 * The `sms` channel end to end: rows enqueued through OutboxService, drained by the sender through
 * the SMS driver and the official SDK against the sandbox's SendSms, which checks the signature and
 * keeps the per-number limits.
 */
describeEachDatabase('outbox: sms channel', (db) => {
  let stack: TestStack;

  beforeEach(async () => {
    // The uncertain-send test stalls the sandbox's answer past this.
    stack = await startTestStack(db(), { OUTBOX_BATCH_SIZE: '50' }, { platformTimeoutMs: 1_000 });
    stack.clock.set(DAYTIME);
  });
  afterEach(async () => {
    await stack.close();
  });

  const enqueue = (drafts: OutboxDraft[]) => db().dataSource.transaction((manager) => stack.services.outbox.enqueue({ manager, drafts }));
  const draft = (contactId: number, n: number, overrides: Partial<OutboxDraft> = {}): OutboxDraft => ({
    dedupeKey: `broadcast:${n}:${contactId}`,
    contactId,
    channel: 'sms',
    purpose: 'transactional',
    source: { type: 'broadcast', id: String(n) },
    payload: { templateId: 'SMS_REACTIVATION_001', params: ['老朋友回归礼'], url: 'https://flywheel.example/r/abc123' },
    ...overrides,
  });
  const rows = () =>
    db()
      .dataSource.getRepository(OutboxMessage)
      .find({ order: { id: 'ASC' } });
  const accepted = () => stack.sandbox.sms.accepted;
  /** A contact with the phone an operator typed (null: none). */
  const contactWith = async (phone: string | null): Promise<number> => {
    const now = toSqlDate(DAYTIME);
    return db().dataSource.transaction(async (m) => {
      await m.query("INSERT INTO contacts (stage, score, phone, created_at, updated_at) VALUES ('acquired', 0, ?, ?, ?)", [
        phone,
        now,
        now,
      ]);
      const [row]: { id: number | string }[] = await m.query('SELECT id FROM contacts ORDER BY id DESC LIMIT 1');
      return Number(row.id);
    });
  };
  const interactions = async () => {
    const found: { type: string; direction: string; channel: string; contact_id: number | string; detail: unknown }[] =
      await db().dataSource.query(
        "SELECT type, direction, channel, contact_id, detail FROM interactions WHERE direction = 'out' ORDER BY id",
      );
    return found.map((i) => ({
      type: i.type,
      direction: i.direction,
      channel: i.channel,
      contactId: Number(i.contact_id),
      detail: (typeof i.detail === 'string' ? JSON.parse(i.detail) : i.detail) as Record<string, unknown>,
    }));
  };

  it('sends a row once: the sandbox got one signed SMS, the row is sent with the SerialNo, a sent interaction on sms', async () => {
    const contact = await contactWith('138 0000 0001');
    const noPhone = await contactWith(null);
    await enqueue([draft(contact, 1), draft(noPhone, 1)]);
    expect(await stack.services.outboxSender.drain()).toBe(1);
    expect(await stack.services.outboxSender.drain()).toBe(0);

    const [sent, skipped] = await rows();
    expect(accepted()).toEqual([
      expect.objectContaining({
        phone: '+8613800000001',
        templateId: 'SMS_REACTIVATION_001',
        params: ['老朋友回归礼', 'https://flywheel.example/r/abc123'],
        sessionContext: sessionContextOf(sent.id),
      }),
    ]);
    expect(sent).toMatchObject({ state: 'sent', platformMsgid: accepted()[0].serialNo, attempts: 1 });
    expect(skipped).toMatchObject({ state: 'skipped', lastError: 'no_phone' });
    expect((await attemptsOf(db().dataSource, [sent.id, skipped.id])).map((a) => [a.outbox_id, a.attempt, a.outcome])).toEqual([
      [sent.id, 1, 'sent'],
      [skipped.id, 1, 'skipped'],
    ]);
    const out = await interactions();
    expect(out.map((i) => [i.type, i.direction, i.channel, i.contactId])).toEqual([
      ['message_sent', 'out', 'sms', contact],
      ['message_failed', 'out', 'sms', noPhone],
    ]);
    expect(out[0].detail).toMatchObject({ outboxId: sent.id, channel: 'sms', msgid: accepted()[0].serialNo });
    expect(out[1].detail).toMatchObject({ outboxId: skipped.id, skipped: 'no_phone' });
  });

  it('the daily limit: the number’s eleventh message of the day is skipped with the platform’s code, never re-sent', async () => {
    const contact = await contactWith('+8613800000002');
    // Keep only the daily limit in play: one message a minute stays under 30 s and 5 an hour.
    stack.sandbox.sms.limits = { perThirtySeconds: 1, perHour: 100, perDay: 10 };
    for (let i = 0; i < 11; i += 1) {
      await enqueue([draft(contact, i + 1)]);
      await stack.services.outboxSender.drain();
      stack.clock.advance(60_000);
    }
    await stack.services.outboxSender.drain();
    const all = await rows();
    expect(all.map((r) => r.state)).toEqual([...Array<string>(10).fill('sent'), 'skipped']);
    expect(all[10]).toMatchObject({ lastError: 'LimitExceeded.PhoneNumberDailyLimit', attempts: 1 });
    expect(accepted()).toHaveLength(10);
    expect(new Set(accepted().map((m) => m.sessionContext)).size).toBe(10);
    expect((await attemptsOf(db().dataSource, [all[10].id])).map((a) => a.outcome)).toEqual(['skipped']);
    const last = (await interactions()).at(-1);
    expect(last).toMatchObject({ type: 'message_failed', channel: 'sms', detail: { skipped: 'LimitExceeded.PhoneNumberDailyLimit' } });
  });

  it('the 30-second limit is retried after a backoff and then sent', async () => {
    const contact = await contactWith('13800000003');
    await enqueue([draft(contact, 1), draft(contact, 2)]);
    await stack.services.outboxSender.drain();
    expect((await rows()).map((r) => [r.state, r.lastError])).toEqual([
      ['sent', null],
      ['pending', 'LimitExceeded.PhoneNumberThirtySecondLimit'],
    ]);
    stack.clock.advance(31_000);
    await stack.services.outboxSender.drain();
    expect((await rows()).map((r) => [r.state, r.attempts])).toEqual([
      ['sent', 1],
      ['sent', 2],
    ]);
    expect(accepted()).toHaveLength(2);
  });

  it('an answer that never comes (the SDK times out after the sandbox took it) is unknown for good, never sent again', async () => {
    const contact = await contactWith('13800000004');
    await enqueue([draft(contact, 1)]);
    stack.sandbox.state.delayNext('sms/SendSms', 2_000);
    await stack.services.outboxSender.drain();
    stack.clock.advance(3_600_000);
    await stack.services.outboxSender.drain();
    const [row] = await rows();
    expect(row).toMatchObject({ state: 'unknown', lastError: 'uncertain: timeout', attempts: 1 });
    expect(accepted()).toHaveLength(1);
    expect(stack.sandbox.state.callsTo('sms/SendSms')).toHaveLength(1);
    expect((await attemptsOf(db().dataSource, [row.id])).map((a) => a.outcome)).toEqual(['unknown']);
  });

  it('a wrong SMS_SECRET_KEY: the sandbox finds the signature wrong, the row fails saying what to check, nothing is sent', async () => {
    await stack.close();
    const s = SMS_SANDBOX_CREDENTIALS;
    stack = await startTestStack(db(), {
      SMS_SECRET_ID: s.secretId,
      SMS_SECRET_KEY: 'not-the-key',
      SMS_SDK_APP_ID: s.sdkAppId,
      SMS_SIGN_NAME: s.signName,
    });
    stack.clock.set(DAYTIME);
    const contact = await contactWith('13800000006');
    await enqueue([draft(contact, 1)]);
    await stack.services.outboxSender.drain();
    const [row] = await rows();
    expect(row.state).toBe('failed');
    expect(row.lastError).toMatch(/^AuthFailure\.SignatureFailure: /);
    expect(row.lastError).not.toContain('not-the-key');
    expect(accepted()).toHaveLength(0);
  });

  it('a template or authentication refusal fails the row with its code; an empty package pauses the channel with the row kept', async () => {
    const contact = await contactWith('13800000005');
    await enqueue([draft(contact, 1, { payload: { templateId: 'NOT_APPROVED', params: [] } })]);
    await stack.services.outboxSender.drain();
    stack.sandbox.sms.failNext('AuthFailure.SignatureFailure');
    await enqueue([draft(contact, 3)]);
    await stack.services.outboxSender.drain();
    stack.sandbox.sms.balance = 0;
    await enqueue([draft(contact, 2)]);
    await stack.services.outboxSender.drain();
    const [bad, unauthorised, waiting] = await rows();
    expect(unauthorised.state).toBe('failed');
    expect(unauthorised.lastError).toMatch(/^AuthFailure\.SignatureFailure: .*SMS_SECRET_ID\/SMS_SECRET_KEY/);
    expect(bad).toMatchObject({ state: 'failed', lastError: 'FailedOperation.TemplateIncorrectOrUnapproved' });
    expect(waiting).toMatchObject({ state: 'pending', lastError: 'FailedOperation.InsufficientBalanceInSmsPackage' });
    expect(waiting.notBefore.getTime()).toBeGreaterThan(DAYTIME.getTime());
    expect(accepted()).toHaveLength(0);
  });
});
