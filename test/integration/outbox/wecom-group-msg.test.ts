import { OutboxMessage } from '../../../entities/outbox-message.entity';
import { createLogger } from '../../../server/adapters/logger';
import { PlatformApiError, PlatformTransportError } from '../../../server/adapters/platform-error';
import type { WecomClient } from '../../../server/adapters/wecom.client';
import { Transactor } from '../../../server/db/transaction';
import { toSqlDate } from '../../../server/db/sql';
import { GroupMsgLeftOutError, WecomGroupMsgDriver } from '../../../server/modules/outbox/drivers/wecom-group-msg.driver';
import type { OutboxDraft } from '../../../server/modules/outbox/outbox.service';
import { WecomConfirmations } from '../../../server/modules/outbox/wecom-confirmations';
import { describeEachDatabase, useSecondInstance } from '../../support/database';
import { attemptsOf } from '../../support/outbox-fixtures';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 in Shanghai: outside the default quiet hours. */
const DAYTIME = new Date('2026-12-07T02:00:00.000Z');
const HOUR = 3_600_000;
const REP = 'zhangsan';

jest.setTimeout(60_000);

describeEachDatabase('WeCom messages through the rep (wecom_group_msg)', (db) => {
  let stack: TestStack;
  let driver: WecomGroupMsgDriver;

  beforeEach(async () => {
    stack = await startTestStack(db());
    stack.clock.set(DAYTIME);
    // The reps confirm only when a test says so.
    stack.sandbox.state.groupMessages.autoConfirmMs = null;
    driver = new WecomGroupMsgDriver({ corpId: corpId(), client: wecom(), clock: stack.clock });
  });
  afterEach(async () => {
    await stack.close();
  });

  const corpId = () => stack.config.wecom.corpId;
  const wecom = (): WecomClient => {
    const client = stack.services.wecom;
    if (!client) throw new Error('the stack has no WeCom client');
    return client;
  };
  const confirmations = () => {
    const check = stack.services.wecomConfirmations;
    if (!check) throw new Error('the stack has no WeCom confirmation check');
    return check;
  };
  const tasks = () => stack.sandbox.state.groupMessages.tasks;
  const externalOf = (n: number) => `wmFW${String(n).padStart(28, '0')}`;
  /** The task made for customer n (a batch's requests leave in parallel, in no set order). */
  const taskOf = (n: number) => {
    const task = tasks().find((t) => t.externalUserIds.includes(externalOf(n)));
    if (!task) throw new Error(`no task for customer ${n}`);
    return task;
  };

  /**
   * A customer in Flywheel (contact, external_userid, the rep's follow) and, unless `friend` is
   * false, on WeCom (the rep has them as a friend).
   */
  const seedCustomer = async (n: number, p: { rep?: string | null; external?: boolean; friend?: boolean } = {}): Promise<number> => {
    const rep = p.rep === undefined ? REP : p.rep;
    const now = toSqlDate(DAYTIME);
    const id = await db().dataSource.transaction(async (m) => {
      await m.query("INSERT INTO contacts (stage, score, owner_user_id, created_at, updated_at) VALUES ('acquired', 0, ?, ?, ?)", [
        rep,
        now,
        now,
      ]);
      const [row] = await m.query<{ id: number | string }[]>('SELECT MAX(id) AS id FROM contacts');
      const contactId = Number(row.id);
      if (p.external !== false)
        await m.query(
          "INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES (?, 'external_userid', ?, ?, ?)",
          [contactId, corpId(), externalOf(n), now],
        );
      if (rep !== null)
        await m.query("INSERT INTO contact_follows (contact_id, user_id, status, created_at, updated_at) VALUES (?, ?, 'active', ?, ?)", [
          contactId,
          rep,
          now,
          now,
        ]);
      return contactId;
    });
    if (rep !== null && p.friend !== false)
      stack.sandbox.state.addExternalContact({ externalUserId: externalOf(n), followUserId: rep, unionid: null });
    // A known external contact whom the rep does not have (the relation ended on WeCom's side).
    if (p.friend === false)
      stack.sandbox.state.addExternalContact({ externalUserId: externalOf(n), followUserId: 'someone-else', unionid: null });
    return id;
  };

  const draft = (contactId: number, overrides: Partial<OutboxDraft> = {}): OutboxDraft => ({
    dedupeKey: `journey:${contactId}:wecom`,
    contactId,
    channel: 'wecom_group_msg',
    source: { type: 'journey', id: '5', runId: contactId, nodeId: 'wecom' },
    payload: {
      text: { content: '好久不见！为您准备了老朋友回归礼，点击领取。' },
      attachments: [{ msgtype: 'link', link: { title: '老朋友回归礼', url: 'https://flywheel.example/r/abc' } }],
    },
    ...overrides,
  });
  const enqueue = (drafts: OutboxDraft[]) => db().dataSource.transaction((manager) => stack.services.outbox.enqueue({ manager, drafts }));
  const rows = () =>
    db()
      .dataSource.getRepository(OutboxMessage)
      .find({ order: { id: 'ASC' } });

  /** The outbox sender's pass over the due rows (the driver is registered in the composition root). */
  const send = async (): Promise<void> => {
    await stack.services.outboxSender.drain();
  };

  const interactions = async () =>
    (
      await db().dataSource.query<{ type: string; channel: string; direction: string; contact_id: number | string; detail: unknown }[]>(
        'SELECT type, channel, direction, contact_id, detail FROM interactions ORDER BY id',
      )
    )
      .map((i) => ({
        type: i.type,
        channel: i.channel,
        direction: i.direction,
        contactId: Number(i.contact_id),
        detail: (typeof i.detail === 'string' ? JSON.parse(i.detail) : i.detail) as Record<string, unknown>,
      }))
      // In the outbox rows' order (one batch's interactions are inserted in no particular order).
      .sort((x, y) => Number(x.detail.outboxId) - Number(y.detail.outboxId));
  const later = (ms: number) => stack.clock.set(new Date(stack.clock.now().getTime() + ms));

  it('sends one task per row through the rep, waits while the rep has not confirmed, then records the send', async () => {
    const a = await seedCustomer(1);
    const b = await seedCustomer(2);
    await enqueue([draft(a), draft(b)]);
    await send();

    let sent = await rows();
    expect(sent.map((r) => r.state)).toEqual(['confirming', 'confirming']);
    // Exactly one task per row, for one customer each, from the rep, with the text and the link.
    expect(
      tasks()
        .map((t) => [t.sender, t.externalUserIds])
        .sort(),
    ).toEqual([
      [REP, [externalOf(1)]],
      [REP, [externalOf(2)]],
    ]);
    expect(taskOf(1).text).toBe('好久不见！为您准备了老朋友回归礼，点击领取。');
    expect(taskOf(1).attachments).toHaveLength(1);
    expect(sent.map((r) => r.platformMsgid)).toEqual([taskOf(1).msgid, taskOf(2).msgid]);
    // The request was accepted (the delivery log's line); the timeline waits for the rep.
    expect((await attemptsOf(db().dataSource, [sent[0].id, sent[1].id])).map((l) => [l.attempt, l.outcome])).toEqual([
      [1, 'sent'],
      [1, 'sent'],
    ]);
    expect(await interactions()).toEqual([]);

    // Not due yet, then due but the rep has not confirmed: still confirming, looked at later.
    expect(await confirmations().checkDue()).toEqual({ sent: 0, failed: 0, unknown: 0, waiting: 0 });
    later(61_000);
    expect(await confirmations().checkDue()).toEqual({ sent: 0, failed: 0, unknown: 0, waiting: 2 });
    expect((await rows()).map((r) => r.state)).toEqual(['confirming', 'confirming']);
    expect(await confirmations().nextDueAt(stack.clock.now())).toEqual(new Date(stack.clock.now().getTime() + 60_000));

    stack.sandbox.state.groupMessages.confirmAll();
    later(60_000);
    expect(await confirmations().checkDue()).toEqual({ sent: 2, failed: 0, unknown: 0, waiting: 0 });
    sent = await rows();
    expect(sent.map((r) => r.state)).toEqual(['sent', 'sent']);
    expect(sent.every((r) => r.sentAt !== null)).toBe(true);
    const timeline = await interactions();
    expect(timeline.map((i) => [i.type, i.channel, i.direction, i.contactId])).toEqual([
      ['message_sent', 'wecom', 'out', a],
      ['message_sent', 'wecom', 'out', b],
    ]);
    expect(timeline[0].detail).toMatchObject({
      outboxId: sent[0].id,
      msgid: taskOf(1).msgid,
      channel: 'wecom_group_msg',
      runId: a,
      nodeId: 'wecom',
    });
    expect((await attemptsOf(db().dataSource, [sent[0].id, sent[1].id])).map((l) => [l.attempt, l.outcome])).toEqual([
      [1, 'sent'],
      [1, 'sent'],
    ]);

    // Nothing is sent or settled twice.
    await send();
    later(HOUR);
    expect(await confirmations().checkDue()).toEqual({ sent: 0, failed: 0, unknown: 0, waiting: 0 });
    expect(tasks()).toHaveLength(2);
    expect(stack.sandbox.state.groupMessages.delivered()).toHaveLength(2);
    expect(await interactions()).toHaveLength(2);
    expect(await confirmations().nextDueAt(stack.clock.now())).toBeNull();
  });

  it('skips a contact without a rep or external_userid, and one WeCom says is not the rep’s friend; fails an empty message', async () => {
    const noRep = await seedCustomer(1, { rep: null });
    const noExternal = await seedCustomer(2, { external: false });
    const notFriend = await seedCustomer(3, { friend: false });
    const empty = await seedCustomer(4);
    await enqueue([draft(noRep), draft(noExternal), draft(notFriend), draft(empty, { payload: { text: { content: '' } } })]);
    await send();
    expect((await rows()).map((r) => [r.state, r.lastError])).toEqual([
      ['skipped', 'no_wecom_rep'],
      ['skipped', 'no_external_userid'],
      ['skipped', 'not_friend'],
      ['failed', 'empty_content'],
    ]);
    // Only the not-a-friend row reached WeCom, which refused it (41048) without making a task.
    expect(stack.sandbox.state.callsTo('externalcontact/add_msg_template')).toHaveLength(1);
    expect(tasks()).toEqual([]);
  });

  it('fails a row whose customer left the rep before the rep confirmed, and the second 群发 a customer would get that day', async () => {
    const gone = await seedCustomer(1);
    const twice = await seedCustomer(2);
    await enqueue([draft(gone), draft(twice), draft(twice, { dedupeKey: `broadcast:9:${twice}`, source: { type: 'broadcast', id: '9' } })]);
    await send();
    expect(tasks()).toHaveLength(3);
    stack.sandbox.state.removeFollowUser({ externalUserId: externalOf(1), userId: REP });
    // The rep confirms the tasks in the rows' order: the journey's message first, then the broadcast's.
    for (const row of await rows()) stack.sandbox.state.groupMessages.confirm(String(row.platformMsgid));
    later(61_000);
    expect(await confirmations().checkDue()).toEqual({ sent: 1, failed: 2, unknown: 0, waiting: 0 });
    expect((await rows()).map((r) => [r.state, r.lastError])).toEqual([
      ['failed', 'not_friend'],
      ['sent', null],
      ['failed', 'daily_limit'],
    ]);
    const timeline = await interactions();
    expect(timeline.map((i) => [i.type, i.contactId, i.detail.reason ?? null, i.detail.status ?? null])).toEqual([
      ['message_failed', gone, 'not_friend', 2],
      ['message_sent', twice, null, null],
      ['message_failed', twice, 'daily_limit', 3],
    ]);
    expect(stack.sandbox.state.groupMessages.delivered().map((d) => d.externalUserId)).toEqual([externalOf(2)]);
  });

  it('gives up on a task its rep did not confirm in time: withdrawn, failed not_confirmed; a confirmation that beat the withdrawal counts', async () => {
    const late = await seedCustomer(1);
    const justInTime = await seedCustomer(2);
    await enqueue([draft(late), draft(justInTime)]);
    await send();
    // Looked at while waiting, through the 72 hours.
    for (let i = 0; i < 80 && stack.clock.now().getTime() < DAYTIME.getTime() + 72 * HOUR - HOUR; i += 1) {
      const due = await confirmations().nextDueAt(stack.clock.now());
      if (!due) break;
      stack.clock.set(due);
      expect((await confirmations().checkDue()).waiting).toBeGreaterThan(0);
    }
    expect((await rows()).map((r) => r.state)).toEqual(['confirming', 'confirming']);
    // The second rep confirms in the last moment: the look after the deadline finds it sent.
    stack.clock.set(new Date(DAYTIME.getTime() + 72 * HOUR + 1));
    stack.sandbox.state.groupMessages.confirm(taskOf(2).msgid);
    expect(await confirmations().checkDue()).toEqual({ sent: 1, failed: 1, unknown: 0, waiting: 0 });
    expect((await rows()).map((r) => [r.state, r.lastError])).toEqual([
      ['failed', 'not_confirmed'],
      ['sent', null],
    ]);
    expect(taskOf(1).cancelled).toBe(true);
    expect(stack.sandbox.state.callsTo('externalcontact/cancel_groupmsg_send').map((c) => c.body)).toEqual([{ msgid: taskOf(1).msgid }]);
    // The withdrawn task cannot leave any more.
    stack.sandbox.state.groupMessages.confirmAll();
    expect(stack.sandbox.state.groupMessages.delivered().map((d) => d.externalUserId)).toEqual([externalOf(2)]);
    expect((await interactions()).map((i) => [i.type, i.detail.reason ?? null])).toEqual([
      ['message_failed', 'not_confirmed'],
      ['message_sent', null],
    ]);
  });

  it('a task WeCom will neither report nor withdraw is looked at a day past the deadline, then unknown for good', async () => {
    const a = await seedCustomer(1);
    await enqueue([draft(a)]);
    await send();
    stack.sandbox.state.failNext('externalcontact/cancel_groupmsg_send', -1, 1000);
    stack.clock.set(new Date(DAYTIME.getTime() + 72 * HOUR));
    expect(await confirmations().checkDue()).toEqual({ sent: 0, failed: 0, unknown: 0, waiting: 1 });
    expect((await rows()).map((r) => r.state)).toEqual(['confirming']);
    stack.clock.set(new Date(DAYTIME.getTime() + 96 * HOUR));
    expect(await confirmations().checkDue()).toEqual({ sent: 0, failed: 0, unknown: 1, waiting: 0 });
    const [row] = await rows();
    expect([row.state, row.lastError]).toEqual(['unknown', 'not_confirmed_no_answer']);
    expect((await attemptsOf(db().dataSource, [row.id])).map((l) => l.outcome)).toEqual(['unknown']);
    expect(await interactions()).toEqual([]);
    expect(await confirmations().nextDueAt(stack.clock.now())).toBeNull();
  });

  it('an uncertain request stays unknown for good: add_msg_template has no key, a second task would be a second message', async () => {
    const a = await seedCustomer(1);
    await enqueue([draft(a)]);
    stack.sandbox.state.delayNext('externalcontact/add_msg_template', 3_000);
    await send();
    expect((await rows()).map((r) => [r.state, r.attempts])).toEqual([['unknown', 1]]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    later(HOUR);
    await send();
    expect(await confirmations().checkDue()).toEqual({ sent: 0, failed: 0, unknown: 0, waiting: 0 });
    // The platform made its task (the answer was lost), and only that one.
    expect(tasks()).toHaveLength(1);
    expect(stack.sandbox.state.callsTo('externalcontact/add_msg_template')).toHaveLength(1);
    expect((await rows()).map((r) => r.state)).toEqual(['unknown']);
  });

  it('the sandbox’s rep confirms after its delay, played by the sandbox clock', async () => {
    stack.sandbox.state.groupMessages.autoConfirmMs = 5 * 60_000;
    const a = await seedCustomer(1);
    await enqueue([draft(a)]);
    await send();
    const control = await fetch(`${stack.sandboxUrl}/sandbox/control/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceSeconds: 600 }),
    });
    expect(control.status).toBe(200);
    expect((await rows()).map((r) => r.state)).toEqual(['sent']);
  });

  describe('two checkers', () => {
    const second = useSecondInstance(db);

    it('settle each row once when they run at the same time', async () => {
      const ids: number[] = [];
      for (let n = 1; n <= 12; n += 1) ids.push(await seedCustomer(n));
      await enqueue(ids.map((id) => draft(id)));
      await send();
      stack.sandbox.state.groupMessages.confirmAll();
      later(61_000);
      const other = new WecomConfirmations({
        dataSource: second(),
        transactor: new Transactor(second()),
        clock: stack.clock,
        logger: createLogger('silent'),
        interactions: stack.services.interactions,
        client: wecom(),
        giveUpMs: 72 * HOUR,
      });
      const [one, two] = await Promise.all([confirmations().checkDue(), other.checkDue()]);
      // Whatever a look left (an answer that came too late waits for the next), the next settles;
      // each row is counted by the one pass that wrote it, so the sum is exactly the rows.
      later(HOUR);
      const rest = await confirmations().drain();
      expect(one.sent + two.sent + rest.sent).toBe(12);
      expect((await rows()).every((r) => r.state === 'sent')).toBe(true);
      const timeline = await interactions();
      expect(timeline).toHaveLength(12);
      expect(new Set(timeline.map((i) => i.contactId)).size).toBe(12);
      expect(
        await attemptsOf(
          db().dataSource,
          (await rows()).map((r) => r.id),
        ),
      ).toHaveLength(12);
      expect(tasks()).toHaveLength(12);
    });
  });

  it('the sandbox answers add_msg_template and get_groupmsg_send_result as WeCom does; its control route plays the reps', async () => {
    await seedCustomer(1);
    await seedCustomer(2, { friend: false });
    const content = { text: { content: '你好' } };
    const refused = async (p: Parameters<WecomClient['addMsgTemplate']>[0]) => {
      try {
        await wecom().addMsgTemplate(p);
      } catch (error) {
        return error instanceof PlatformApiError ? error.errcode : String(error);
      }
      return 'accepted';
    };
    expect(await refused({ sender: 'nobody', externalUserIds: [externalOf(1)], content })).toBe(40003);
    expect(await refused({ sender: REP, externalUserIds: ['wmUnknown'], content })).toBe(40096);
    expect(await refused({ sender: REP, externalUserIds: [externalOf(1)], content: { text: { content: '' } } })).toBe(44004);
    expect(await refused({ sender: REP, externalUserIds: [externalOf(1)], content: { text: { content: '长'.repeat(1400) } } })).toBe(45002);
    expect(await refused({ sender: REP, externalUserIds: [externalOf(2)], content })).toBe(41048);
    // One of two is the rep's friend: a task for that one, the other in fail_list.
    const made = await wecom().addMsgTemplate({ sender: REP, externalUserIds: [externalOf(1), externalOf(2)], content });
    expect(made.failList).toEqual([externalOf(2)]);
    expect(await wecom().getGroupMsgSendResult({ msgid: made.msgid, userId: REP })).toEqual([
      { externalUserId: externalOf(1), status: 0, sendTime: null },
    ]);
    expect(await wecom().getGroupMsgSendResult({ msgid: made.msgid, userId: 'someone-else' })).toEqual([]);

    const post = (body: unknown) =>
      fetch(`${stack.sandboxUrl}/sandbox/control/wecom-group-msg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ confirm: 'no-such-msgid' })).status).toBe(400);
    expect(await (await post({ confirm: 'all', autoConfirmSeconds: 120 })).json()).toEqual({ ok: true, confirmed: [made.msgid], tasks: 1 });
    expect(stack.sandbox.state.groupMessages.autoConfirmMs).toBe(120_000);
    const [line] = await wecom().getGroupMsgSendResult({ msgid: made.msgid, userId: REP });
    expect(line).toEqual({ externalUserId: externalOf(1), status: 1, sendTime: Math.floor(stack.clock.now().getTime() / 1000) });
  });

  it('classifies WeCom’s refusals of add_msg_template', () => {
    const api = (errcode: number) => new PlatformApiError('externalcontact/add_msg_template', errcode, 'x');
    expect(driver.classify(api(41048))).toEqual({ outcome: 'skip', errcode: 41048, reason: 'not_friend' });
    expect(driver.classify(api(40096))).toEqual({ outcome: 'skip', errcode: 40096, reason: 'invalid_external_userid' });
    expect(driver.classify(api(40003))).toEqual({ outcome: 'skip', errcode: 40003, reason: 'invalid_rep' });
    expect(driver.classify(api(44004))).toEqual({ outcome: 'fail', errcode: 44004, reason: 'empty_content' });
    expect(driver.classify(api(45033))?.outcome).toBe('retry');
    expect(driver.classify(new GroupMsgLeftOutError('wm1'))).toEqual({ outcome: 'skip', errcode: null, reason: 'not_friend' });
    // Left to the sender's defaults: busy, tokens, quota, and anything uncertain (never re-sent: no key).
    expect(driver.classify(api(-1))).toBeNull();
    expect(driver.classify(api(45009))).toBeNull();
    expect(driver.classify(new PlatformTransportError('externalcontact/add_msg_template', 'timeout', 'no answer in 2000 ms'))).toBeNull();
    expect(driver.idempotencyWindowMs).toBeNull();
  });
});
