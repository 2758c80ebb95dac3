import { OutboxMessage } from '../../../entities/outbox-message.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { InvalidOutboxDraftError, OutboxService, type OutboxDraft } from '../../../server/modules/outbox/outbox.service';
import { describeEachDatabase } from '../../support/database';

function draft(contactId: number, overrides: Partial<OutboxDraft> = {}): OutboxDraft {
  return {
    dedupeKey: `broadcast:1:${contactId}`,
    contactId,
    channel: 'oa_template',
    source: { type: 'broadcast', id: '1' },
    payload: { template_id: 'tpl', data: { thing1: { value: '新品' } } },
    ...overrides,
  };
}

describeEachDatabase('OutboxService.enqueue', (db) => {
  const clock = new ManualClock(new Date('2026-12-07T02:00:00.000Z'));
  const outbox = new OutboxService({ clock });

  it('writes one pending row per new key, in the caller transaction, and a repeated key adds nothing', async () => {
    const added = await db().dataSource.transaction((manager) =>
      outbox.enqueue({ manager, drafts: [draft(1), draft(2, { purpose: 'transactional', notBefore: new Date('2026-12-08T00:00:00Z') })] }),
    );
    expect(added).toBe(2);
    // Replayed with another payload (a broadcast expanded again after a crash): the first row stands.
    const again = await db().dataSource.transaction((manager) =>
      outbox.enqueue({ manager, drafts: [draft(2, { payload: { other: true } }), draft(3)] }),
    );
    expect(again).toBe(1);
    const rows = await db()
      .dataSource.getRepository(OutboxMessage)
      .find({ order: { contactId: 'ASC' } });
    expect(rows.map((r) => [r.contactId, r.state, r.purpose, r.notBefore.toISOString()])).toEqual([
      [1, 'pending', 'marketing', '2026-12-07T02:00:00.000Z'],
      [2, 'pending', 'transactional', '2026-12-08T00:00:00.000Z'],
      [3, 'pending', 'marketing', '2026-12-07T02:00:00.000Z'],
    ]);
    expect(JSON.parse(rows[1].payload)).toEqual({ template_id: 'tpl', data: { thing1: { value: '新品' } } });
  });

  it('rolls back with the transaction that asked for the send', async () => {
    await expect(
      db().dataSource.transaction(async (manager) => {
        await outbox.enqueue({ manager, drafts: [draft(9)] });
        throw new Error('the journey step failed');
      }),
    ).rejects.toThrow('the journey step failed');
    expect(await db().dataSource.getRepository(OutboxMessage).count()).toBe(0);
  });

  it('takes a 1,200-contact broadcast in chunks and refuses a key too long for the unique index', async () => {
    const drafts = Array.from({ length: 1200 }, (_, i) => draft(i + 1));
    expect(await db().dataSource.transaction((manager) => outbox.enqueue({ manager, drafts }))).toBe(1200);
    await expect(
      db().dataSource.transaction((manager) => outbox.enqueue({ manager, drafts: [draft(1, { dedupeKey: 'x'.repeat(192) })] })),
    ).rejects.toBeInstanceOf(InvalidOutboxDraftError);
  });
});
