import axios from 'axios';
import { OutboxMessage } from '../../../entities/outbox-message.entity';
import { SANDBOX_TEMPLATE_IDS } from '../../../server/adapters/sandbox/sandbox-messages';
import { toSqlDate } from '../../../server/db/sql';
import type { OutboxDraft } from '../../../server/modules/outbox/outbox.service';
import { describeEachDatabase } from '../../support/database';
import { attemptsOf } from '../../support/outbox-fixtures';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** 10:00 in Shanghai: outside the default quiet hours. */
const DAYTIME = new Date('2026-12-07T02:00:00.000Z');
const POINTS = SANDBOX_TEMPLATE_IDS.pointsChanged;
const SIGNUP = SANDBOX_TEMPLATE_IDS.eventSignup;

jest.setTimeout(60_000);

/** 会员积分变动提醒 with values that keep the field rules. */
function pointsPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    template_id: POINTS,
    data: { thing1: { value: '签到奖励' }, number2: { value: '10' }, number3: { value: '1280' } },
    ...overrides,
  };
}

describeEachDatabase('outbox subscribe messages (oa_subscribe, mp_subscribe)', (db) => {
  let stack: TestStack;

  beforeEach(async () => {
    stack = await startTestStack(db(), {}, { platformTimeoutMs: 2_500 });
    stack.clock.set(DAYTIME);
  });
  afterEach(async () => {
    await stack.close();
  });

  const appId = () => stack.config.officialAccount.appId;
  const mpAppId = () => stack.config.miniprogram.appId;
  const enqueue = (drafts: OutboxDraft[]) => db().dataSource.transaction((manager) => stack.services.outbox.enqueue({ manager, drafts }));
  const draft = (contactId: number, key: string, overrides: Partial<OutboxDraft> = {}): OutboxDraft => ({
    dedupeKey: key,
    contactId,
    channel: 'oa_subscribe',
    source: { type: 'broadcast', id: '1' },
    payload: pointsPayload({ page: 'https://flywheel.example/points' }),
    ...overrides,
  });
  const rows = () =>
    db()
      .dataSource.getRepository(OutboxMessage)
      .find({ order: { id: 'ASC' } });
  const sentToPlatform = () => stack.sandbox.state.messages.subscribeAccepted;
  const contactOf = async (kind: string, app: string, value: string): Promise<number> => {
    const found: { contact_id: number | string }[] = await db().dataSource.query(
      'SELECT contact_id FROM contact_identities WHERE kind = ? AND app_id = ? AND value = ?',
      [kind, app, value],
    );
    return Number(found[0].contact_id);
  };
  const consents = async (contactId: number) => {
    const found: { channel: string; template_id: string; kind: string; status: string; remaining: number | string }[] =
      await db().dataSource.query(
        'SELECT channel, template_id, kind, status, remaining FROM subscribe_consents WHERE contact_id = ? ORDER BY template_id',
        [contactId],
      );
    return found.map((c) => ({
      channel: c.channel,
      templateId: c.template_id,
      kind: c.kind,
      status: c.status,
      remaining: Number(c.remaining),
    }));
  };
  /** A follower (played, so with a contact and an openid) who accepted one popup per template given, a second apart. */
  const followerWhoAccepted = async (templateIds: string[]): Promise<{ openid: string; contactId: number }> => {
    const { openid } = await stack.player().subscribe({});
    const second = Math.floor(DAYTIME.getTime() / 1000);
    for (const [i, templateId] of templateIds.entries())
      await stack.player().answerSubscribePopup({ openid, answers: [{ templateId, status: 'accept' }], createTime: second + i });
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    return { openid, contactId: await contactOf('oa_openid', appId(), openid) };
  };

  it('records consent from the popup XML: one List element (an object) and several (an array), once per event', async () => {
    const { openid } = await stack.player().subscribe({});
    const one = await stack.player().answerSubscribePopup({ openid, answers: [{ templateId: POINTS, status: 'accept' }] });
    // The bytes WeChat sends: one <List> for one template, which the parser reads as an object.
    expect(one.xml.match(/<List>/g)).toHaveLength(1);
    const two = await stack.player().answerSubscribePopup({
      openid,
      answers: [
        { templateId: POINTS, status: 'accept' },
        { templateId: SIGNUP, status: 'reject' },
      ],
    });
    expect(two.xml.match(/<List>/g)).toHaveLength(2);
    // WeChat's retry of the second popup (same bytes) is the same event: no third grant.
    await stack.player().replay(two);
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    const contactId = await contactOf('oa_openid', appId(), openid);
    expect(await consents(contactId)).toEqual(
      [
        { channel: 'oa_subscribe', templateId: SIGNUP, kind: 'one_time', status: 'reject', remaining: 0 },
        { channel: 'oa_subscribe', templateId: POINTS, kind: 'one_time', status: 'accept', remaining: 2 },
      ].sort((a, b) => a.templateId.localeCompare(b.templateId)),
    );
    // A reaction replayed (a crash before its work row was marked done) adds nothing either.
    await db().dataSource.query(
      "UPDATE reaction_work SET status = 'pending', next_attempt_at = ?, lease_holder = NULL, lease_until = NULL WHERE dedupe_key LIKE '%subscribe_msg_popup_event%'",
      [toSqlDate(new Date(0))],
    );
    const pending: { n: number | string }[] = await db().dataSource.query(
      "SELECT COUNT(*) AS n FROM reaction_work WHERE status = 'pending'",
    );
    expect(Number(pending[0].n)).toBe(2);
    await stack.services.reactions.processDue();
    expect((await consents(contactId)).find((c) => c.templateId === POINTS)?.remaining).toBe(2);

    // Turned off in the account's settings: every grant goes.
    await stack.player().changeSubscription({ openid, answers: [{ templateId: POINTS, status: 'reject' }] });
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    expect((await consents(contactId)).find((c) => c.templateId === POINTS)).toMatchObject({ status: 'reject', remaining: 0 });
  });

  it('spends one grant per send: two rows and one grant send one, skip the other no_consent, once each', async () => {
    const { openid, contactId } = await followerWhoAccepted([POINTS]);
    const stranger = await followerWhoAccepted([]);
    await enqueue([draft(contactId, 'broadcast:1:a'), draft(contactId, 'broadcast:1:b'), draft(stranger.contactId, 'broadcast:1:c')]);
    await stack.services.outboxSender.drain();
    await stack.services.outboxSender.drain();

    const all = await rows();
    expect(all.map((r) => [r.state, r.lastError])).toEqual([
      ['sent', null],
      ['skipped', 'no_consent'],
      ['skipped', 'no_consent'],
    ]);
    expect(sentToPlatform().map((m) => [m.api, m.openid, m.templateId, m.page])).toEqual([
      ['subscribe/bizsend', openid, POINTS, 'https://flywheel.example/points'],
    ]);
    expect(all[0].platformMsgid).toBe(String(sentToPlatform()[0].msgid));
    expect((await consents(contactId))[0].remaining).toBe(0);
    expect((await attemptsOf(db().dataSource, [all[0].id, all[1].id])).map((a) => [a.outbox_id, a.outcome])).toEqual([
      [all[0].id, 'sent'],
      [all[1].id, 'skipped'],
    ]);
    const timeline: { type: string; channel: string; contact_id: number | string; detail: unknown }[] = await db().dataSource.query(
      "SELECT type, channel, contact_id, detail FROM interactions WHERE type IN ('message_sent', 'message_failed') ORDER BY id",
    );
    expect(timeline.map((t) => [t.type, t.channel, Number(t.contact_id)])).toEqual([
      ['message_sent', 'oa', contactId],
      ['message_failed', 'oa', contactId],
      ['message_failed', 'oa', stranger.contactId],
    ]);
    const detail: unknown = typeof timeline[0].detail === 'string' ? JSON.parse(timeline[0].detail) : timeline[0].detail;
    expect(detail).toMatchObject({ channel: 'oa_subscribe', templateId: POINTS, msgid: all[0].platformMsgid });
  });

  it('43101 from the platform skips the row refused_by_user and zeroes the grant; a draft breaking the field rules fails without a request', async () => {
    const { contactId, openid } = await followerWhoAccepted([POINTS]);
    // The platform no longer holds the grant (the user withdrew it where no event reached us).
    stack.sandbox.state.messages.answerSubscribe('subscribe/bizsend', openid, POINTS, 'ban');
    await enqueue([
      draft(contactId, 'broadcast:1:a'),
      draft(contactId, 'broadcast:1:b', {
        payload: pointsPayload({ data: { thing1: { value: '一'.repeat(21) }, number2: { value: '十' } } }),
      }),
    ]);
    await stack.services.outboxSender.drain();
    const all = await rows();
    expect([all[0].state, all[0].lastErrcode, all[0].lastError]).toEqual(['skipped', 43101, 'refused_by_user']);
    expect(all[1].state).toBe('failed');
    expect(all[1].lastError).toMatch(/^template_rules: thing1: too_long \(max 20\); number2: bad_chars/);
    expect(stack.sandbox.state.callsTo('subscribe/bizsend')).toHaveLength(1);
    expect(sentToPlatform()).toHaveLength(0);
    expect((await consents(contactId))[0]).toMatchObject({ templateId: POINTS, remaining: 0 });
  });

  it('43101 takes away the grants counted when the send was planned, not one the user gave while the request was out', async () => {
    const { contactId } = await followerWhoAccepted([POINTS, POINTS, POINTS]);
    const key = { contactId, templateId: POINTS };
    const consentService = stack.services.subscribeConsents;
    // Planned with 2 counted; a third grant arrived before the refusal: it stays.
    await consentService.revoke('oa_subscribe', appId(), key, 2);
    expect((await consents(contactId))[0]).toMatchObject({ templateId: POINTS, remaining: 1 });
    // Never below zero, whatever was counted.
    await consentService.revoke('oa_subscribe', appId(), key, 5);
    expect((await consents(contactId))[0]).toMatchObject({ remaining: 0 });
  });

  it('an uncertain send is unknown for good: no key to re-send it with', async () => {
    const { contactId } = await followerWhoAccepted([POINTS, POINTS]);
    stack.sandbox.state.messages.loseAnswers('subscribe/bizsend', 1);
    await enqueue([draft(contactId, 'broadcast:1:a')]);
    await stack.services.outboxSender.drain();
    await stack.services.outboxSender.drain();
    const [row] = await rows();
    expect(row.state).toBe('unknown');
    expect(sentToPlatform()).toHaveLength(1);
    expect(stack.sandbox.state.callsTo('subscribe/bizsend')).toHaveLength(1);
  });

  it('subscribe_msg_sent_event sets the delivery status by msgid: one List element or several', async () => {
    const { openid, contactId } = await followerWhoAccepted([POINTS, POINTS]);
    await enqueue([draft(contactId, 'broadcast:1:a'), draft(contactId, 'broadcast:1:b')]);
    await stack.services.outboxSender.drain();
    const [first, second] = await rows();
    expect([first.state, second.state]).toEqual(['sent', 'sent']);
    await stack.player().reportSubscribeSent({
      openid,
      items: [{ templateId: POINTS, msgId: String(first.platformMsgid), errorCode: 0, errorStatus: 'success' }],
    });
    await stack.player().reportSubscribeSent({
      openid,
      items: [
        { templateId: POINTS, msgId: String(second.platformMsgid), errorCode: 43101, errorStatus: 'failed:user block' },
        { templateId: POINTS, msgId: '9999999999', errorCode: 0, errorStatus: 'success' },
      ],
    });
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    expect((await rows()).map((r) => r.deliveryStatus)).toEqual(['delivered', 'user_block']);
    const timeline: { type: string; contact_id: number | string }[] = await db().dataSource.query(
      "SELECT type, contact_id FROM interactions WHERE type IN ('message_delivered', 'message_failed') ORDER BY id",
    );
    expect(timeline.map((t) => [t.type, Number(t.contact_id)])).toEqual([
      ['message_delivered', contactId],
      ['message_failed', contactId],
    ]);
  });

  it('mp_subscribe: the mini-program report grants (once per report key), subscribe/send spends it to the mini-program openid', async () => {
    const mpOpenid = 'oMP0000000000000000000000001';
    const now = toSqlDate(DAYTIME);
    const contactId = await db().dataSource.transaction(async (m) => {
      await m.query("INSERT INTO contacts (stage, score, created_at, updated_at) VALUES ('acquired', 0, ?, ?)", [now, now]);
      const [c]: { id: number | string }[] = await m.query('SELECT MAX(id) AS id FROM contacts');
      await m.query("INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES (?, 'mp_openid', ?, ?, ?)", [
        Number(c.id),
        mpAppId(),
        mpOpenid,
        now,
      ]);
      return Number(c.id);
    });
    // The user accepted in wx.requestSubscribeMessage: the platform's record and the mini-program's report.
    stack.sandbox.state.messages.answerSubscribe('subscribe/send', mpOpenid, POINTS, 'accept');
    stack.sandbox.state.miniProgramUsers.add(mpOpenid);
    const report = { errMsg: 'requestSubscribeMessage:ok', [POINTS]: 'accept', [SIGNUP]: 'filter' };
    expect(await stack.services.subscribeConsents.recordMiniProgramConsent(contactId, mpAppId(), report, { reportKey: 'req-1' })).toEqual({
      applied: 2,
    });
    // The same report sent again (the mini-program retried its request) adds nothing.
    expect(await stack.services.subscribeConsents.recordMiniProgramConsent(contactId, mpAppId(), report, { reportKey: 'req-1' })).toEqual({
      applied: 0,
    });
    expect(await consents(contactId)).toEqual([
      { channel: 'mp_subscribe', templateId: POINTS, kind: 'one_time', status: 'accept', remaining: 1 },
    ]);

    await enqueue([
      draft(contactId, 'journey:1:a', {
        channel: 'mp_subscribe',
        source: { type: 'journey', id: '3', runId: 30, nodeId: 'a' },
        payload: pointsPayload({ page: 'pages/points/index', miniprogram_state: 'trial', url: 'https://flywheel.example/r/x' }),
      }),
      draft(contactId, 'journey:1:b', { channel: 'mp_subscribe', payload: pointsPayload() }),
    ]);
    await stack.services.outboxSender.drain();
    const all = await rows();
    expect(all.map((r) => [r.state, r.lastError])).toEqual([
      ['sent', null],
      ['skipped', 'no_consent'],
    ]);
    expect(sentToPlatform().map((m) => [m.api, m.openid, m.page])).toEqual([['subscribe/send', mpOpenid, 'pages/points/index']]);
    expect(stack.sandbox.state.callsTo('subscribe/send')[0].body).toMatchObject({ miniprogram_state: 'trial', touser: mpOpenid });
    const timeline: { type: string; channel: string }[] = await db().dataSource.query(
      "SELECT type, channel FROM interactions WHERE type = 'message_sent'",
    );
    expect(timeline).toEqual([{ type: 'message_sent', channel: 'mp' }]);
    expect((await consents(contactId))[0].remaining).toBe(0);
  });
  it('the sandbox takes subscribe/send as documented: a url field (47001), a web URL as page (41030), unknown state or lang (47001)', async () => {
    const mpOpenid = 'oMP0000000000000000000000002';
    stack.sandbox.state.miniProgramUsers.add(mpOpenid);
    stack.sandbox.state.messages.answerSubscribe('subscribe/send', mpOpenid, POINTS, 'accept');
    const send = (extra: Record<string, unknown>) =>
      stack.services.miniprogram.sendSubscribeMessage({ touser: mpOpenid, ...pointsPayload(extra) });
    await expect(send({ url: 'https://flywheel.example/r/x' })).rejects.toMatchObject({ api: 'subscribe/send', errcode: 47001 });
    await expect(send({ page: 'https://flywheel.example/points' })).rejects.toMatchObject({ errcode: 41030 });
    await expect(send({ miniprogram_state: 'beta' })).rejects.toMatchObject({ errcode: 47001 });
    await expect(send({ lang: 'fr_FR' })).rejects.toMatchObject({ errcode: 47001 });
    expect(sentToPlatform()).toEqual([]);
    // Refusals spend no grant: the documented body goes out.
    await send({ page: 'pages/points/index?id=1', miniprogram_state: 'formal', lang: 'en_US' });
    expect(sentToPlatform().map((m) => [m.page, m.miniprogramState, m.lang])).toEqual([['pages/points/index?id=1', 'formal', 'en_US']]);
  });

  it('a contact merge moves the consents: grants of the same template add up', async () => {
    const a = await followerWhoAccepted([POINTS]);
    const b = await followerWhoAccepted([POINTS, SIGNUP]);
    const survivor = await db().dataSource.transaction((m) => stack.services.contacts.mergeContacts(m, a.contactId, b.contactId));
    expect(survivor).toBe(Math.min(a.contactId, b.contactId));
    const merged = Math.max(a.contactId, b.contactId);
    expect(await consents(merged)).toEqual([]);
    expect((await consents(survivor)).map((c) => [c.templateId, c.remaining]).sort()).toEqual(
      [
        [POINTS, 2],
        [SIGNUP, 1],
      ].sort(),
    );
    const events: { n: number | string }[] = await db().dataSource.query(
      'SELECT COUNT(*) AS n FROM subscribe_consent_events WHERE contact_id = ?',
      [merged],
    );
    expect(Number(events[0].n)).toBe(0);
  });
  it('the sandbox action subscribe_popup plays the popup for the latest follower (the CLI and panel road)', async () => {
    const { openid } = await stack.player().subscribe({});
    const response = await axios.post<{ ok: boolean; openid: string }>(`${stack.sandboxUrl}/sandbox/actions`, {
      action: 'subscribe_popup',
      templateIds: `${POINTS}, ${SIGNUP}`,
    });
    expect(response.data).toMatchObject({ ok: true, openid });
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    const contactId = await contactOf('oa_openid', appId(), openid);
    expect((await consents(contactId)).map((c) => [c.templateId, c.status, c.remaining]).sort()).toEqual(
      [
        [POINTS, 'accept', 1],
        [SIGNUP, 'accept', 1],
      ].sort(),
    );
    expect(stack.sandbox.state.messages.grantsOf('subscribe/bizsend', openid, SIGNUP)).toBe(1);
  });
});
