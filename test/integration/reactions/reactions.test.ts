import { Contact } from '../../../entities/contact.entity';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import { createLogger } from '../../../server/adapters/logger';
import { createActivityReaction } from '../../../server/modules/contacts/activity.reaction';
import { createLifecycleReaction } from '../../../server/modules/lifecycle/lifecycle.reaction';
import { createOfficialAccountProfileReaction } from '../../../server/modules/contacts/oa-profile.reaction';
import { createSourceReaction } from '../../../server/modules/contacts/source.reaction';
import type { InteractionDraft } from '../../../server/modules/interactions/interactions.service';
import type { Reaction } from '../../../server/modules/reactions/reaction';
import { ReactionsWorker } from '../../../server/modules/reactions/reactions.worker';
import { createTagRulesReaction } from '../../../server/modules/tag-rules/tag-rules.reaction';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

describeEachDatabase('reactions, each on its own', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const logger = createLogger('silent');
  const worker = (reactions: Reaction[]) =>
    new ReactionsWorker({
      dataSource: db().dataSource,
      transactor: stack.services.transactor,
      contacts: stack.services.contacts,
      reactions,
      clock: stack.clock,
      logger,
      holder: 'alone',
    });
  const appId = () => stack.config.officialAccount.appId;
  let seq = 0;
  const record = async (openid: string, type: string, detail: Record<string, string | null>, at = stack.clock.now()) => {
    seq += 1;
    const draft: InteractionDraft = {
      type,
      channel: 'oa',
      occurredAt: at,
      detail: { openid, ...detail },
      identity: { kind: 'oa_openid', appId: appId(), value: openid },
      dedupeKey: `oa:test:${openid}:${type}:${seq}`,
    };
    const result = await stack.services.transactor.run((m) => stack.services.interactions.recordInteraction(m, draft));
    return result.contactId ?? 0;
  };
  const contact = (id: number) => db().dataSource.manager.findOneByOrFail(Contact, { id });

  it('source: the first scene stays first, the newest is last; without a scene the platform is the source', async () => {
    const id = await record('o_src', 'subscribe', { scene: 'expo2026' }, new Date('2026-11-01T00:00:00Z'));
    await record('o_src', 'scan', { scene: 'booth-7' }, new Date('2026-11-02T00:00:00Z'));
    await record('o_src', 'text', { content: 'hi' }, new Date('2026-11-03T00:00:00Z'));
    const plain = await record('o_plain', 'subscribe', { scene: null });
    expect(await worker([createSourceReaction({ contacts: stack.services.contacts })]).processDue()).toBe(4);
    expect(await contact(id)).toMatchObject({ firstSource: 'expo2026', lastSource: 'booth-7' });
    expect(await contact(plain)).toMatchObject({ firstSource: 'oa', lastSource: 'oa' });
  });

  it('activity and the lifecycle: engagement activates, a subscribe alone does not; the last interaction only moves forward', async () => {
    const id = await record('o_act', 'subscribe', {}, new Date('2026-11-05T00:00:00Z'));
    // The stage is the lifecycle's stage rules' now (their defaults activate on what the activity reaction did).
    const w = worker([
      createActivityReaction({ contacts: stack.services.contacts }),
      createLifecycleReaction({ lifecycle: stack.services.lifecycle }),
    ]);
    await w.processDue();
    expect(await contact(id)).toMatchObject({ stage: 'acquired', lastInteractionAt: new Date('2026-11-05T00:00:00Z') });
    await record('o_act', 'text', { content: 'hi' }, new Date('2026-11-04T00:00:00Z'));
    await w.processDue();
    expect(await contact(id)).toMatchObject({ stage: 'activated', lastInteractionAt: new Date('2026-11-05T00:00:00Z') });
  });

  it('tag rules and scoring: the default rules tag and score, and a replayed work row scores nothing twice', async () => {
    const id = await record('o_rule', 'subscribe', { scene: 'expo2026' });
    const w = worker([createTagRulesReaction({ rules: stack.services.rules, scoring: stack.services.scoring })]);
    await w.processDue();
    expect((await contact(id)).score).toBe(5);
    await db().dataSource.manager.update(ReactionWork, { status: 'done' }, { status: 'pending' });
    await w.processDue();
    expect((await contact(id)).score).toBe(5);
    expect(await db().dataSource.manager.countBy(ScoreLedger, { contactId: id })).toBe(1);
  });

  it('Official Account profile: nickname and unionid from user/info; a refusal is logged and the row goes on; -1 retries', async () => {
    stack.sandbox.state.addFollower({ openid: 'o_prof', unionid: 'u_prof', nickname: '小李' });
    const id = await record('o_prof', 'subscribe', {});
    const w = worker([
      createOfficialAccountProfileReaction({
        officialAccount: stack.services.officialAccount ?? fail(),
        contacts: stack.services.contacts,
        logger,
      }),
    ]);
    stack.sandbox.state.failNext('user/info', -1);
    expect(await w.processDue()).toBe(0);
    stack.clock.advance(5_001);
    expect(await w.processDue()).toBe(1);
    expect((await contact(id)).name).toBe('小李');
    expect(await db().dataSource.manager.findOneByOrFail(ContactIdentity, { kind: 'unionid', value: 'u_prof' })).toMatchObject({
      contactId: id,
    });

    stack.sandbox.state.addFollower({ openid: 'o_gone', unionid: null });
    const gone = await record('o_gone', 'subscribe', {});
    stack.sandbox.state.failNext('user/info', 40003);
    expect(await w.processDue()).toBe(1);
    expect((await contact(gone)).name).toBeNull();
  });
});

function fail(): never {
  throw new Error('the test stack configures the Official Account');
}

describeEachDatabase('Official Account profile for a burst of new followers', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const subscribe = async (openid: string) => {
    const draft: InteractionDraft = {
      type: 'subscribe',
      channel: 'oa',
      occurredAt: stack.clock.now(),
      detail: { openid, scene: 'expo2026' },
      identity: { kind: 'oa_openid', appId: stack.config.officialAccount.appId, value: openid },
      dedupeKey: `oa:test:evt:${openid}`,
    };
    await stack.services.transactor.run((m) => stack.services.interactions.recordInteraction(m, draft));
  };

  it('asks user/info/batchget once for the batch instead of user/info per follower', async () => {
    for (let i = 0; i < 5; i += 1) {
      stack.sandbox.state.addFollower({ openid: `o_burst_${i}`, unionid: `u_burst_${i}`, nickname: `访客${i}` });
      await subscribe(`o_burst_${i}`);
    }
    expect(await stack.services.reactions.processDue()).toBe(5);
    expect(stack.sandbox.state.callsTo('user/info/batchget')).toHaveLength(1);
    expect(stack.sandbox.state.callsTo('user/info')).toHaveLength(0);
    const names = (await db().dataSource.manager.find(Contact, { order: { id: 'ASC' } })).map((c) => c.name);
    expect(names).toEqual(['访客0', '访客1', '访客2', '访客3', '访客4']);
    expect(await db().dataSource.manager.countBy(ContactIdentity, { kind: 'unionid' })).toBe(5);
  });

  it('an openid the platform refuses fails the batch call; the others still get their profile one by one', async () => {
    for (let i = 0; i < 3; i += 1) {
      stack.sandbox.state.addFollower({ openid: `o_mix_${i}`, unionid: `u_mix_${i}`, nickname: `客${i}` });
      await subscribe(`o_mix_${i}`);
    }
    await subscribe('o_not_a_follower');
    expect(await stack.services.reactions.processDue()).toBe(4);
    expect(stack.sandbox.state.callsTo('user/info')).toHaveLength(4);
    expect(await db().dataSource.manager.countBy(ContactIdentity, { kind: 'unionid' })).toBe(3);
  });
});
