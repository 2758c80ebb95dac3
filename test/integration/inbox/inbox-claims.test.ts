import { CallbackInbox } from '../../../entities/callback-inbox.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { Transactor } from '../../../server/db/transaction';
import { ContactsService } from '../../../server/modules/contacts/contacts.service';
import { InboxService, type AcceptCallbackParams } from '../../../server/modules/inbox/inbox.service';
import { describeEachDatabase } from '../../support/database';

describeEachDatabase('inbox: claiming rows for the work after the reply', (db) => {
  const clock = new ManualClock();
  const transactor = () => new Transactor(db().dataSource);
  const instance = (holder: string, t = transactor()) =>
    new InboxService({ dataSource: db().dataSource, transactor: t, contacts: new ContactsService({ clock }), clock, holder, leaseMs: 30_000, maxAttempts: 2 });
  const text = (msgId: string): AcceptCallbackParams => ({
    source: 'oa',
    payload: `<xml><MsgId>${msgId}</MsgId></xml>`,
    draft: { type: 'text', channel: 'oa', occurredAt: clock.now(), detail: { msgId }, identity: null, dedupeKey: `oa:wxapp:msg:${msgId}` },
  });
  const keys = (rows: CallbackInbox[]) => rows.map((r) => r.dedupeKey).sort();
  const stored = async (...msgIds: string[]) => {
    const inbox = instance('writer');
    for (const id of msgIds) await inbox.accept(text(id));
  };

  it('takes the rows due first, whatever their ids, and never a row whose next attempt is later', async () => {
    await stored('m1', 'm2', 'm3');
    const m = db().dataSource.manager;
    const [r1, r2, r3] = await m.find(CallbackInbox, { order: { id: 'ASC' } });
    await m.update(CallbackInbox, { id: r1.id }, { nextAttemptAt: new Date(clock.now().getTime() + 60_000) }); // backing off
    await m.update(CallbackInbox, { id: r3.id }, { nextAttemptAt: new Date(clock.now().getTime() - 60_000) }); // due longest
    const claimed = await instance('a').claimDue(1);
    expect(keys(claimed)).toEqual([r3.dedupeKey]);
    expect(keys(await instance('b').claimDue(10))).toEqual([r2.dedupeKey]);
  });

  it('two instances claiming at once never share a row; what one missed, the next pass takes', async () => {
    await stored('m1', 'm2', 'm3', 'm4', 'm5', 'm6');
    const shared = transactor(); // SQLite: one connection per process, so one queue for both
    const [a, b] = await Promise.all([instance('a', shared).claimDue(4), instance('b', shared).claimDue(4)]);
    // Both may read the same candidates; the guarded UPDATE gives each row to one of them only.
    expect(a.length + b.length).toBeGreaterThanOrEqual(4);
    expect(new Set([...keys(a), ...keys(b)]).size).toBe(a.length + b.length);
    const rest = await instance('c', shared).claimDue(10);
    expect(new Set([...keys(a), ...keys(b), ...keys(rest)]).size).toBe(6);
  });

  it('a live lease holds a row; once it expires another instance takes it, and the first can no longer finish it', async () => {
    await stored('m1');
    const first = instance('a');
    const [row] = await first.claimDue(10);
    expect(row.status).toBe('pending');
    expect(await instance('b').claimDue(10)).toEqual([]);
    clock.advance(30_001);
    const [again] = await instance('b').claimDue(10);
    expect(again.attempts).toBe(2);
    await db().dataSource.manager.transaction((m) => first.markDone(m, [row]));
    expect((await db().dataSource.manager.findOneByOrFail(CallbackInbox, { id: row.id })).status).toBe('pending');
    await db().dataSource.manager.transaction((m) => instance('b').markDone(m, [again]));
    expect((await db().dataSource.manager.findOneByOrFail(CallbackInbox, { id: row.id })).status).toBe('done');
  });

  it('a failed row waits out its backoff, and is parked as failed after the last attempt', async () => {
    await stored('m1');
    const inbox = instance('a');
    const [row] = await inbox.claimDue(10);
    await inbox.markFailed(row, 'platform down');
    expect(await inbox.claimDue(10)).toEqual([]);
    clock.advance(5_001);
    const [retry] = await inbox.claimDue(10);
    expect(retry.attempts).toBe(2);
    await inbox.markFailed(retry, 'platform still down');
    const parked = await db().dataSource.manager.findOneByOrFail(CallbackInbox, { id: row.id });
    expect(parked).toMatchObject({ status: 'failed', lastError: 'platform still down' });
    clock.advance(60 * 60 * 1000);
    expect(await inbox.claimDue(10)).toEqual([]);
  });
});
