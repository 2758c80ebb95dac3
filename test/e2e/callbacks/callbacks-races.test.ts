import request from 'supertest';
import { Contact } from '../../../entities/contact.entity';
import { ContactFollow } from '../../../entities/contact-follow.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { Tag } from '../../../entities/tag.entity';
import { describeEachDatabase, DATABASE_KINDS, createTestDatabase, useSecondInstance, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';
import { officialAccountRequest, textMessage, wecomRequest } from '../../support/wechat-requests';

const post = (stack: TestStack, r: { url: string; body: string }) =>
  request(stack.app.callback()).post(r.url).type('text/xml').send(r.body);

describeEachDatabase('callbacks: the same delivery to two instances at once', (db) => {
  const other = useSecondInstance(db);
  let a: TestStack;
  let b: TestStack;
  beforeEach(async () => {
    a = await startTestStack(db(), {}, { holder: 'instance-a' });
    b = await startTestStack({ dataSource: other() }, {}, { holder: 'instance-b' });
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('20 rounds of one message and one subscribe, each to both instances: every answer is 200 and each is stored once', async () => {
    const now = Math.floor(Date.now() / 1000);
    const answers: number[] = [];
    for (let round = 0; round < 20; round += 1) {
      const openid = `o_race_${round}`;
      const text = officialAccountRequest(a.config, textMessage(openid, '你好', String(9_000_000 + round), now));
      const subscribe = officialAccountRequest(a.config, {
        ToUserName: 'gh_sandbox',
        FromUserName: `o_sub_${round}`,
        CreateTime: now,
        MsgType: 'event',
        Event: 'subscribe',
        EventKey: 'qrscene_expo2026',
      });
      const results = await Promise.all([post(a, text), post(b, text), post(a, subscribe), post(b, subscribe)]);
      answers.push(...results.map((r) => r.status));
    }
    expect(answers.filter((s) => s !== 200)).toEqual([]);
    const m = db().dataSource.manager;
    expect(await m.countBy(Interaction, { type: 'text' })).toBe(20);
    expect(await m.countBy(Interaction, { type: 'subscribe' })).toBe(20);
    expect(await m.count(Contact)).toBe(40);
    // Each instance's kicked passes, then whatever is left, finish the reactions.
    await Promise.all([a.services.reactions.idle(), b.services.reactions.idle()]);
    await Promise.all([a.services.reactions.processDue(), b.services.reactions.processDue()]);
    const scored = await m.find(Contact);
    expect(scored.filter((c) => c.score === 0)).toEqual([]);
  });
});

describeEachDatabase('reactions: the same follow and the same tag added by two instances at once', (db) => {
  const other = useSecondInstance(db);
  let a: TestStack;
  let b: TestStack;
  beforeEach(async () => {
    a = await startTestStack(db(), {}, { holder: 'instance-a' });
    b = await startTestStack({ dataSource: other() }, {}, { holder: 'instance-b' });
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('a rep adds and edits a customer, a follower scans one code twice, each pair split across the instances: all held once, no failed attempt', async () => {
    const corpId = a.config.wecom.corpId;
    // Each instance asks its own sandbox for the customer's detail.
    for (const stack of [a, b])
      stack.sandbox.state.addExternalContact({ externalUserId: 'wm_twice', unionid: null, followUserId: 'sales-li', state: 'booth-7' });
    const now = Math.floor(Date.now() / 1000);
    const wecomEvent = (changeType: string, createTime: number) =>
      wecomRequest(a.config, {
        ToUserName: corpId,
        FromUserName: 'sys',
        CreateTime: createTime,
        MsgType: 'event',
        Event: 'change_external_contact',
        ChangeType: changeType,
        UserID: 'sales-li',
        ExternalUserID: 'wm_twice',
        State: 'booth-7',
      });
    const scan = (createTime: number) =>
      officialAccountRequest(a.config, {
        ToUserName: 'gh_sandbox',
        FromUserName: 'o_twice',
        CreateTime: createTime,
        MsgType: 'event',
        Event: 'SCAN',
        EventKey: 'booth-7',
      });
    const answers = await Promise.all([
      post(a, wecomEvent('add_external_contact', now)),
      post(b, wecomEvent('edit_external_contact', now + 1)),
      post(a, scan(now)),
      post(b, scan(now + 1)),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await Promise.all([a.services.reactions.idle(), b.services.reactions.idle()]);
    await Promise.all([a.services.reactions.processDue(), b.services.reactions.processDue()]);

    const m = db().dataSource.manager;
    expect((await m.find(ReactionWork)).map((w) => [w.status, w.attempts])).toEqual([
      ['done', 0],
      ['done', 0],
      ['done', 0],
      ['done', 0],
    ]);
    expect(await m.find(ContactFollow)).toEqual([expect.objectContaining({ userId: 'sales-li', status: 'active', state: 'booth-7' })]);
    const booth = await m.findOneByOrFail(Tag, { name: 'booth-7' });
    expect(await m.countBy(Tag, { name: 'booth-7' })).toBe(1);
    // The WeCom customer and the follower are two contacts (no unionid links them): booth-7 once on each.
    const held = await m.findBy(ContactTag, { tagId: booth.id });
    expect(held).toHaveLength(2);
    expect(new Set(held.map((t) => t.contactId)).size).toBe(2);
    // And the customer's 企微好友 from the add: three contact tags in all.
    expect(await m.count(ContactTag)).toBe(3);
  });
});

/**
 * A database that stalls (here: another session holds a write lock on interactions) must not
 * make a callback answer after WeChat's 5 s. MySQL only: better-sqlite3 waits for a lock
 * synchronously, so on SQLite a foreign writer blocks the whole process, not one request; the
 * store's deadline is tested there through the MySQL run's code path, which is the same.
 */
const mysqlOnly = DATABASE_KINDS.includes('mysql') ? describe : describe.skip;
mysqlOnly('callbacks: a stalled database [mysql]', () => {
  let db: TestDatabase;
  let stack: TestStack;
  beforeAll(async () => {
    db = await createTestDatabase('mysql');
  });
  afterAll(async () => {
    await db.destroy();
  });
  beforeEach(async () => {
    await db.reset();
    stack = await startTestStack(db, {}, { callbackDeadlineMs: 500 });
  });
  afterEach(async () => {
    await stack.close();
  });

  it('answers 503 at the deadline instead of late, and the retry after the stall stores the message once', async () => {
    const r = officialAccountRequest(stack.config, textMessage('o_stall', '在吗', '7100'));
    const locker = db.dataSource.createQueryRunner();
    await locker.connect();
    await locker.query('LOCK TABLES interactions WRITE');
    let unlocked = false;
    try {
      const started = Date.now();
      const stalled = await post(stack, r);
      expect(stalled.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2_000);
      await locker.query('UNLOCK TABLES');
      unlocked = true;
      const retry = await post(stack, r);
      expect(retry.status).toBe(200);
      expect(retry.text).toBe('success');
    } finally {
      if (!unlocked) await locker.query('UNLOCK TABLES');
      await locker.release();
    }
    expect(await db.dataSource.manager.countBy(Interaction, { type: 'text' })).toBe(1);
  });

  it('answers 503 at once when the store queue is full, and the retry is stored once when there is room', async () => {
    await stack.close();
    stack = await startTestStack(db, {}, { callbackDeadlineMs: 5_000, callbackQueueLimit: 2 });
    const now = Math.floor(Date.now() / 1000);
    const requests = [1, 2, 3, 4, 5, 6].map((i) =>
      officialAccountRequest(stack.config, textMessage(`o_full_${i}`, '在吗', String(7200 + i), now)),
    );
    const locker = db.dataSource.createQueryRunner();
    await locker.connect();
    await locker.query('LOCK TABLES interactions WRITE');
    let unlocked = false;
    try {
      // One at a time, so that each of the three writers' groups (compose.ts) takes one and
      // stalls on the lock; the next two wait in the queue; the sixth finds it full.
      const answers: Promise<request.Response>[] = [];
      for (const r of requests.slice(0, 5)) {
        answers.push(post(stack, r).then((res) => res));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const started = Date.now();
      const refused = await post(stack, requests[5]);
      expect(refused.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(1_000);
      await locker.query('UNLOCK TABLES');
      unlocked = true;
      expect((await Promise.all(answers)).map((res) => res.status)).toEqual([200, 200, 200, 200, 200]);
      const retry = await post(stack, requests[5]);
      expect(retry.status).toBe(200);
    } finally {
      if (!unlocked) await locker.query('UNLOCK TABLES');
      await locker.release();
    }
    expect(await db.dataSource.manager.countBy(Interaction, { type: 'text' })).toBe(6);
  });
});
