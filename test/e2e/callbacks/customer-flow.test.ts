import request from 'supertest';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { Contact } from '../../../entities/contact.entity';
import { Interaction } from '../../../entities/interaction.entity';
import type { ContactListItem } from '../../../server/modules/contacts/contacts-query.service';
import { LeaseQueue } from '../../../server/db/lease-queue';
import { MessageCrypto } from '../../../server/wechat/message-crypto';
import { parseXmlMessage } from '../../../server/wechat/xml';
import { describeEachDatabase } from '../../support/database';
import { drainTasks, expireLeases } from '../../support/leases';
import { startTestStack, type TestStack } from '../../support/test-stack';

type ContactItem = ContactListItem;

describeEachDatabase('one customer, from callbacks to the admin API', (db) => {
  let stack: TestStack;
  let token: string;

  beforeEach(async () => {
    stack = await startTestStack(db());
    await stack.services.operators.ensureBootstrapAdmin({ username: 'admin', password: 'correct horse' });
    const login = await request(stack.app.callback()).post('/api/admin/login').send({ username: 'admin', password: 'correct horse' });
    token = (login.body as { token: string }).token;
  });
  afterEach(async () => {
    await stack.close();
  });

  const player = () => stack.player();
  const api = (path: string) => request(stack.app.callback()).get(path).set('authorization', `Bearer ${token}`);
  const createRule = (body: object) =>
    request(stack.app.callback()).post('/api/admin/tag-rules').set('authorization', `Bearer ${token}`).send(body);
  async function findContact(q: string): Promise<ContactItem> {
    await stack.services.reactions.idle();
    const res = await api(`/api/admin/contacts?q=${encodeURIComponent(q)}`);
    expect(res.status).toBe(200);
    const body = res.body as { items: ContactItem[]; total: number };
    expect(body.total).toBe(1);
    return body.items[0];
  }

  it('a subscribe through a channel QR code shows on the timeline with its tags and source', async () => {
    const played = await player().subscribe({ scene: 'expo2026' });
    expect(played.status).toBe(200);
    expect(played.body).toBe('success');

    const contact = await findContact(played.openid);
    const follower = stack.sandbox.state.followers.get(played.openid);
    expect(contact).toMatchObject({ openid: played.openid, unionid: follower?.unionid, source: 'expo2026', score: 5, stage: 'acquired' });
    expect(contact.name).toBe(follower?.nickname);
    expect([...contact.tags].sort()).toEqual(['expo2026', '已关注'].sort());

    const timeline = await api(`/api/admin/contacts/${contact.id}/timeline`);
    expect(timeline.status).toBe(200);
    const { items } = timeline.body as { items: { type: string; channel: string; at: string; detail: Record<string, unknown> }[] };
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ type: 'subscribe', channel: 'oa', detail: { scene: 'expo2026', openid: played.openid } });
    expect(new Date(items[0].at).toISOString()).toBe(items[0].at);
    expect(stack.sandbox.state.callsTo('user/info')).toHaveLength(1);
  });

  it('a follower is counted on the dashboard at once, a retried message once, and the composed counters job folds without changing a figure', async () => {
    const { openid } = await player().subscribe({ scene: 'expo2026' });
    const first = await player().sendText({ openid, content: '你好', msgId: '7000000000000000009' });
    await player().replay(first);
    await stack.services.reactions.idle();
    type Stats = {
      funnel: { stage: string; count: number }[];
      interactions: { channel: string; count: number }[];
      topTags: { name: string; count: number }[];
    };
    const stats = async () => (await api('/api/admin/stats?days=1')).body as Stats;
    const before = await stats();
    // Their message moved them on to activated; the subscribe and one text are two interactions.
    expect(before.funnel.filter((f) => f.count > 0)).toEqual([{ stage: 'activated', count: 1 }]);
    expect(before.interactions).toEqual([expect.objectContaining({ channel: 'oa', count: 2 })]);
    expect(before.topTags.map((t) => [t.name, t.count]).sort()).toEqual(
      [
        ['expo2026', 1],
        ['已关注', 1],
      ].sort(),
    );

    const job = stack.services.jobs.find((j) => j.name === 'stat-counters');
    if (!job) throw new Error('no stat-counters job is scheduled');
    await job.run();
    expect(Number((await db().dataSource.query<{ n: number | string }[]>('SELECT COUNT(*) AS n FROM stat_deltas'))[0].n)).toBe(0);
    expect(await stats()).toEqual(before);
  });

  it('three deliveries of one message, as WeChat retries them, make one interaction and score once', async () => {
    const { openid } = await player().subscribe({});
    const first = await player().sendText({ openid, content: '你好', msgId: '7000000000000000001' });
    const second = await player().replay(first);
    const third = await player().replay(first);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    expect(second.request.body).toBe(first.request.body);

    const contact = await findContact(openid);
    const texts = await db().dataSource.manager.findBy(Interaction, { type: 'text' });
    expect(texts).toHaveLength(1);
    expect(await db().dataSource.manager.count(ReactionWork)).toBe(2);
    expect(contact.score).toBe(1);
    expect(contact.stage).toBe('activated');
  });

  it('a keyword rule answers with an encrypted passive reply', async () => {
    const created = await createRule({
      name: '展会报名',
      interactionType: 'text',
      matchKind: 'keyword_contains',
      matchValue: '报名',
      addTags: [{ group: '意向', name: '想报名' }],
      scorePoints: 10,
      replyText: '报名链接：https://example.com/expo',
    });
    expect(created.status).toBe(201);

    const { openid } = await player().subscribe({});
    const played = await player().sendText({ openid, content: '我想报名展会' });
    expect(played.status).toBe(200);
    const envelope = parseXmlMessage(played.body) as Record<string, string>;
    const { token: wxToken, aesKey, appId } = stack.config.officialAccount;
    const crypto = new MessageCrypto({ token: wxToken, encodingAesKey: aesKey, receiveId: appId });
    const reply = parseXmlMessage(crypto.decrypt(envelope.Encrypt));
    expect(reply).toMatchObject({ MsgType: 'text', ToUserName: openid, Content: '报名链接：https://example.com/expo' });
    expect(crypto.verify(envelope.MsgSignature, envelope.TimeStamp, envelope.Nonce, envelope.Encrypt)).toBe(true);

    const contact = await findContact(openid);
    expect(contact.tags).toContain('想报名');
    expect(contact.score).toBe(11);
  });

  it('a code scanned with a 扫一扫 menu button fires the rule on its menu key, answers, and shows on the timeline with what was scanned', async () => {
    const created = await createRule({
      name: '展位签到',
      interactionType: 'menu_scan',
      matchKind: 'menu_key',
      matchValue: 'checkin',
      addTags: [{ group: '展会', name: '已签到' }],
      scorePoints: 20,
      replyText: '签到成功，欢迎光临',
    });
    expect(created.status).toBe(201);

    const { openid } = await player().subscribe({});
    const played = await player().scanWithMenu({ openid, key: 'checkin', result: 'booth-42' });
    expect(played.status).toBe(200);
    expect(player().openReply(played.body)).toContain('签到成功，欢迎光临');

    const contact = await findContact(openid);
    expect(contact.tags).toContain('已签到');
    expect(contact).toMatchObject({ score: 20, stage: 'activated' });
    const timeline = (await api(`/api/admin/contacts/${contact.id}/timeline`)).body as {
      items: { type: string; detail: Record<string, unknown> }[];
    };
    expect(timeline.items[0]).toMatchObject({
      type: 'menu_scan',
      detail: { menuKey: 'checkin', scanType: 'qrcode', scanResult: 'booth-42', waitMsg: true },
    });
  });

  it('a WeCom add through a contact-way code merges with the follower who has the same unionid', async () => {
    const { openid } = await player().subscribe({ scene: 'poster' });
    await stack.services.reactions.idle();
    const unionid = stack.sandbox.state.followers.get(openid)?.unionid ?? null;
    expect(unionid).toBeTruthy();

    const added = await player().addExternalContact({ userId: 'sales-li', state: 'booth-7', unionid, name: '王女士' });
    expect(added.status).toBe(200);

    const contact = await findContact(added.externalUserId);
    expect(contact).toMatchObject({ openid, unionid, externalUserId: added.externalUserId, source: 'poster' });
    expect(contact.tags).toEqual(expect.arrayContaining(['poster', 'booth-7', '已关注', '企微好友']));
    expect(contact.score).toBe(5 + 5 + 10);
    const row = await db().dataSource.manager.findOneByOrFail(Contact, { id: contact.id });
    expect(row.ownerUserId).toBe('sales-li');
    expect(row.lastSource).toBe('booth-7');
    expect(await db().dataSource.manager.countBy(Contact, { mergedIntoId: contact.id })).toBe(1);

    const timeline = await api(`/api/admin/contacts/${contact.id}/timeline`);
    expect((timeline.body as { items: { type: string }[] }).items.map((i) => i.type)).toEqual(['add_external_contact', 'subscribe']);
  });

  it('tags reach Official Account tags and WeCom corp tags through the queue, and WeCom edits come back', async () => {
    const { openid } = await player().subscribe({ scene: 'expo2026' });
    const unionid = stack.sandbox.state.followers.get(openid)?.unionid ?? null;
    const added = await player().addExternalContact({ userId: 'sales-li', state: 'booth-7', unionid });
    await stack.services.reactions.idle();

    const outcome = await drainTasks(stack.services.queue, { handlers: stack.services.tagSync.handlers() });
    expect(outcome.failed).toBe(0);
    const state = stack.sandbox.state;
    const oaTagNames = [...state.oaTags.values()].map((t) => t.name).sort();
    expect(oaTagNames).toEqual(['booth-7', 'expo2026', '企微好友', '已关注'].sort());
    expect(state.followers.get(openid)?.tagIds).toHaveLength(4);
    const wecomContact = state.externalContacts.get(added.externalUserId);
    const follow = wecomContact?.followUsers.find((f) => f.userId === 'sales-li');
    expect(follow?.tagIds).toHaveLength(4);

    // Drained again: nothing is sent twice.
    const batchCalls = state.callsTo('tags/members/batchtagging').length;
    await drainTasks(stack.services.queue, { handlers: stack.services.tagSync.handlers() });
    expect(state.callsTo('tags/members/batchtagging')).toHaveLength(batchCalls);

    // A rep removes a tag inside WeCom: the edit comes back as edit_external_contact.
    const boothTag = state.corpTagGroups.flatMap((g) => g.tags).find((t) => t.name === 'booth-7');
    await player().editExternalContactTags({
      userId: 'sales-li',
      externalUserId: added.externalUserId,
      removeTagIds: [boothTag?.id ?? ''],
    });
    const contact = await findContact(openid);
    expect(contact.tags).not.toContain('booth-7');
    expect(contact.tags).toContain('expo2026');
  });

  it('a crash after the reply loses nothing: the stored work row is finished later by another instance, within the short lease', async () => {
    const sent = await player().sendText({ openid: 'o_crash', content: '在吗', msgId: '9100' });
    expect(sent.status).toBe(200);
    await stack.services.reactions.idle();
    // Instance A stored a second message and claimed its work row, then died (kill -9).
    const identity = { kind: 'oa_openid' as const, appId: stack.config.officialAccount.appId, value: 'o_crash' };
    const draft = {
      type: 'text',
      channel: 'oa' as const,
      occurredAt: stack.clock.now(),
      detail: { openid: 'o_crash', content: '还在吗' },
      identity,
      dedupeKey: 'oa:test:msg:o_crash:9101',
    };
    await stack.services.transactor.run((m) => stack.services.interactions.recordInteraction(m, draft));
    const crashed = new LeaseQueue({
      dataSource: db().dataSource,
      clock: stack.clock,
      holder: 'instance-a',
      table: 'reaction_work',
      leaseMs: 15_000,
    });
    const claim = await crashed.claim({ limit: 10 });
    expect(claim?.ids).toHaveLength(1);

    // Instance B: nothing to do while A's lease holds; once it has run out, B finishes the row.
    expect(await stack.services.reactions.processDue()).toBe(0);
    await expireLeases(db().dataSource, 'reaction_work');
    expect(await stack.services.reactions.processDue()).toBe(1);
    const row = await db().dataSource.manager.findOneByOrFail(ReactionWork, { id: claim?.ids[0] ?? 0 });
    expect(row).toMatchObject({ status: 'done', attempts: 1 });
    const contact = await findContact('o_crash');
    expect(contact.score).toBe(2);
  });
});
