import { OutboxMessage } from '../../../entities/outbox-message.entity';
import type { OutboxDraft } from '../../../server/modules/outbox/outbox.service';
import { clientMsgIdOf } from '../../../server/modules/outbox/drivers/oa-template.driver';
import { SendBudget } from '../../../server/modules/outbox/send-budget';
import { toSqlDate } from '../../../server/db/sql';
import { describeEachDatabase, useSecondInstance } from '../../support/database';
import { attemptsOf, countOutboxStates, offerPayload, openidOf, seedFollowers } from '../../support/outbox-fixtures';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 in Shanghai: outside the default quiet hours. */
const DAYTIME = new Date('2026-12-07T02:00:00.000Z');

jest.setTimeout(60_000);

describeEachDatabase('outbox sender', (db) => {
  let stack: TestStack;
  const env = { OUTBOX_BATCH_SIZE: '50' };

  beforeEach(async () => {
    // 2.5 s: long enough for a loaded machine, and the timeout test delays its answer past it.
    stack = await startTestStack(db(), env, { platformTimeoutMs: 2_500 });
    stack.clock.set(DAYTIME);
  });
  afterEach(async () => {
    await stack.close();
  });

  const appId = () => stack.config.officialAccount.appId;
  const enqueue = (drafts: OutboxDraft[]) => db().dataSource.transaction((manager) => stack.services.outbox.enqueue({ manager, drafts }));
  const draft = (contactId: number, overrides: Partial<OutboxDraft> = {}): OutboxDraft => ({
    dedupeKey: `broadcast:1:${contactId}`,
    contactId,
    channel: 'oa_template',
    source: { type: 'broadcast', id: '1' },
    payload: offerPayload(),
    ...overrides,
  });
  const rows = () =>
    db()
      .dataSource.getRepository(OutboxMessage)
      .find({ order: { id: 'ASC' } });
  const messages = () => stack.sandbox.state.messages.accepted;

  it('sends each row once with its client_msg_id, keeps the msgid, logs the attempt and records message_sent', async () => {
    const ids = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 3, sandbox: stack.sandbox.state });
    await enqueue([
      draft(ids[0]),
      draft(ids[1], { payload: offerPayload({ miniprogram: { appid: 'wxmini', pagepath: 'pages/offer' } }) }),
      draft(ids[2], { source: { type: 'journey', id: '7', runId: 70, nodeId: 'push1' }, dedupeKey: 'journey:70:push1' }),
    ]);
    expect(await stack.services.outboxSender.drain()).toBe(3);
    expect(await stack.services.outboxSender.drain()).toBe(0);

    const sent = await rows();
    expect(sent.map((r) => r.state)).toEqual(['sent', 'sent', 'sent']);
    expect(
      messages()
        .map((m) => m.openid)
        .sort(),
    ).toEqual([openidOf(1), openidOf(2), openidOf(3)]);
    for (const row of sent) {
      const message = messages().find((m) => m.clientMsgId === clientMsgIdOf(row.id));
      expect(message).toBeDefined();
      expect(row.platformMsgid).toBe(String(message?.msgid));
    }
    // The mini-program wins over the url: the url is left out of the request.
    const withMini = messages().find((m) => m.openid === openidOf(2));
    expect(withMini?.url).toBeNull();
    expect(withMini?.miniprogram).toEqual({ appid: 'wxmini', pagepath: 'pages/offer' });

    expect(
      (
        await attemptsOf(
          db().dataSource,
          sent.map((r) => r.id),
        )
      ).map((a) => [a.attempt, a.outcome]),
    ).toEqual([
      [1, 'sent'],
      [1, 'sent'],
      [1, 'sent'],
    ]);
    const interactions: { type: string; direction: string; channel: string; ref_type: string; ref_id: string; detail: unknown }[] =
      await db().dataSource.query('SELECT type, direction, channel, ref_type, ref_id, detail FROM interactions ORDER BY id');
    expect(interactions.map((i) => [i.type, i.direction, i.channel, i.ref_type, i.ref_id])).toEqual([
      ['message_sent', 'out', 'oa', 'broadcast', '1'],
      ['message_sent', 'out', 'oa', 'broadcast', '1'],
      ['message_sent', 'out', 'oa', 'journey', '7'],
    ]);
    const detail: unknown = typeof interactions[2].detail === 'string' ? JSON.parse(interactions[2].detail) : interactions[2].detail;
    expect(detail).toMatchObject({ runId: 70, nodeId: 'push1', templateId: offerPayload().template_id });
    // Outbound: no reaction work rows for a broadcast's sends.
    expect(await db().dataSource.query('SELECT id FROM reaction_work')).toEqual([]);
  });

  it('TEMPLATESENDJOBFINISH finds the row by msgid: delivered, or refused by the follower, on the timeline', async () => {
    const ids = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 2, sandbox: stack.sandbox.state });
    await enqueue([draft(ids[0]), draft(ids[1])]);
    await stack.services.outboxSender.drain();
    const sent = await rows();
    const report = (row: OutboxMessage, status: string) =>
      db().dataSource.transaction((m) =>
        stack.services.interactions.recordInteraction(m, {
          type: 'template_delivered',
          channel: 'oa',
          occurredAt: DAYTIME,
          detail: { openid: 'x', msgId: String(row.platformMsgid), status },
          identity: null,
          contactId: row.contactId,
          dedupeKey: `oa:test:templatesendjobfinish:${row.id}`,
        }),
      );
    await report(sent[0], 'success');
    await report(sent[1], 'failed:user block');
    await stack.services.reactions.processDue();
    expect((await rows()).map((r) => r.deliveryStatus)).toEqual(['delivered', 'user_block']);
    const timeline: { type: string; contact_id: number | string }[] = await db().dataSource.query(
      "SELECT type, contact_id FROM interactions WHERE type IN ('message_delivered', 'message_failed') ORDER BY id",
    );
    expect(timeline.map((t) => [t.type, Number(t.contact_id)])).toEqual([
      ['message_delivered', ids[0]],
      ['message_failed', ids[1]],
    ]);
  });

  it('skips 43004 and 43101, fails a draft that breaks the template rules without a request, skips a contact without openid', async () => {
    const ids = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 3, sandbox: stack.sandbox.state });
    stack.sandbox.state.unsubscribeFollower(openidOf(1));
    await enqueue([
      draft(ids[0]),
      draft(ids[1], { payload: offerPayload({ data: { first: { value: '您好' }, thing1: { value: '一'.repeat(21) } } }) }),
      draft(999_999, { dedupeKey: 'broadcast:1:999999' }),
    ]);
    await stack.services.outboxSender.drain();
    // Sent on its own: the injected 43101 answers the next request, whichever of a batch's parallel ones that is.
    stack.sandbox.state.failNext('template/send', 43101, 1);
    await enqueue([draft(ids[2])]);
    await stack.services.outboxSender.drain();
    const byContact = new Map((await rows()).map((r) => [r.contactId, r]));
    expect([byContact.get(ids[0])?.state, byContact.get(ids[0])?.lastError]).toEqual(['skipped', 'not_following']);
    expect(byContact.get(ids[1])?.state).toBe('failed');
    expect(byContact.get(ids[1])?.lastError).toBe('template_rules: first: field_removed; thing1: too_long (max 20)');
    expect([byContact.get(ids[2])?.state, byContact.get(ids[2])?.lastError]).toEqual(['skipped', 'refused_by_user']);
    expect([byContact.get(999_999)?.state, byContact.get(999_999)?.lastError]).toEqual(['skipped', 'no_openid']);
    // Two requests: the unfollowed one and the refused one; the bad draft and the missing openid sent nothing.
    expect(stack.sandbox.state.callsTo('template/send')).toHaveLength(2);
    expect(messages()).toHaveLength(0);
  });

  it('refreshes a rejected access token once (40001) and sends', async () => {
    const ids = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 1, sandbox: stack.sandbox.state });
    await enqueue([draft(ids[0])]);
    await stack.services.outboxSender.drain();
    stack.sandbox.state.revokeTokens();
    await enqueue([draft(ids[0], { dedupeKey: 'broadcast:2:1', source: { type: 'broadcast', id: '2' } })]);
    expect(await stack.services.outboxSender.drain()).toBe(1);
    expect(messages()).toHaveLength(2);
  });

  it('a timed-out template send is retried with the same client_msg_id: the platform sends it once', async () => {
    const ids = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 1, sandbox: stack.sandbox.state });
    await enqueue([draft(ids[0])]);
    stack.sandbox.state.delayNext('template/send', 3_000);
    await stack.services.outboxSender.sendDue();
    const [afterTimeout] = await rows();
    expect(afterTimeout.state).toBe('pending');
    expect(afterTimeout.firstAttemptAt).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the delayed request lands and is accepted
    await stack.services.outboxSender.drain();
    const [row] = await rows();
    expect(row.state).toBe('sent');
    expect(messages()).toHaveLength(1);
    expect(stack.sandbox.state.callsTo('template/send')).toHaveLength(2);
    expect(row.platformMsgid).toBe(String(messages()[0].msgid));
    expect((await attemptsOf(db().dataSource, [row.id])).map((a) => a.outcome)).toEqual(['retry', 'sent']);
  });

  it('a lost answer after the client_msg_id window is unknown for good, with no second request', async () => {
    const ids = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 1, sandbox: stack.sandbox.state });
    await enqueue([draft(ids[0])]);
    stack.sandbox.state.messages.loseAnswers('template/send', 1);
    await stack.services.outboxSender.sendDue();
    expect((await rows())[0].state).toBe('pending');
    // Ten minutes later on the database's clock: the platform would no longer dedupe the id.
    const [row] = await rows();
    await db().dataSource.query('UPDATE outbox_messages SET first_attempt_at = ? WHERE id = ?', [
      toSqlDate(new Date(Date.now() - 10 * 60_000)),
      row.id,
    ]);
    await stack.services.outboxSender.drain();
    const [after] = await rows();
    expect([after.state, after.lastError]).toEqual(['unknown', 'client_msg_id_expired']);
    expect(stack.sandbox.state.callsTo('template/send')).toHaveLength(1);
    expect(messages()).toHaveLength(1);
  });

  it('a row left sending by a dead worker: a template row inside its window is re-sent with its id, any other is unknown', async () => {
    const ids = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 2, sandbox: stack.sandbox.state });
    await enqueue([draft(ids[0]), draft(ids[1], { channel: 'sms', dedupeKey: 'event:1:sms:1' })]);
    const [template, sms] = await rows();
    // The dead worker's request left and was accepted; then it died before writing the outcome.
    stack.sandbox.state.messages.sendTemplate(
      { touser: openidOf(1), template_id: offerPayload().template_id, client_msg_id: clientMsgIdOf(template.id), data: {} },
      () => true,
    );
    const past = toSqlDate(new Date(Date.now() - 5_000));
    await db().dataSource.query(
      "UPDATE outbox_messages SET state = 'sending', attempts = 1, claimed_by = 'dead#1', claimed_until = ?, first_attempt_at = ?",
      [past, toSqlDate(new Date(Date.now() - 65_000))],
    );
    await stack.services.outboxSender.drain();
    const after = new Map((await rows()).map((r) => [r.id, r]));
    expect(after.get(template.id)?.state).toBe('sent');
    expect([after.get(sms.id)?.state, after.get(sms.id)?.lastError]).toEqual(['unknown', 'lost_while_sending']);
    expect(messages()).toHaveLength(1);
    expect((await attemptsOf(db().dataSource, [template.id, sms.id])).map((a) => [a.outbox_id, a.attempt, a.outcome])).toEqual([
      [template.id, 1, 'retry'],
      [template.id, 2, 'sent'],
      [sms.id, 1, 'unknown'],
    ]);
  });

  it('defers marketing in quiet hours to the window end; transactional messages go', async () => {
    stack.clock.set(new Date('2026-12-07T15:30:00.000Z')); // 23:30 in Shanghai
    const ids = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 2, sandbox: stack.sandbox.state });
    await enqueue([draft(ids[0]), draft(ids[1], { purpose: 'transactional', dedupeKey: 'event:1:reminder:2' })]);
    await stack.services.outboxSender.drain();
    const [marketing, transactional] = await rows();
    expect([marketing.state, marketing.notBefore.toISOString(), marketing.attempts]).toEqual(['pending', '2026-12-08T00:00:00.000Z', 0]);
    expect(transactional.state).toBe('sent');
    stack.clock.set(new Date('2026-12-08T00:00:01.000Z'));
    await stack.services.outboxSender.drain();
    expect((await rows())[0].state).toBe('sent');
    expect(messages()).toHaveLength(2);
  });

  it("keeps quiet hours on the contact's own clock: noon in Shanghai is 23:00 in New York, held until 08:00 there", async () => {
    const ids = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 2, sandbox: stack.sandbox.state });
    await db().dataSource.query("UPDATE contacts SET time_zone = 'America/New_York' WHERE id = ?", [ids[0]]);
    stack.clock.set(new Date('2026-12-07T04:00:00.000Z')); // 12:00 in Shanghai, 23:00 in New York (EST)
    await enqueue([draft(ids[0]), draft(ids[1])]);
    await stack.services.outboxSender.drain();
    const [newYork, shanghai] = await rows();
    // Held until 08:00 New York time (13:00 UTC); the business-zone contact goes at once.
    expect([newYork.state, newYork.notBefore.toISOString(), newYork.attempts]).toEqual(['pending', '2026-12-07T13:00:00.000Z', 0]);
    expect(shanghai.state).toBe('sent');
    stack.clock.set(new Date('2026-12-07T13:00:01.000Z'));
    await stack.services.outboxSender.drain();
    expect((await rows())[0].state).toBe('sent');
  });

  it('caps marketing messages per contact and channel (3 in 24 h by default): the fourth is skipped', async () => {
    const ids = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 1, sandbox: stack.sandbox.state });
    await enqueue(
      [1, 2, 3].map((n) => draft(ids[0], { dedupeKey: `broadcast:${n}:${ids[0]}`, source: { type: 'broadcast', id: String(n) } })),
    );
    await stack.services.outboxSender.drain();
    await enqueue([draft(ids[0], { dedupeKey: `broadcast:4:${ids[0]}`, source: { type: 'broadcast', id: '4' } })]);
    await stack.services.outboxSender.drain();
    expect((await rows()).map((r) => [r.state, r.lastError])).toEqual([
      ['sent', null],
      ['sent', null],
      ['sent', null],
      ['skipped', 'frequency_cap'],
    ]);
    expect(messages()).toHaveLength(3);
  });

  it('45009 pauses the channel until midnight in Beijing; the rest goes after the quota resets, none twice', async () => {
    const ids = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 120, sandbox: stack.sandbox.state });
    stack.sandbox.state.messages.setDailyQuota('template/send', 60);
    await enqueue(ids.map((id) => draft(id)));
    await stack.services.outboxSender.drain();
    expect(await countOutboxStates(db().dataSource)).toEqual({ sent: 60, pending: 60 });
    const bucket = stack.services.outboxSender.bucketOf('oa_template');
    expect((await stack.services.sendBudget.pausedUntil(bucket))?.toISOString()).toBe('2026-12-07T16:00:00.000Z');
    expect(stack.sandbox.state.callsTo('template/send').length).toBeLessThanOrEqual(60 + 50);
    stack.clock.set(new Date('2026-12-08T01:00:00.000Z')); // 09:00 the next day in Beijing
    await stack.services.outboxSender.drain();
    expect(await countOutboxStates(db().dataSource)).toEqual({ sent: 120 });
    expect([...stack.sandbox.state.messages.countByOpenid().values()].every((n) => n === 1)).toBe(true);
    expect(stack.sandbox.state.messages.countByOpenid().size).toBe(120);
  }, 90_000);

  describe('the shared send budget', () => {
    const second = useSecondInstance(db);
    it('two instances draw on one bucket: together they take one second of the rate, not twice it', async () => {
      const rateOf = () => 10;
      const one = new SendBudget({ dataSource: db().dataSource, clock: stack.clock, rateOf });
      const two = new SendBudget({ dataSource: second(), clock: stack.clock, rateOf });
      const taken = await Promise.all([one.take('wx:oa_template', 8), two.take('wx:oa_template', 8)]);
      expect(taken[0] + taken[1]).toBeLessThanOrEqual(10 + 1);
      expect(taken[0] + taken[1]).toBeGreaterThanOrEqual(8);
    });
  });
});
