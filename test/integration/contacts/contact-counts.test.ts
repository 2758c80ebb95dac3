import { Contact } from '../../../entities/contact.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { ContactsQueryService } from '../../../server/modules/contacts/contacts-query.service';
import { describeEachDatabase } from '../../support/database';

describeEachDatabase('contact counts', (db) => {
  const clock = new ManualClock(new Date('2026-11-23T08:00:00.000Z'));

  it('counts the contacts who did a given thing since a time, each contact once', async () => {
    const ds = db().dataSource;
    const service = new ContactsQueryService({ dataSource: ds, clock });
    const created = new Date('2026-10-01T00:00:00.000Z');
    const ids: number[] = [];
    for (const name of ['a', 'b', 'c']) {
      const inserted = await ds
        .getRepository(Contact)
        .insert({ name, score: 0, stage: 'acquired', createdAt: created, updatedAt: created });
      ids.push(Number((inserted.identifiers[0] as { id: number }).id));
    }
    const rows: [number | null, string, string][] = [
      [ids[0], 'click', '2026-11-20T00:00:00.000Z'],
      [ids[0], 'click', '2026-11-21T00:00:00.000Z'], // the same contact again: counted once
      [ids[1], 'click', '2026-10-24T08:00:00.000Z'], // exactly 30 days before: counted
      [ids[2], 'click', '2026-10-24T07:59:59.999Z'], // a millisecond earlier: not counted
      [ids[2], 'text', '2026-11-22T00:00:00.000Z'], // another type
      [null, 'click', '2026-11-22T00:00:00.000Z'], // no person behind it
    ];
    let n = 0;
    for (const [contactId, type, time] of rows) {
      n += 1;
      await ds.getRepository(Interaction).insert({
        contactId,
        type,
        channel: 'oa',
        occurredAt: new Date(time),
        detail: {},
        dedupeKey: `test:${n}`,
        createdAt: new Date(time),
      });
    }
    const since = new Date(clock.now().getTime() - 30 * 86_400_000);
    expect(await service.countContactsWithInteraction({ type: 'click', since })).toBe(2);
    expect(await service.countContactsWithInteraction({ type: 'text', since })).toBe(1);
    expect(await service.countContactsWithInteraction({ type: 'scan', since })).toBe(0);
  });
});
