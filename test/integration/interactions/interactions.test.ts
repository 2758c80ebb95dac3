import { Contact } from '../../../entities/contact.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { Transactor } from '../../../server/db/transaction';
import { ContactsService } from '../../../server/modules/contacts/contacts.service';
import {
  InteractionsService,
  InvalidInteractionError,
  type InteractionDraft,
} from '../../../server/modules/interactions/interactions.service';
import { describeEachDatabase } from '../../support/database';

describeEachDatabase('recordInteraction: the one way onto the timeline', (db) => {
  const clock = new ManualClock();
  const contacts = new ContactsService({ clock });
  const interactions = new InteractionsService({ clock, contacts });
  const tx = () => new Transactor(db().dataSource);
  const text = (openid: string, msgId: string): InteractionDraft => ({
    type: 'text',
    channel: 'oa',
    occurredAt: clock.now(),
    detail: { openid, content: 'hi', msgId },
    identity: { kind: 'oa_openid', appId: 'wxapp', value: openid },
    dedupeKey: `oa:wxapp:msg:${openid}:${msgId}`,
  });

  it('records many in one go, with duplicates inside and outside the group found, and a work row for each new one', async () => {
    const t = tx();
    await t.run((m) => interactions.recordInteraction(m, text('o_old', 'm0')));
    const results = await t.run((m) =>
      interactions.recordInteractions(m, [
        text('o_a', 'm1'),
        text('o_a', 'm2'),
        text('o_b', 'm3'),
        text('o_b', 'm3'),
        text('o_old', 'm0'),
        text('o_old', 'm4'),
      ]),
    );
    expect(results.map((r) => r.recorded)).toEqual([true, true, true, false, false, true]);
    const m = db().dataSource.manager;
    expect(await m.count(Interaction)).toBe(5);
    expect((await m.find(ReactionWork)).map((w) => w.dedupeKey).sort()).toEqual((await m.find(Interaction)).map((i) => i.dedupeKey).sort());
    expect(await m.count(Contact)).toBe(3);
    expect(results[0].contactId).toBe(results[1].contactId);
    const stored = await m.findOneByOrFail(Interaction, { dedupeKey: 'oa:wxapp:msg:o_a:m2' });
    expect(stored.contactId).toBe(results[1].contactId);
  });

  it('rolls back with the caller: nothing of a failed transaction is left, not even the work row', async () => {
    await expect(
      tx().run(async (m) => {
        await interactions.recordInteraction(m, text('o_c', 'm5'));
        throw new Error('the caller failed after recording');
      }),
    ).rejects.toThrow('the caller failed');
    expect(await db().dataSource.manager.count(Interaction)).toBe(0);
    expect(await db().dataSource.manager.count(ReactionWork)).toBe(0);
  });

  it('refuses a dedupe key without a source namespace, or too long for the unique index', async () => {
    const bare = { ...text('o_d', 'm6'), dedupeKey: 'm6' };
    await expect(tx().run((m) => interactions.recordInteraction(m, bare))).rejects.toThrow(InvalidInteractionError);
    const long = { ...text('o_d', 'm7'), dedupeKey: `mp:${'x'.repeat(200)}` };
    await expect(tx().run((m) => interactions.recordInteraction(m, long))).rejects.toThrow(InvalidInteractionError);
  });

  it('a contact given by id that has been merged lands on its survivor; refs are kept', async () => {
    const t = tx();
    const a = await t.run((m) => interactions.recordInteraction(m, text('o_e', 'm8')));
    const b = await t.run((m) => interactions.recordInteraction(m, text('o_f', 'm9')));
    if (a.contactId === null || b.contactId === null) throw new Error('no contacts');
    const survivor = await t.run((m) => contacts.mergeContacts(m, a.contactId ?? 0, b.contactId ?? 0));
    const merged = survivor === a.contactId ? b.contactId : a.contactId;
    const late: InteractionDraft = {
      type: 'checkin',
      channel: 'mp',
      occurredAt: clock.now(),
      detail: {},
      identity: null,
      contactId: merged,
      dedupeKey: 'mp:checkin:1',
      ref: { type: 'event', id: '42' },
    };
    expect((await t.run((m) => interactions.recordInteraction(m, late))).contactId).toBe(survivor);
    expect(await db().dataSource.manager.findOneByOrFail(Interaction, { dedupeKey: 'mp:checkin:1' })).toMatchObject({
      contactId: survivor,
      refType: 'event',
      refId: '42',
    });
  });

  it('keeps a 70 KiB text whole on both databases (detail is JSON, not TEXT)', async () => {
    const big = { ...text('o_g', 'm10'), detail: { openid: 'o_g', content: '长'.repeat((70 * 1024) / 3 + 10), msgId: 'm10' } };
    await tx().run((m) => interactions.recordInteraction(m, big));
    const row = await db().dataSource.manager.findOneByOrFail(Interaction, { dedupeKey: big.dedupeKey });
    expect(row.detail.content).toBe(big.detail.content);
  });
});
