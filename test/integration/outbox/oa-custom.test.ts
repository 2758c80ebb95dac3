import { OutboxMessage } from '../../../entities/outbox-message.entity';
import type { OutboxRow } from '../../../server/modules/outbox/channel-driver';
import type { OutboxDraft } from '../../../server/modules/outbox/outbox.service';
import { upsertPreferredChannel } from '../../../server/modules/journeys/journey-engine';
import type { JourneyDefinition } from '../../../server/modules/journeys/journey-definition';
import { readCustomWindows } from '../../../server/modules/outbox/custom-window';
import { OaCustomDriver } from '../../../server/modules/outbox/drivers/oa-custom.driver';
import { PlatformApiError } from '../../../server/adapters/platform-error';
import { CUSTOM_WINDOW_MS } from '../../../server/wechat/custom-message';
import { describeEachDatabase } from '../../support/database';
import { attemptsOf, openidOf, seedFollowers } from '../../support/outbox-fixtures';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 in Shanghai: outside the default quiet hours. */
const DAYTIME = new Date('2026-12-07T02:00:00.000Z');

jest.setTimeout(60_000);

describeEachDatabase('customer-service messages (oa_custom)', (db) => {
  let stack: TestStack;

  beforeEach(async () => {
    // Two messages per window (the default is 5), and no frequency cap in the way of counting them.
    stack = await startTestStack(db(), { OUTBOX_CUSTOM_PER_WINDOW: '2', OUTBOX_FREQUENCY_CAPS: 'off' }, { platformTimeoutMs: 2_500 });
    stack.clock.set(DAYTIME);
  });
  afterEach(async () => {
    await stack.close();
  });

  const appId = () => stack.config.officialAccount.appId;
  const driver = (perWindow = 5) => {
    const client = stack.services.officialAccount;
    if (!client) throw new Error('no Official Account');
    return new OaCustomDriver({ appId: appId(), client, clock: stack.clock, perWindow: () => perWindow });
  };
  let nextRow = 1;
  const row = (contactId: number, payload: unknown = { msgtype: 'text', text: { content: '您的优惠券已到账' } }): OutboxRow => ({
    id: nextRow++,
    contactId,
    purpose: 'marketing',
    sourceType: 'broadcast',
    sourceId: '1',
    runId: null,
    nodeId: null,
    payload,
    attempts: 1,
  });
  const windowOf = async (contactId: number) => (await readCustomWindows(db().dataSource.manager, appId(), [contactId])).get(contactId);
  const contactOf = async (openid: string): Promise<number> => {
    const rows: { contact_id: number | string }[] = await db().dataSource.query(
      "SELECT contact_id FROM contact_identities WHERE kind = 'oa_openid' AND value = ?",
      [openid],
    );
    return Number(rows[0].contact_id);
  };
  const settle = async () => {
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
  };
  const custom = () => stack.sandbox.state.customMessages;
  const customCalls = () => stack.sandbox.state.callsTo('custom/send');

  /** Plans a batch, runs its sends, and counts the accepted ones as the sender's outcome transaction would. */
  const run = async (d: OaCustomDriver, rows: OutboxRow[]) => {
    const plans = await d.plan(rows, db().dataSource.manager);
    const results = new Map<number, string>();
    const accepted: { row: OutboxRow; msgid: string | null }[] = [];
    for (const r of rows) {
      const plan = plans.get(r.id);
      if (!plan) throw new Error(`no plan for row ${r.id}`);
      if (plan.kind !== 'send') {
        results.set(r.id, `${plan.kind}:${plan.reason}`);
        continue;
      }
      try {
        const { msgid } = await plan.request();
        accepted.push({ row: r, msgid });
        results.set(r.id, `sent:${msgid}`);
      } catch (error) {
        const refusal = d.classify(error);
        results.set(r.id, refusal ? `${refusal.outcome}:${refusal.reason}` : `error:${String(error)}`);
      }
    }
    if (accepted.length > 0) await db().dataSource.transaction((m) => d.afterAccepted(m, accepted));
    return rows.map((r) => results.get(r.id));
  };

  it("opens the window on a follower's message, renews it on the next one with a fresh count, and not on a link menu", async () => {
    const { openid } = await stack.player().subscribe();
    await settle();
    const contactId = await contactOf(openid);
    const followed = await windowOf(contactId);
    expect(followed?.sentCount).toBe(0);

    stack.clock.advance(3_600_000);
    await stack.player().sendText({ openid, content: '在吗' });
    await settle();
    const texted = await windowOf(contactId);
    expect(texted?.openedAt.getTime()).toBe(Math.floor(stack.clock.now().getTime() / 1000) * 1000);
    expect(texted && followed && texted.openedAt > followed.openedAt).toBe(true);

    // A send counts; a later message opens the window again with its count at 0.
    expect(await run(driver(), [row(contactId)])).toEqual([expect.stringMatching(/^sent:\d+$/)]);
    expect((await windowOf(contactId))?.sentCount).toBe(1);
    stack.clock.advance(60_000);
    await stack.player().clickMenu({ openid, key: 'MENU_HELP' });
    await settle();
    expect(await windowOf(contactId)).toEqual({ openedAt: new Date(Math.floor(stack.clock.now().getTime() / 1000) * 1000), sentCount: 0 });

    // A link menu (VIEW) is an interaction, but it does not open the window.
    const before = await windowOf(contactId);
    stack.clock.advance(60_000);
    await db().dataSource.transaction((m) =>
      stack.services.interactions.recordInteraction(m, {
        type: 'view',
        channel: 'oa',
        occurredAt: stack.clock.now(),
        detail: { openid, menuKey: 'https://x.example/', url: 'https://x.example/', menuId: null },
        identity: null,
        contactId,
        dedupeKey: `oa:test:view:${openid}`,
      }),
    );
    await settle();
    expect(await windowOf(contactId)).toEqual(before);
  });

  it('sends inside the window once, skips without a request outside it, when its count is spent, without an openid, and fails a bad payload', async () => {
    const { openid } = await stack.player().subscribe();
    await stack.player().sendText({ openid, content: '你好' });
    await settle();
    const contactId = await contactOf(openid);
    const [stranger] = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 1, sandbox: stack.sandbox.state });

    // Three allowed per window: two rows of one batch and one more, then the fourth is skipped.
    const d = driver(3);
    const first = await run(d, [
      row(contactId),
      row(contactId),
      row(stranger),
      row(999_999),
      row(contactId, { msgtype: 'text', text: { content: '' } }),
    ]);
    expect(first).toEqual([
      expect.stringMatching(/^sent:\d+$/),
      expect.stringMatching(/^sent:\d+$/),
      'skip:outside_window',
      'skip:no_openid',
      'fail:custom_payload: text.content empty_content',
    ]);
    expect(await run(d, [row(contactId), row(contactId)])).toEqual([expect.stringMatching(/^sent:\d+$/), 'skip:window_count']);
    expect((await windowOf(contactId))?.sentCount).toBe(3);
    expect(custom().countByOpenid()).toEqual(new Map([[openid, 3]]));
    expect(custom().accepted[0]).toMatchObject({ openid, msgtype: 'text', content: { content: '您的优惠券已到账' } });
    expect(customCalls()).toHaveLength(3);

    // 48 hours after the message: closed, and no request leaves.
    stack.clock.advance(CUSTOM_WINDOW_MS);
    expect(await run(d, [row(contactId)])).toEqual(['skip:outside_window']);
    expect(customCalls()).toHaveLength(3);
  });

  it("takes the platform's word: 45015 and 45047 skip, 43004 skips as not following", async () => {
    const [contactId] = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 1, sandbox: stack.sandbox.state });
    // Flywheel believes the window open (its row says so), but the platform saw no message: 45015.
    await db().dataSource.query(
      'INSERT INTO oa_custom_windows (contact_id, app_id, opened_at, sent_count, updated_at) VALUES (?, ?, ?, 0, ?)',
      [contactId, appId(), '2026-12-07 01:00:00.000', '2026-12-07 01:00:00.000'],
    );
    const d = driver();
    expect(await run(d, [row(contactId)])).toEqual(['skip:outside_window']);
    expect(customCalls()).toHaveLength(1);
    expect(custom().accepted).toHaveLength(0);
    expect((await windowOf(contactId))?.sentCount).toBe(0);

    custom().openWindow(openidOf(1), new Date('2026-12-07T01:00:00.000Z'));
    custom().perWindow = 0;
    expect(await run(d, [row(contactId)])).toEqual(['skip:window_count']);
    custom().perWindow = 5;
    stack.sandbox.state.unsubscribeFollower(openidOf(1));
    expect(await run(d, [row(contactId)])).toEqual(['skip:not_following']);
    expect(custom().accepted).toHaveLength(0);

    // An openid the platform does not know (not its follower at all): 40003.
    const [unknown] = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 1, from: 2 });
    await db().dataSource.query(
      'INSERT INTO oa_custom_windows (contact_id, app_id, opened_at, sent_count, updated_at) VALUES (?, ?, ?, 0, ?)',
      [unknown, appId(), '2026-12-07 01:00:00.000', '2026-12-07 01:00:00.000'],
    );
    expect(await run(d, [row(unknown)])).toEqual(['skip:invalid_openid']);

    expect(d.classify(new PlatformApiError('custom/send', 45015, 'response out of time limit'))).toEqual({
      outcome: 'skip',
      errcode: 45015,
      reason: 'outside_window',
    });
    expect(d.classify(new PlatformApiError('custom/send', 45009, 'quota'))).toBeNull();
    expect(d.classify(new Error('socket hang up'))).toBeNull();
  });

  it('end to end through the outbox: sent once inside the window with its msgid, skipped past the count or the window without a request, unknown when the answer is lost', async () => {
    const { openid } = await stack.player().subscribe();
    await stack.player().sendText({ openid, content: '你好' });
    await settle();
    const contactId = await contactOf(openid);
    const [stranger] = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 1, sandbox: stack.sandbox.state });
    const draft = (contact: number, key: string, text = '老朋友回归礼：满100减30'): OutboxDraft => ({
      dedupeKey: key,
      contactId: contact,
      channel: 'oa_custom',
      source: { type: 'journey', id: '7', runId: Number(key.split(':')[1]), nodeId: 'custom1' },
      payload: { msgtype: 'text', text: { content: text } },
    });
    const enqueue = (drafts: OutboxDraft[]) => db().dataSource.transaction((manager) => stack.services.outbox.enqueue({ manager, drafts }));
    const rows = () =>
      db()
        .dataSource.getRepository(OutboxMessage)
        .find({ order: { id: 'ASC' } });

    await enqueue([
      draft(contactId, 'journey:1:custom1'),
      draft(contactId, 'journey:2:custom1'),
      draft(contactId, 'journey:3:custom1'),
      draft(stranger, 'journey:4:custom1'),
    ]);
    expect(await stack.services.outboxSender.drain()).toBe(2);
    expect(await stack.services.outboxSender.drain()).toBe(0);
    const first = await rows();
    expect(first.map((r) => [r.state, r.lastError])).toEqual([
      ['sent', null],
      ['sent', null],
      ['skipped', 'window_count'],
      ['skipped', 'outside_window'],
    ]);
    // The platform got each sent row once, and nothing for the skipped ones.
    expect(customCalls()).toHaveLength(2);
    expect(custom().countByOpenid()).toEqual(new Map([[openid, 2]]));
    expect(first.slice(0, 2).map((r) => r.platformMsgid)).toEqual(custom().accepted.map((m) => String(m.msgid)));
    expect((await windowOf(contactId))?.sentCount).toBe(2);
    expect(
      (
        await attemptsOf(
          db().dataSource,
          first.map((r) => r.id),
        )
      ).map((a) => [a.attempt, a.outcome]),
    ).toEqual([
      [1, 'sent'],
      [1, 'sent'],
      [1, 'skipped'],
      [1, 'skipped'],
    ]);
    const timeline: { type: string; direction: string; channel: string; detail: unknown }[] = await db().dataSource.query(
      "SELECT type, direction, channel, detail FROM interactions WHERE type IN ('message_sent', 'message_failed') ORDER BY id",
    );
    const details = timeline.map((t) => (typeof t.detail === 'string' ? (JSON.parse(t.detail) as Record<string, unknown>) : t.detail));
    expect(timeline.map((t) => [t.type, t.direction, t.channel])).toEqual([
      ['message_sent', 'out', 'oa'],
      ['message_sent', 'out', 'oa'],
      ['message_failed', 'out', 'oa'],
      ['message_failed', 'out', 'oa'],
    ]);
    expect(details[0]).toMatchObject({ channel: 'oa_custom', msgid: first[0].platformMsgid, runId: 1, nodeId: 'custom1' });
    expect(details[2]).toMatchObject({ channel: 'oa_custom', skipped: 'window_count' });

    // 48 hours after the message: skipped, and no request leaves.
    stack.clock.advance(CUSTOM_WINDOW_MS);
    await enqueue([draft(contactId, 'journey:5:custom1')]);
    await stack.services.outboxSender.drain();
    expect((await rows())[4]).toMatchObject({ state: 'skipped', lastError: 'outside_window' });
    expect(customCalls()).toHaveLength(2);

    // A new message opens it again. An answer lost after the platform took the message: unknown,
    // for good (message/custom/send has no key), and never sent again.
    await stack.player().sendText({ openid, content: '还有优惠吗' });
    await settle();
    stack.sandbox.state.messages.loseAnswers('custom/send', 1);
    await enqueue([draft(contactId, 'journey:6:custom1')]);
    await stack.services.outboxSender.drain();
    await stack.services.outboxSender.drain();
    expect((await rows())[5]).toMatchObject({ state: 'unknown', platformMsgid: null });
    expect(custom().countByOpenid()).toEqual(new Map([[openid, 3]]));
    expect(customCalls()).toHaveLength(3);

    // The platform's 45015 (its window closed, whatever Flywheel's row says): skipped as outside_window.
    stack.sandbox.state.failNext('custom/send', 45015);
    await enqueue([draft(contactId, 'journey:7:custom1')]);
    await stack.services.outboxSender.drain();
    expect((await rows())[6]).toMatchObject({ state: 'skipped', lastError: 'outside_window', lastErrcode: 45015 });
    expect(custom().countByOpenid()).toEqual(new Map([[openid, 3]]));
  });

  it('a "preferred channel" send goes out as a customer-service message to whoever last opened one while their window is open, as a template to the others', async () => {
    const { openid } = await stack.player().subscribe();
    await stack.player().sendText({ openid, content: '你好' });
    await settle();
    const follower = await contactOf(openid);
    const [other, silent] = await seedFollowers({ dataSource: db().dataSource, appId: appId(), count: 2, sandbox: stack.sandbox.state });
    await db().dataSource.transaction((m) => upsertPreferredChannel(m, follower, 'oa_custom', stack.clock.now()));
    // Prefers customer-service messages too, but has not written in 48 hours: the fallback goes instead of a skip.
    await db().dataSource.transaction((m) => upsertPreferredChannel(m, silent, 'oa_custom', stack.clock.now()));
    const definition: JourneyDefinition = {
      entry: { kind: 'manual' },
      reentry: 'never',
      start: 'push',
      nodes: [
        {
          id: 'push',
          type: 'send',
          channel: 'preferred',
          fallback: 'oa_template',
          templateId: 'SBX_TPL_COUPON_ARRIVED_0001',
          data: { thing1: '老朋友回归礼', thing2: '满100减30', time3: '2026年12月31日 23:59', thing4: '点击领取' },
          text: '老朋友回归礼：满100减30',
          url: 'https://shop.example/offer',
          purpose: 'marketing',
          next: 'end',
        },
        { id: 'end', type: 'exit' },
      ],
    };
    const actor = { operatorId: null, ip: null };
    const created = await stack.services.journeys.createJourney({ name: 'preferred', definition, actor });
    if (!created.ok) throw new Error(JSON.stringify(created));
    expect((await stack.services.journeys.publish({ id: created.value.id, actor })).ok).toBe(true);
    expect(await stack.services.journeys.enroll({ id: created.value.id, contactIds: [follower, other, silent], actor })).toEqual({
      ok: true,
      value: { enrolled: 3, skipped: 0 },
    });
    await stack.services.journeyEngine.advanceDue();
    const rows = await db()
      .dataSource.getRepository(OutboxMessage)
      .find({ order: { contactId: 'ASC' } });
    expect(rows.map((r) => [r.contactId, r.channel])).toEqual(
      [
        [follower, 'oa_custom'],
        [other, 'oa_template'],
        [silent, 'oa_template'],
      ].sort((x, y) => Number(x[0]) - Number(y[0])),
    );
    const custom = rows.find((r) => r.channel === 'oa_custom');
    const payload = JSON.parse(custom?.payload ?? '{}') as { msgtype: string; text: { content: string } };
    expect(payload.msgtype).toBe('text');
    expect(payload.text.content).toMatch(/^老朋友回归礼：满100减30\nhttps?:\/\/\S+\/r\/\S+$/);

    await stack.services.outboxSender.drain();
    expect(
      (
        await db()
          .dataSource.getRepository(OutboxMessage)
          .find({ order: { contactId: 'ASC' } })
      ).map((r) => r.state),
    ).toEqual(['sent', 'sent', 'sent']);
    expect(stack.sandbox.state.customMessages.countByOpenid()).toEqual(new Map([[openid, 1]]));
    expect(stack.sandbox.state.messages.countByOpenid()).toEqual(
      new Map([
        [openidOf(1), 1],
        [openidOf(2), 1],
      ]),
    );
  });

  it('a merge moves the window to the survivor with the openid: the later window of the two, with its count', async () => {
    const [older, newer, third] = await seedFollowers({
      dataSource: db().dataSource,
      appId: appId(),
      count: 3,
      sandbox: stack.sandbox.state,
    });
    const put = (contactId: number, openedAt: string, sent: number) =>
      db().dataSource.query(
        'INSERT INTO oa_custom_windows (contact_id, app_id, opened_at, sent_count, updated_at) VALUES (?, ?, ?, ?, ?)',
        [contactId, appId(), openedAt, sent, openedAt],
      );
    await put(older, '2026-12-06 01:00:00.000', 4);
    await put(newer, '2026-12-07 01:00:00.000', 1);
    // The older contact survives; the newer one's later window (and its count) goes with it.
    expect(await db().dataSource.transaction((m) => stack.services.contacts.mergeContacts(m, older, newer))).toBe(older);
    expect(await windowOf(older)).toEqual({ openedAt: new Date('2026-12-07T01:00:00.000Z'), sentCount: 1 });
    expect(await windowOf(newer)).toBeUndefined();
    // A window older than the survivor's changes nothing but goes.
    await put(third, '2026-12-05 01:00:00.000', 0);
    await db().dataSource.transaction((m) => stack.services.contacts.mergeContacts(m, older, third));
    expect(await windowOf(older)).toEqual({ openedAt: new Date('2026-12-07T01:00:00.000Z'), sentCount: 1 });
    expect(await windowOf(third)).toBeUndefined();
  });
});
