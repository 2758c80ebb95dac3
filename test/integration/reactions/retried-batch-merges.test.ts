import type { EntityManager } from 'typeorm';
import { Contact } from '../../../entities/contact.entity';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import { Tag } from '../../../entities/tag.entity';
import { createLogger } from '../../../server/adapters/logger';
import { Transactor } from '../../../server/db/transaction';
import { createActivityReaction } from '../../../server/modules/contacts/activity.reaction';
import { createOfficialAccountProfileReaction } from '../../../server/modules/contacts/oa-profile.reaction';
import { createSourceReaction } from '../../../server/modules/contacts/source.reaction';
import type { InteractionDraft } from '../../../server/modules/interactions/interactions.service';
import { ReactionsWorker } from '../../../server/modules/reactions/reactions.worker';
import { createTagRulesReaction } from '../../../server/modules/tag-rules/tag-rules.reaction';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The first transaction it runs fails as an InnoDB deadlock does: after all its statements, at
 * the commit, rolled back whole. Transactor.runRetrying runs it again.
 */
class FirstCommitDeadlocks extends Transactor {
  failures = 0;

  override run<T>(work: (manager: EntityManager) => Promise<T>, options: { readCommitted?: boolean } = {}): Promise<T> {
    return super.run(async (manager) => {
      const result = await work(manager);
      if (this.failures === 0) {
        this.failures += 1;
        throw Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), {
          code: 'ER_LOCK_DEADLOCK',
          errno: 1213,
        });
      }
      return result;
    }, options);
  }
}

describeEachDatabase('a reaction batch retried after a rollback', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const oaAppId = () => stack.config.officialAccount.appId;
  const record = async (draft: Omit<InteractionDraft, 'channel' | 'identity'> & { openid: string }) => {
    const { openid, ...rest } = draft;
    const result = await stack.services.transactor.run((m) =>
      stack.services.interactions.recordInteraction(m, {
        ...rest,
        channel: 'oa',
        detail: { openid, ...rest.detail },
        identity: { kind: 'oa_openid', appId: oaAppId(), value: openid },
      }),
    );
    return result.contactId ?? 0;
  };

  it('merges the two contacts again, exactly once: identities, timeline, tags and points move once', async () => {
    const s = stack.services;
    const m = db().dataSource.manager;
    // The older contact: a WeCom customer whose unionid is known, with 10 points and the tag VIP.
    const older = await s.transactor.run(async (t) => {
      const { contactId } = await s.contacts.resolveContact(t, { kind: 'external_userid', appId: 'wwcorp', value: 'wm_older' });
      await s.contacts.linkIdentity(t, contactId, { kind: 'unionid', appId: '', value: 'u_same_person' });
      await s.scoring.addPoints(t, [{ contactId, points: 10, reason: 'seed', dedupeKey: 'seed:older' }]);
      await s.contactTags.applyTags(t, {
        contactId,
        add: [await s.contactTags.ensureTag(t, { group: '兴趣', name: 'VIP' })],
        remove: [],
        actor: { kind: 'system' },
        cause: 'manual',
      });
      return contactId;
    });
    // The same person follows the Official Account: a new contact, who wrote first (1 point by
    // the default rules) and carries VIP too.
    const newer = await record({
      type: 'text',
      openid: 'o_newer',
      occurredAt: new Date('2026-11-01T00:00:00Z'),
      detail: { content: '你好' },
      dedupeKey: 'oa:test:text',
    });
    expect(await s.reactions.processDue()).toBe(1);
    await s.transactor.run(async (t) =>
      s.contactTags.applyTags(t, {
        contactId: newer,
        add: [await s.contactTags.ensureTag(t, { group: '兴趣', name: 'VIP' })],
        remove: [],
        actor: { kind: 'system' },
        cause: 'manual',
      }),
    );
    // Their subscribe: user/info gives the unionid the older contact holds, so the batch merges.
    stack.sandbox.state.addFollower({ openid: 'o_newer', unionid: 'u_same_person', nickname: '小王' });
    await record({
      type: 'subscribe',
      openid: 'o_newer',
      occurredAt: new Date('2026-11-02T00:00:00Z'),
      detail: { scene: 'expo2026' },
      dedupeKey: 'oa:test:subscribe',
    });

    const transactor = new FirstCommitDeadlocks(db().dataSource);
    const worker = new ReactionsWorker({
      dataSource: db().dataSource,
      transactor,
      contacts: s.contacts,
      reactions: [
        createOfficialAccountProfileReaction({
          officialAccount: s.officialAccount ?? fail(),
          contacts: s.contacts,
          logger: createLogger('silent'),
        }),
        createSourceReaction({ contacts: s.contacts }),
        createActivityReaction({ contacts: s.contacts }),
        createTagRulesReaction({ rules: s.rules, scoring: s.scoring }),
      ],
      clock: stack.clock,
      logger: createLogger('silent'),
      holder: 'retrying',
    });
    expect(await worker.processDue()).toBe(1);
    expect(transactor.failures).toBe(1);

    const survivor = Math.min(older, newer);
    const merged = Math.max(older, newer);
    expect(survivor).toBe(older);
    expect(await m.findOneByOrFail(Contact, { id: merged })).toMatchObject({ mergedIntoId: survivor, score: 0 });
    expect(await m.findOneByOrFail(Contact, { id: survivor })).toMatchObject({
      mergedIntoId: null,
      name: '小王',
      firstSource: 'expo2026',
      // The text (1), the older contact's seed (10) and the QR subscribe (5), each once.
      score: 16,
    });
    expect(await m.countBy(Contact, { mergedIntoId: survivor })).toBe(1);
    const identities = await m.find(ContactIdentity, { order: { id: 'ASC' } });
    expect(identities.map((i) => [i.kind, i.contactId])).toEqual([
      ['external_userid', survivor],
      ['unionid', survivor],
      ['oa_openid', survivor],
    ]);
    expect((await m.find(Interaction)).map((i) => i.contactId)).toEqual([survivor, survivor]);
    const ledger = await m.find(ScoreLedger, { order: { id: 'ASC' } });
    expect(ledger.map((l) => [l.dedupeKey.replace(/\d+/g, 'N'), l.points, l.contactId])).toEqual([
      ['seed:older', 10, survivor],
      ['rule:N:interaction:N', 1, survivor],
      ['rule:N:interaction:N', 5, survivor],
    ]);
    const tags = await m.find(ContactTag);
    const names = new Map((await m.find(Tag)).map((t) => [t.id, t.name]));
    expect(tags.every((t) => t.contactId === survivor)).toBe(true);
    expect(tags.map((t) => names.get(t.tagId)).sort()).toEqual(['VIP', 'expo2026', '已关注'].sort());
    expect(await m.findOneByOrFail(ReactionWork, { dedupeKey: 'oa:test:subscribe' })).toMatchObject({ status: 'done', attempts: 0 });
  });
});

function fail(): never {
  throw new Error('the test stack configures the Official Account');
}
