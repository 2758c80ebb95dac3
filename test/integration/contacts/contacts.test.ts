import { Contact } from '../../../entities/contact.entity';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { Transactor } from '../../../server/db/transaction';
import { ContactsService } from '../../../server/modules/contacts/contacts.service';
import { ScoringService } from '../../../server/modules/scoring/scoring.service';
import { describeEachDatabase, useSecondInstance } from '../../support/database';

describeEachDatabase('contacts', (db) => {
  const clock = new ManualClock();
  const contacts = new ContactsService({ clock });
  const scoring = new ScoringService({ clock });
  const openid = { kind: 'oa_openid' as const, appId: 'wxapp', value: 'o_follower_1' };
  const external = { kind: 'external_userid' as const, appId: 'wwcorp', value: 'wm_external_1' };
  const unionid = { kind: 'unionid' as const, appId: '', value: 'union_1' };

  const other = useSecondInstance(db);

  it('two instances merging the same people at once lose no points and leave one survivor', async () => {
    const tx = new Transactor(db().dataSource);
    const ids: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const { contactId } = await tx.run((m) => contacts.resolveContact(m, { kind: 'oa_openid', appId: 'wxapp', value: `o_m${i}` }));
      await tx.run((m) => scoring.addPoints(m, [{ contactId, points: 10 * (i + 1), reason: 'seed', dedupeKey: `seed:${i}` }]));
      ids.push(contactId);
    }
    // Instance A links 0-1-2, instance B links 2-3-1, each with a unionid the other also uses.
    const a = new Transactor(db().dataSource);
    const b = new Transactor(other());
    const mergeAll = (t: Transactor, order: number[]) =>
      Promise.all(order.slice(1).map((id) => t.runRetrying((m) => contacts.mergeContacts(m, ids[order[0]], ids[id]))));
    await Promise.all([mergeAll(a, [0, 1, 2]), mergeAll(b, [3, 2, 1])]);
    await a.runRetrying((m) => contacts.mergeContacts(m, ids[0], ids[3]));
    const all = await db().dataSource.manager.find(Contact);
    const survivors = all.filter((c) => c.mergedIntoId === null);
    expect(survivors).toHaveLength(1);
    expect(survivors[0].score).toBe(100);
    expect(all.filter((c) => c.mergedIntoId !== null).every((c) => c.score === 0)).toBe(true);
  });

  it('creates a contact on first sight and finds it again by the same identity', async () => {
    const tx = new Transactor(db().dataSource);
    const first = await tx.run((m) => contacts.resolveContact(m, openid));
    const second = await tx.run((m) => contacts.resolveContact(m, openid));
    expect(first.created).toBe(true);
    expect(second).toEqual({ contactId: first.contactId, created: false });
    expect(await db().dataSource.manager.count(Contact)).toBe(1);
  });

  it('two first messages racing create one contact', async () => {
    const tx = new Transactor(db().dataSource);
    const ids = await Promise.all([1, 2, 3].map(() => tx.runRetrying((m) => contacts.resolveContact(m, openid))));
    expect(new Set(ids.map((r) => r.contactId)).size).toBe(1);
    expect(await db().dataSource.manager.count(ContactIdentity)).toBe(1);
  });

  it('merges a follower and a WeCom customer when a unionid links them, keeping timeline, tags and points', async () => {
    const tx = new Transactor(db().dataSource);
    const m = db().dataSource.manager;
    const wecomSide = (await tx.run((t) => contacts.resolveContact(t, external))).contactId;
    await tx.run((t) => contacts.linkIdentity(t, wecomSide, unionid));
    const oaSide = (await tx.run((t) => contacts.resolveContact(t, openid))).contactId;
    clock.advance(1000);
    await tx.run((t) => contacts.recordSource(t, wecomSide, 'booth-qr', new Date('2026-11-01T00:00:00Z')));
    await tx.run((t) => contacts.recordSource(t, oaSide, 'expo2026', new Date('2026-11-20T00:00:00Z')));
    await m.insert(Interaction, {
      contactId: oaSide,
      type: 'subscribe',
      channel: 'oa',
      occurredAt: clock.now(),
      detail: {},
      dedupeKey: 'k1',
      createdAt: clock.now(),
    });
    await tx.run((t) => scoring.addPoints(t, [{ contactId: oaSide, points: 5, reason: 'subscribe', dedupeKey: 'p1' }]));
    await tx.run((t) => scoring.addPoints(t, [{ contactId: wecomSide, points: 10, reason: 'added', dedupeKey: 'p2' }]));
    await m.insert(TagGroup, { name: '渠道', syncOa: true, syncWecom: true, createdAt: clock.now() });
    const group = await m.findOneByOrFail(TagGroup, { name: '渠道' });
    await m.insert(Tag, { groupId: group.id, name: 'expo2026', createdAt: clock.now() });
    const tag = await m.findOneByOrFail(Tag, { name: 'expo2026' });
    await m.insert(ContactTag, [
      { contactId: oaSide, tagId: tag.id, source: 'rule:1', createdAt: clock.now() },
      { contactId: wecomSide, tagId: tag.id, source: 'rule:1', createdAt: clock.now() },
    ]);

    // The time zone an operator set on the newer contact goes with it to the survivor.
    await m.update(Contact, { id: Math.max(oaSide, wecomSide) }, { timeZone: 'America/New_York' });

    const survivor = await tx.run((t) => contacts.linkIdentity(t, oaSide, unionid));

    expect(survivor).toBe(Math.min(oaSide, wecomSide));
    const merged = Math.max(oaSide, wecomSide);
    const kept = await m.findOneByOrFail(Contact, { id: survivor });
    expect(kept.score).toBe(15);
    expect(kept.firstSource).toBe('booth-qr');
    expect(kept.lastSource).toBe('expo2026');
    expect(kept.timeZone).toBe('America/New_York');
    expect((await m.findOneByOrFail(Contact, { id: merged })).mergedIntoId).toBe(survivor);
    expect(await m.countBy(ContactIdentity, { contactId: survivor })).toBe(3);
    expect(await m.countBy(Interaction, { contactId: survivor })).toBe(1);
    expect(await m.countBy(ContactTag, { contactId: survivor })).toBe(1);
    expect(await m.countBy(ScoreLedger, { contactId: survivor })).toBe(2);
  });

  it('scores a batch of causes at once: repeats and already-scored causes count once, sums per contact', async () => {
    const tx = new Transactor(db().dataSource);
    const a = (await tx.run((m) => contacts.resolveContact(m, openid))).contactId;
    const b = (await tx.run((m) => contacts.resolveContact(m, external))).contactId;
    await tx.run((m) => scoring.addPoints(m, [{ contactId: a, points: 5, reason: 'earlier', dedupeKey: 'k0' }]));
    const scored = await tx.run((m) =>
      scoring.addPoints(m, [
        { contactId: a, points: 5, reason: 'earlier again', dedupeKey: 'k0' },
        { contactId: a, points: 2, reason: 'text', dedupeKey: 'k1' },
        { contactId: a, points: 2, reason: 'text repeated', dedupeKey: 'k1' },
        { contactId: a, points: -1, reason: 'penalty', dedupeKey: 'k2' },
        { contactId: b, points: 10, reason: 'added', dedupeKey: 'k3' },
        { contactId: b, points: 0, reason: 'nothing', dedupeKey: 'k4' },
      ]),
    );
    expect(scored).toBe(3);
    const m = db().dataSource.manager;
    expect((await m.findOneByOrFail(Contact, { id: a })).score).toBe(6);
    expect((await m.findOneByOrFail(Contact, { id: b })).score).toBe(10);
    expect(await m.count(ScoreLedger)).toBe(4);
  });

  it('never scores the same cause twice, and stages only move forward', async () => {
    const tx = new Transactor(db().dataSource);
    const { contactId } = await tx.run((m) => contacts.resolveContact(m, openid));
    const add = () => tx.run((m) => scoring.addPoints(m, [{ contactId, points: 3, reason: 'text', dedupeKey: 'rule:1:interaction:9' }]));
    expect(await add()).toBe(1);
    expect(await add()).toBe(0);
    await tx.run((m) => contacts.advanceStage(m, [contactId], 'revenue'));
    await tx.run((m) => contacts.advanceStage(m, [contactId], 'activated'));
    const contact = await db().dataSource.manager.findOneByOrFail(Contact, { id: contactId });
    expect(contact.score).toBe(3);
    expect(contact.stage).toBe('revenue');
  });
});

describeEachDatabase('contacts: a burst of new people', (db) => {
  const clock = new ManualClock();
  const contacts = new ContactsService({ clock });

  it('creates the contacts of many new identities together, each holding its own identity, beside ones already known', async () => {
    const tx = new Transactor(db().dataSource);
    const known = await tx.run((m) => contacts.resolveContact(m, { kind: 'oa_openid', appId: 'wxapp', value: 'o_known' }));
    const refs = [
      ...Array.from({ length: 50 }, (_v, i) => ({ kind: 'oa_openid' as const, appId: 'wxapp', value: `o_new_${i}` })),
      { kind: 'oa_openid' as const, appId: 'wxapp', value: 'o_known' },
    ];
    const resolved = await tx.run((m) => contacts.resolveContacts(m, refs));
    expect(resolved.size).toBe(51);
    expect(resolved.get('oa_openid|wxapp|o_known')).toBe(known.contactId);
    const m = db().dataSource.manager;
    expect(await m.count(Contact)).toBe(51);
    for (const ref of refs) {
      const identity = await m.findOneByOrFail(ContactIdentity, { kind: ref.kind, appId: ref.appId, value: ref.value });
      expect(identity.contactId).toBe(resolved.get(`oa_openid|wxapp|${ref.value}`));
    }
  });
});
