import type { DataSource } from 'typeorm';
import { Contact } from '../../../entities/contact.entity';
import { ContactFollow } from '../../../entities/contact-follow.entity';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import { Tag } from '../../../entities/tag.entity';
import { createLogger } from '../../../server/adapters/logger';
import { createDataSource } from '../../../server/db/data-source';
import { createActivityReaction } from '../../../server/modules/contacts/activity.reaction';
import { createLifecycleReaction } from '../../../server/modules/lifecycle/lifecycle.reaction';
import { createOfficialAccountProfileReaction } from '../../../server/modules/contacts/oa-profile.reaction';
import { createSourceReaction } from '../../../server/modules/contacts/source.reaction';
import { createWecomContactReaction } from '../../../server/modules/contacts/wecom-contact.reaction';
import type { InteractionDraft } from '../../../server/modules/interactions/interactions.service';
import type { Reaction } from '../../../server/modules/reactions/reaction';
import { ReactionsWorker } from '../../../server/modules/reactions/reactions.worker';
import { createTagRulesReaction } from '../../../server/modules/tag-rules/tag-rules.reaction';
import { WecomTagMirror } from '../../../server/modules/tag-sync/wecom-tag-mirror';
import { createTestDatabase, DATABASE_KINDS, untilSomeoneWaitsForALock, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * Two instances work different rows of the same person at once: one merges the person's two
 * contacts (a subscribe whose unionid another contact holds), the other writes the newer
 * contact's tags, points, follow, source and last interaction. The two transactions are
 * interleaved on purpose: one is held open at a chosen point until the other is seen waiting for
 * its lock. MariaDB only: SQLite has one writer, so its transactions never overlap.
 */
const mysqlOnly = DATABASE_KINDS.includes('mysql') ? describe : describe.skip;
mysqlOnly('a merge and writes to the merged contact at once, on two instances [mysql]', () => {
  let db: TestDatabase;
  let other: DataSource;
  let a: TestStack;
  let b: TestStack;
  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    // The second instance: its own connections to the same database.
    other = await createDataSource(db.config, { poolSize: 5 });
    await other.initialize();
  });
  afterAll(async () => {
    await other.destroy();
    await db.destroy();
  });
  beforeEach(async () => {
    await db.reset();
    a = await startTestStack(db, {}, { holder: 'instance-a' });
    b = await startTestStack({ dataSource: other }, {}, { holder: 'instance-b' });
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  const logger = createLogger('silent');
  /** The reactions compose.ts registers, on one instance. */
  const reactionsOf = (stack: TestStack, dataSource: DataSource): Reaction[] => {
    const s = stack.services;
    if (!s.officialAccount || !s.wecom) throw new Error('the test stack configures both platforms');
    const wecomTags = new WecomTagMirror({
      dataSource,
      wecom: s.wecom,
      contactTags: s.contactTags,
      tagSync: s.tagSync,
      clock: stack.clock,
    });
    return [
      createOfficialAccountProfileReaction({ officialAccount: s.officialAccount, contacts: s.contacts, logger }),
      createWecomContactReaction({ wecom: s.wecom, contacts: s.contacts, wecomTags, logger }),
      wecomTags.createCatalogReaction(),
      createSourceReaction({ contacts: s.contacts }),
      createActivityReaction({ contacts: s.contacts }),
      createTagRulesReaction({ rules: s.rules, scoring: s.scoring }),
      // The stage rules (the activity reaction no longer moves the stage).
      createLifecycleReaction({ lifecycle: s.lifecycle }),
    ];
  };
  const worker = (stack: TestStack, dataSource: DataSource, reactions: Reaction[], batchSize: number) =>
    new ReactionsWorker({
      dataSource,
      transactor: stack.services.transactor,
      contacts: stack.services.contacts,
      reactions,
      clock: stack.clock,
      logger,
      holder: `worker-${batchSize}`,
      batchSize,
      passLimit: batchSize,
    });

  /** A reaction that holds its batch's transaction open, after every other write, until released. */
  const gate = () => {
    let reached: () => void = () => undefined;
    let release: () => void = () => undefined;
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const reaction: Reaction = {
      name: 'gate',
      prepare: () =>
        Promise.resolve(async () => {
          reached();
          await released;
        }),
    };
    return { reaction, atGate, release };
  };

  const at = (day: number) => new Date(Date.UTC(2026, 10, day));
  const recordOn = async (stack: TestStack, draft: InteractionDraft) =>
    (await stack.services.transactor.run((m) => stack.services.interactions.recordInteraction(m, draft))).contactId ?? 0;
  const oa = (openid: string, type: string, day: number, detail: Record<string, string>): InteractionDraft => ({
    type,
    channel: 'oa',
    occurredAt: at(day),
    detail: { openid, ...detail },
    identity: { kind: 'oa_openid', appId: a.config.officialAccount.appId, value: openid },
    dedupeKey: `oa:test:${openid}:${type}:${day}`,
  });

  /**
   * The older contact is a WeCom customer whose unionid is known; the newer one follows the
   * Official Account and was added by a rep in WeCom (no unionid there). Its subscribe (user/info
   * gives the unionid) merges the two; its scan, text and WeCom add write to it.
   */
  const seed = async (subscribeFirst: boolean) => {
    const s = a.services;
    const corpId = a.config.wecom.corpId;
    const older = await s.transactor.run(async (m) => {
      const { contactId } = await s.contacts.resolveContact(m, { kind: 'external_userid', appId: corpId, value: 'wm_older' });
      await s.contacts.linkIdentity(m, contactId, { kind: 'unionid', appId: '', value: 'u_person' });
      return contactId;
    });
    a.sandbox.state.addFollower({ openid: 'o_newer', unionid: 'u_person', nickname: '小王' });
    b.sandbox.state.addExternalContact({
      externalUserId: 'wm_newer',
      unionid: null,
      name: '小王',
      followUserId: 'sales-li',
      state: 'booth-9',
    });
    const subscribe = () => recordOn(a, oa('o_newer', 'subscribe', 1, { scene: 'expo2026' }));
    const newer = subscribeFirst ? await subscribe() : await recordOn(a, oa('o_newer', 'text', 2, { content: '在吗' }));
    await s.transactor.run((m) => s.contacts.linkIdentity(m, newer, { kind: 'external_userid', appId: corpId, value: 'wm_newer' }));
    if (subscribeFirst) await recordOn(a, oa('o_newer', 'text', 2, { content: '在吗' }));
    await recordOn(a, oa('o_newer', 'scan', 3, { scene: 'booth-7' }));
    await recordOn(a, {
      type: 'add_external_contact',
      channel: 'wecom',
      occurredAt: at(4),
      detail: { userId: 'sales-li', externalUserId: 'wm_newer', scene: 'booth-9' },
      identity: { kind: 'external_userid', appId: corpId, value: 'wm_newer' },
      dedupeKey: 'wecom:test:add:wm_newer',
    });
    if (!subscribeFirst) await subscribe();
    return { older, newer };
  };

  /** Every write lands on the survivor; the merged contact is referenced by merged_into_id alone. */
  const expectAllOnSurvivor = async (survivor: number, merged: number) => {
    const m = db.dataSource.manager;
    expect(await m.countBy(ReactionWork, { status: 'done' })).toBe(4);
    expect(await m.findOneByOrFail(Contact, { id: merged })).toMatchObject({ mergedIntoId: survivor, score: 0 });
    for (const entity of [ContactIdentity, Interaction, ContactTag, ScoreLedger, ContactFollow])
      expect([entity.name, await m.countBy(entity, { contactId: merged })]).toEqual([entity.name, 0]);
    const kept = await m.findOneByOrFail(Contact, { id: survivor });
    const ledger = await m.findBy(ScoreLedger, { contactId: survivor });
    // subscribe with a scene 5, text 1, scan 2, WeCom add through a contact way 5 + 10.
    expect(ledger.map((l) => l.points).sort((x, y) => x - y)).toEqual([1, 2, 5, 5, 10]);
    expect(kept).toMatchObject({
      mergedIntoId: null,
      name: '小王',
      score: 23,
      stage: 'activated',
      firstSource: 'expo2026',
      lastSource: 'booth-9',
      lastInteractionAt: at(4),
      ownerUserId: 'sales-li',
    });
    const names = new Map((await m.find(Tag)).map((t) => [t.id, t.name]));
    const tags = (await m.findBy(ContactTag, { contactId: survivor })).map((t) => names.get(t.tagId));
    expect(tags.sort()).toEqual(['booth-7', 'booth-9', 'expo2026', '企微好友', '已关注'].sort());
    expect(await m.findBy(ContactFollow, { contactId: survivor })).toEqual([
      expect.objectContaining({ userId: 'sales-li', status: 'active', state: 'booth-9' }),
    ]);
    expect(await m.countBy(Contact, { mergedIntoId: survivor })).toBe(1);
  };

  it('the merge holds its locks first: the writes wait for it, then go to the survivor', async () => {
    const { older, newer } = await seed(true);
    const held = gate();
    // Instance A takes the subscribe alone, merges, and holds its transaction open.
    const merging = worker(a, db.dataSource, [...reactionsOf(a, db.dataSource), held.reaction], 1).processDue();
    await held.atGate;
    // Instance B takes the other rows of the newer contact.
    const writing = worker(b, other, reactionsOf(b, other), 10).processDue();
    await untilSomeoneWaitsForALock(db.dataSource).finally(held.release);
    expect(await Promise.all([merging, writing])).toEqual([1, 3]);
    await expectAllOnSurvivor(older, newer);
  });

  it('the writes hold their locks first: the merge waits for them, then moves them to the survivor', async () => {
    const { older, newer } = await seed(false);
    const held = gate();
    // Instance B takes the scan, the text and the WeCom add, writes them, and holds its transaction open.
    const writing = worker(b, other, [...reactionsOf(b, other), held.reaction], 3).processDue();
    await held.atGate;
    const merging = worker(a, db.dataSource, reactionsOf(a, db.dataSource), 10).processDue();
    await untilSomeoneWaitsForALock(db.dataSource).finally(held.release);
    expect(await Promise.all([writing, merging])).toEqual([3, 1]);
    await expectAllOnSurvivor(older, newer);
  });
});
