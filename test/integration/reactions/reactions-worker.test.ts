import { Interaction } from '../../../entities/interaction.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { createLogger } from '../../../server/adapters/logger';
import type { InteractionDraft } from '../../../server/modules/interactions/interactions.service';
import type { Reaction } from '../../../server/modules/reactions/reaction';
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
});
