import { Interaction } from '../../../entities/interaction.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { Transactor } from '../../../server/db/transaction';
import { CallbackStore, StoreDeadlineError } from '../../../server/modules/callbacks/callback-store';
import { ContactsService } from '../../../server/modules/contacts/contacts.service';
import { InteractionsService, type InteractionDraft } from '../../../server/modules/interactions/interactions.service';
import { describeEachDatabase } from '../../support/database';

/** CallbackStore.drain(), which the shutdown awaits before the database closes. */
describeEachDatabase('callback store: drain', (db) => {
  const clock = new ManualClock();
  const contacts = new ContactsService({ clock });
  const interactions = new InteractionsService({ clock, contacts });
  const text = (openid: string, msgId: string): InteractionDraft => ({
    type: 'text',
    channel: 'oa',
    occurredAt: clock.now(),
    detail: { openid, content: 'hi', msgId },
    identity: { kind: 'oa_openid', appId: 'wxapp', value: openid },
    dedupeKey: `oa:wxapp:msg:${openid}:${msgId}`,
  });
  const count = () => db().dataSource.manager.count(Interaction);

  it('resolves once every callback handed to it is committed', async () => {
    const store = new CallbackStore({ transactor: new Transactor(db().dataSource), interactions, logger: createLogger('silent') });
    const accepted = ['m1', 'm2', 'm3'].map((id) => store.accept(text('o_drain', id)));
    await store.drain();
    expect(await count()).toBe(3);
    await expect(Promise.all(accepted)).resolves.toHaveLength(3);
    // Nothing in hand: at once.
    await store.drain();
  });

  it('waits for a write still going on after its callback was answered 503 at the deadline', async () => {
    const transactor = new Transactor(db().dataSource);
    const store = new CallbackStore({ transactor, interactions, logger: createLogger('silent'), deadlineMs: 100 });
    const draft = text('o_stalled', 'm9');
    // Another writer holds the same dedupe key in an open transaction: the store's INSERT waits
    // for its lock (MySQL), or behind it in the transaction queue (SQLite).
    let release = (): void => undefined;
    let holding = (): void => undefined;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = transactor
      .run(async (m) => {
        await interactions.recordInteraction(m, draft);
        holding();
        await new Promise<void>((resolve) => (release = resolve));
        throw new Error('rolled back on purpose');
      })
      .catch(() => undefined);
    await held;

    await expect(store.accept(draft)).rejects.toBeInstanceOf(StoreDeadlineError);
    let drained = false;
    const drain = store.drain().then(() => {
      drained = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(drained).toBe(false);

    release();
    await holder;
    await drain;
    // Committed by the store, after the answer and before drain() resolved.
    expect(await db().dataSource.manager.countBy(Interaction, { dedupeKey: draft.dedupeKey })).toBe(1);
  });
});
