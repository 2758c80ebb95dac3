import request from 'supertest';
import { Contact } from '../../../entities/contact.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { describeEachDatabase, DATABASE_KINDS, createTestDatabase, useSecondInstance, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';
import { officialAccountRequest, textMessage } from '../../support/wechat-requests';

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
});
