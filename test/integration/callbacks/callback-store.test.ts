import { Interaction } from '../../../entities/interaction.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { Transactor } from '../../../server/db/transaction';
import { CallbackStore, StoreDeadlineError, StoreQueueFullError } from '../../../server/modules/callbacks/callback-store';
import { ContactsService } from '../../../server/modules/contacts/contacts.service';
import {
  InteractionsService,
  InvalidInteractionError,
  type InteractionDraft,
} from '../../../server/modules/interactions/interactions.service';
import { describeEachDatabase } from '../../support/database';

/**
 * The callback store's group commit, seen from its callers: drain() (which the shutdown awaits
 * before the database closes), the bounded queue, groups side by side, and a failed group's
 * callbacks stored one by one.
 */
describeEachDatabase('callback store', (db) => {
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
  const mysql = () => db().config.kind === 'mysql';

  /**
   * Another writer records `draft` in an open transaction until `release()`: a store's group
   * holding the same dedupe key waits for its lock (MySQL), or behind it in the transaction
   * queue (SQLite). The holder then rolls back, so the store's write is the one that commits.
   */
  async function holdKey(transactor: Transactor, draft: InteractionDraft): Promise<{ release: () => Promise<void> }> {
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
    return {
      release: async () => {
        release();
        await holder;
      },
    };
  }

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
    const holder = await holdKey(transactor, draft);

    await expect(store.accept(draft)).rejects.toBeInstanceOf(StoreDeadlineError);
    let drained = false;
    const drain = store.drain().then(() => {
      drained = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(drained).toBe(false);

    await holder.release();
    await drain;
    // Committed by the store, after the answer and before drain() resolved.
    expect(await db().dataSource.manager.countBy(Interaction, { dedupeKey: draft.dedupeKey })).toBe(1);
  });

  it('refuses a callback at once when the queue is full, and stores the ones it kept', async () => {
    const transactor = new Transactor(db().dataSource);
    const store = new CallbackStore({ transactor, interactions, logger: createLogger('silent'), maxWaiting: 2, writers: 1 });
    const first = text('o_full', 'm1');
    const holder = await holdKey(transactor, first);
    const stalled = store.accept(first);
    await new Promise((resolve) => setImmediate(resolve)); // its group starts, and takes it
    // The only writer is busy with `first`'s group: these two wait, and fill the queue.
    const kept = [store.accept(text('o_full', 'm2')), store.accept(text('o_full', 'm3'))];
    await expect(store.accept(text('o_full', 'm4'))).rejects.toBeInstanceOf(StoreQueueFullError);
    expect(store.state()).toEqual({ waiting: 2, groupsInFlight: 1 });

    await holder.release();
    await expect(Promise.all([stalled, ...kept])).resolves.toEqual([
      expect.objectContaining({ recorded: true }),
      expect.objectContaining({ recorded: true }),
      expect.objectContaining({ recorded: true }),
    ]);
    // The refused one was not stored; WeChat's retry is, once.
    expect(await count()).toBe(3);
    await expect(store.accept(text('o_full', 'm4'))).resolves.toMatchObject({ recorded: true });
    expect(await count()).toBe(4);
  });

  it('commits later callbacks beside a group that waits for a lock (MySQL: several writers)', async () => {
    if (!mysql()) return; // SQLite has one writer: a second group could only queue behind the first.
    const transactor = new Transactor(db().dataSource);
    const store = new CallbackStore({ transactor, interactions, logger: createLogger('silent'), writers: 3 });
    const blocked = text('o_side', 'm1');
    const holder = await holdKey(transactor, blocked);
    const waiting = store.accept(blocked);
    await new Promise((resolve) => setImmediate(resolve)); // its group starts, and takes it
    // A follower whose keys sort after the blocked ones: InnoDB's duplicate check on a held key
    // also locks the gap before it, which would stop an insert there (a lock, not the store).
    const side = store.accept(text('o_zz', 'm2'));
    await expect(side).resolves.toMatchObject({ recorded: true });
    expect(store.state().groupsInFlight).toBe(1);
    await holder.release();
    await expect(waiting).resolves.toMatchObject({ recorded: true });
    expect(await count()).toBe(2);
  });

  it("stores a failed group's callbacks one by one, `writers` at a time, and fails only the bad one", async () => {
    const running = { now: 0, most: 0 };
    /** Counts the transactions running at once. */
    class CountingTransactor extends Transactor {
      override run<T>(work: Parameters<Transactor['run']>[0], options?: { readCommitted?: boolean }): Promise<T> {
        return super.run(async (m) => {
          running.now += 1;
          running.most = Math.max(running.most, running.now);
          try {
            return (await work(m)) as T;
          } finally {
            running.now -= 1;
          }
        }, options);
      }
    }
    const store = new CallbackStore({
      transactor: new CountingTransactor(db().dataSource),
      interactions,
      logger: createLogger('silent'),
      writers: 3,
    });
    const drafts = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'].map((id) => text('o_each', id));
    drafts[3] = { ...drafts[3], dedupeKey: 'no source prefix' };
    // Accepted in one turn of the event loop: one group, which the bad draft fails.
    const outcomes = await Promise.allSettled(drafts.map((d) => store.accept(d)));

    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[3] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidInteractionError);
    expect(await count()).toBe(5);
    // SQLite's Transactor runs one transaction at a time whatever the store asks for.
    expect(running.most).toBe(mysql() ? 3 : 1);
  });
});
