import { Interaction } from '../../../entities/interaction.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { createLogger } from '../../../server/adapters/logger';
import type { InteractionDraft } from '../../../server/modules/interactions/interactions.service';
import type { EntityManager } from 'typeorm';
import { Transactor } from '../../../server/db/transaction';
import { defineReaction, type Reaction } from '../../../server/modules/reactions/reaction';
import { ReactionsWorker } from '../../../server/modules/reactions/reactions.worker';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

describeEachDatabase('reactions worker: passes, batches, failures', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const seen: string[] = [];
  /** Records what it saw; throws for interactions whose content is `boom`. */
  const probe: Reaction = {
    name: 'probe',
    prepare(interaction) {
      if (interaction.detail.content === 'boom') return Promise.reject(new Error('the platform is down'));
      return Promise.resolve(async (m) => {
        seen.push(interaction.dedupeKey);
        await m.query('SELECT 1');
      });
    },
  };

  /** A worker with tiny batches and passes, so a "burst" of a few rows spans several passes. */
  function smallWorker(reactions: Reaction[] = [probe]): ReactionsWorker {
    const s = stack.services;
    return new ReactionsWorker({
      dataSource: db().dataSource,
      transactor: s.transactor,
      contacts: s.contacts,
      reactions,
      clock: stack.clock,
      logger: createLogger('silent'),
      holder: 'small',
      batchDelayMs: 1,
      batchSize: 2,
      passLimit: 4,
      maxAttempts: 2,
    });
  }

  const record = async (count: number, content = 'hi') => {
    for (let i = 0; i < count; i += 1) {
      const openid = `o_burst_${i % 3}`;
      const draft: InteractionDraft = {
        type: 'text',
        channel: 'oa',
        occurredAt: stack.clock.now(),
        detail: { openid, content, msgId: String(7000 + i) },
        identity: { kind: 'oa_openid', appId: stack.config.officialAccount.appId, value: openid },
        dedupeKey: `oa:test:msg:${openid}:${content}:${7000 + i}`,
      };
      await stack.services.transactor.run((m) => stack.services.interactions.recordInteraction(m, draft));
    }
  };
  const pending = () => db().dataSource.manager.countBy(ReactionWork, { status: 'pending' });

  it('one kick after a burst finishes it all, pass after pass, with nothing to kick again', async () => {
    await record(11);
    const worker = smallWorker();
    worker.kick();
    await worker.idle();
    expect(await pending()).toBe(0);
  });

  it('a pass stops at its first partial batch; the replay job picks up what is left', async () => {
    await record(3);
    const worker = smallWorker();
    expect(await worker.processDue()).toBe(3);
    expect(await worker.processDue()).toBe(0);
  });

  it('a row whose reaction fails is retried alone after its backoff, then parked as failed and visible', async () => {
    seen.length = 0;
    await record(1, 'boom');
    await record(2);
    const worker = smallWorker();
    expect(await worker.processDue()).toBe(2);
    expect(seen).toHaveLength(2);
    const [failing] = await db().dataSource.manager.findBy(ReactionWork, { attempts: 1 });
    expect(failing).toMatchObject({ status: 'pending', lastError: 'the platform is down' });
    stack.clock.advance(5_001);
    expect(await worker.processDue()).toBe(0);
    expect(await db().dataSource.manager.findOneByOrFail(ReactionWork, { id: failing.id })).toMatchObject({
      status: 'failed',
      attempts: 2,
    });
  });

  it('a write that fails inside the batch fails its row only; the others commit', async () => {
    await record(2);
    const [first] = await db().dataSource.manager.find(Interaction, { order: { id: 'ASC' } });
    const breaksFirst: Reaction = {
      name: 'breaks-first',
      prepare: (interaction) =>
        Promise.resolve(async (m) => {
          if (interaction.id === first.id) await m.query('INSERT INTO no_such_table VALUES (1)');
        }),
    };
    expect(await smallWorker([breaksFirst]).processDue()).toBe(1);
    const work = await db().dataSource.manager.find(ReactionWork, { order: { id: 'ASC' } });
    expect(work.map((w) => w.status)).toEqual(['pending', 'done']);
    expect(work[0].attempts).toBe(1);
  });

  it("a reaction's own state is new for every try of the batch's transaction, whatever the other reactions keep", async () => {
    await record(2);
    /** Fails its first transaction at the commit, after every write, as an InnoDB deadlock does. */
    class FirstCommitDeadlocks extends Transactor {
      private failed = false;
      override run<T>(work: (manager: EntityManager) => Promise<T>, options: { readCommitted?: boolean } = {}): Promise<T> {
        return super.run(async (manager) => {
          const result = await work(manager);
          if (this.failed) return result;
          this.failed = true;
          throw Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), {
            code: 'ER_LOCK_DEADLOCK',
            errno: 1213,
          });
        }, options);
      }
    }
    const finished: { rows: string[]; lengths: number[] }[] = [];
    // Two reactions, each with state of its own type, neither knowing of the other.
    const keys = defineReaction<string, string[]>({
      name: 'keys',
      prepare: (interaction) => Promise.resolve(interaction.dedupeKey),
      createState: () => [],
      write: (_m, _row, key, state) => Promise.resolve(void state.push(key)),
      finish: (_m, state) => Promise.resolve(void finished.push({ rows: [...state], lengths: [] })),
    });
    const lengths = defineReaction<number, { total: number }>({
      name: 'lengths',
      prepare: (interaction) => Promise.resolve(interaction.dedupeKey.length),
      createState: () => ({ total: 0 }),
      write: (_m, _row, length, state) => Promise.resolve(void (state.total += length)),
      finish: (_m, state) => Promise.resolve(void finished[finished.length - 1].lengths.push(state.total)),
    });
    const s = stack.services;
    const worker = new ReactionsWorker({
      dataSource: db().dataSource,
      transactor: new FirstCommitDeadlocks(db().dataSource),
      contacts: s.contacts,
      reactions: [keys, lengths],
      clock: stack.clock,
      logger: createLogger('silent'),
      holder: 'state',
      batchSize: 10,
    });
    expect(await worker.processDue()).toBe(2);
    const stored = await db().dataSource.manager.find(Interaction, { order: { id: 'ASC' } });
    const once = { rows: stored.map((i) => i.dedupeKey), lengths: [stored.reduce((n, i) => n + i.dedupeKey.length, 0)] };
    // The rolled-back try and the one that committed each saw the batch once, not twice.
    expect(finished).toEqual([once, once]);
    expect(await pending()).toBe(0);
  });
});
