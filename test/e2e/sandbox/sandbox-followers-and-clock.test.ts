import request from 'supertest';
import { OffsetClock, ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { createClockControl } from '../../../server/jobs/scheduler';
import { SandboxClockStore } from '../../../server/modules/sandbox/sandbox-clock.store';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

describeEachDatabase('sandbox panel: any existing follower, and a clock skip that survives a restart', (db) => {
  let stack: TestStack;
  let token: string;

  beforeEach(async () => {
    stack = await startTestStack(db());
    await stack.services.operators.createOperator({
      username: 'demo',
      password: 'demo-password',
      role: 'operator',
      actor: { operatorId: null, ip: null },
    });
    const login = await request(stack.baseUrl).post('/api/admin/login').send({ username: 'demo', password: 'demo-password' }).expect(200);
    token = (login.body as { token: string }).token;
  });
  afterEach(async () => {
    await stack.close();
  });

  const get = (path: string) => request(stack.baseUrl).get(path).set('Authorization', `Bearer ${token}`);

  it('finds followers stored before this page session by part of the openid or the name', async () => {
    const first = await stack.player().subscribe({ scene: 'expo2026' });
    const second = await stack.player().subscribe({});
    await stack.services.reactions.idle();
    await db().dataSource.query('UPDATE contacts SET name = ? WHERE id = (SELECT contact_id FROM contact_identities WHERE value = ?)', [
      '王小明',
      second.openid,
    ]);

    const all = (await get('/api/admin/sandbox/followers').expect(200)).body as { items: { openid: string; name: string | null }[] };
    expect(all.items.map((item) => item.openid).sort()).toEqual([first.openid, second.openid].sort());

    const byOpenid = (await get(`/api/admin/sandbox/followers?q=${first.openid.slice(4, 14)}`).expect(200)).body as {
      items: { openid: string }[];
    };
    expect(byOpenid.items.map((item) => item.openid)).toEqual([first.openid]);
    const byName = (await get(`/api/admin/sandbox/followers?q=${encodeURIComponent('小明')}`).expect(200)).body as {
      items: { openid: string; name: string }[];
    };
    expect(byName.items).toEqual([expect.objectContaining({ openid: second.openid, name: '王小明' })]);
    // A LIKE wildcard typed by the operator is a character, not "anything".
    expect(((await get('/api/admin/sandbox/followers?q=%25').expect(200)).body as { items: unknown[] }).items).toEqual([]);
    // Sales reps do not play followers.
    const sales = await stack.services.operators.createOperator({
      username: 'rep',
      password: 'rep-password',
      role: 'sales',
      actor: { operatorId: null, ip: null },
    });
    expect(sales.ok).toBe(true);
    const rep = await request(stack.baseUrl).post('/api/admin/login').send({ username: 'rep', password: 'rep-password' }).expect(200);
    await request(stack.baseUrl)
      .get('/api/admin/sandbox/followers')
      .set('Authorization', `Bearer ${(rep.body as { token: string }).token}`)
      .expect(403);
  });

  it('stores the clock offset with each skip and puts a restarted clock where it was left', async () => {
    const base = new ManualClock(new Date('2026-12-01T02:00:00.000Z'));
    const store = new SandboxClockStore({ dataSource: db().dataSource, clock: base });
    const before = new OffsetClock(base);
    expect(await store.restoreInto(before)).toBe(0);
    // As main.ts wires it: the skip is stored before the due jobs run.
    const stored: number[] = [];
    const control = createClockControl({
      clock: before,
      jobs: [{ name: 'probe', schedule: '* * * * *', run: async () => void stored.push(await store.readOffsetMs()) }],
      logger: createLogger('silent'),
      afterAdvance: () => store.remember(before),
    });
    await control(2 * 86_400);
    expect(stored).toEqual([2 * 86_400_000]);

    // A restart: a new process, a new clock at offset 0, the same database.
    base.advance(60_000);
    const after = new OffsetClock(base);
    expect(await new SandboxClockStore({ dataSource: db().dataSource, clock: base }).restoreInto(after)).toBe(2 * 86_400_000);
    expect(after.now().toISOString()).toBe('2026-12-03T02:01:00.000Z');
    // An older instance writing a smaller offset does not move the clock back.
    await store.saveOffsetMs(3_600_000);
    expect(await store.readOffsetMs()).toBe(2 * 86_400_000);

    // The page reads the stored offset.
    const clock = (await get('/api/admin/sandbox/clock').expect(200)).body as { offsetSeconds: number; persisted: boolean };
    expect(clock).toMatchObject({ offsetSeconds: 2 * 86_400, persisted: true });
  });
});
