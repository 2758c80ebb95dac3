import { CallbackInbox } from '../../../entities/callback-inbox.entity';
import { Contact } from '../../../entities/contact.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { Transactor } from '../../../server/db/transaction';
import { ContactsService } from '../../../server/modules/contacts/contacts.service';
import { InboxService, type AcceptCallbackParams } from '../../../server/modules/inbox/inbox.service';
import { describeEachDatabase } from '../../support/database';

describeEachDatabase('inbox: group commit of callbacks', (db) => {
  const clock = new ManualClock();
  const build = () => new InboxService({ dataSource: db().dataSource, transactor: new Transactor(db().dataSource), contacts: new ContactsService({ clock }), clock, holder: 'test' });
  const text = (openid: string, msgId: string): AcceptCallbackParams => ({
    source: 'oa',
    payload: `<xml><MsgId>${msgId}</MsgId></xml>`,
    draft: {
      type: 'text',
      channel: 'oa',
      occurredAt: clock.now(),
      detail: { openid, content: 'hi', msgId },
      identity: { kind: 'oa_openid', appId: 'wxapp', value: openid },
      dedupeKey: `oa:wxapp:msg:${msgId}`,
    },
  });

  it('callbacks arriving together are stored in one group, with duplicates inside and outside the group found', async () => {
    const inbox = build();
    await inbox.accept(text('o_old', 'm0'));
    const results = await Promise.all([
      inbox.accept(text('o_a', 'm1')),
      inbox.accept(text('o_a', 'm2')),
      inbox.accept(text('o_b', 'm3')),
      inbox.accept(text('o_b', 'm3')),
      inbox.accept(text('o_old', 'm0')),
      inbox.accept(text('o_old', 'm4')),
    ]);
    expect(results.map((r) => r.duplicate)).toEqual([false, false, false, true, true, false]);
    const m = db().dataSource.manager;
    expect(await m.count(Interaction)).toBe(5);
    expect(await m.count(CallbackInbox)).toBe(5);
    expect(await m.count(Contact)).toBe(3);
    expect(results[0].contactId).toBe(results[1].contactId);
    for (const [i, r] of results.entries()) {
      if (r.duplicate) continue;
      const key = `oa:wxapp:msg:${['m1', 'm2', 'm3', 'm3', 'm0', 'm4'][i]}`;
      const row = await m.findOneByOrFail(Interaction, { dedupeKey: key });
      expect(row.contactId).toBe(r.contactId);
      expect(await m.countBy(CallbackInbox, { dedupeKey: key })).toBe(1);
    }
  });

  it('a failing callback in a group fails alone; its neighbours are stored', async () => {
    const inbox = build();
    const bad = text('o_c', 'm9');
    // NOT NULL violation: fails on both databases (SQLite does not enforce varchar lengths).
    bad.draft.type = null as unknown as string;
    const results = await Promise.allSettled([inbox.accept(text('o_c', 'm7')), inbox.accept(bad), inbox.accept(text('o_d', 'm8'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await db().dataSource.manager.count(Interaction)).toBe(2);
  });

  it('housekeeping prunes processed rows older than the cut-off and keeps recent or unfinished ones', async () => {
    const inbox = build();
    await Promise.all(['p1', 'p2', 'p3'].map((id) => inbox.accept(text('o_p', id))));
    const m = db().dataSource.manager;
    const rows = await m.find(CallbackInbox, { order: { id: 'ASC' } });
    const day = 24 * 60 * 60 * 1000;
    // p1: done 9 days ago; p2: done just now; p3: still pending from 9 days ago.
    await m.update(CallbackInbox, { id: rows[0].id }, { status: 'done', receivedAt: new Date(clock.now().getTime() - 9 * day), nextAttemptAt: new Date(clock.now().getTime() - 9 * day) });
    await m.update(CallbackInbox, { id: rows[1].id }, { status: 'done' });
    await m.update(CallbackInbox, { id: rows[2].id }, { receivedAt: new Date(clock.now().getTime() - 9 * day), nextAttemptAt: new Date(clock.now().getTime() - 9 * day) });
    expect(await inbox.pruneProcessed(new Date(clock.now().getTime() - 8 * day))).toBe(1);
    expect((await m.find(CallbackInbox, { order: { id: 'ASC' } })).map((r) => r.dedupeKey)).toEqual(['oa:wxapp:msg:p2', 'oa:wxapp:msg:p3']);
    // The interactions keep their dedupe keys: a late retry of p1 is still a duplicate.
    expect((await inbox.accept(text('o_p', 'p1'))).duplicate).toBe(true);
  });
});
