import { MIN_SCRYPT_N } from '../../../config/config.schema';
import { Contact } from '../../../entities/contact.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Interaction, type Channel } from '../../../entities/interaction.entity';
import { StatDelta } from '../../../entities/stat-delta.entity';
import type { Tag } from '../../../entities/tag.entity';
import { createLogger } from '../../../server/adapters/logger';
import { runAdminCommand } from '../../../server/cli/admin.cli';
import { toSqlDate } from '../../../server/db/sql';
import type { InteractionDraft } from '../../../server/modules/interactions/interactions.service';
import { BUCKET_MS, readCounts, STAT_METRICS } from '../../../server/modules/stats/stat-counters';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase, useSecondInstance } from '../../support/database';

type Counts = Record<string, number>;

describeEachDatabase('dashboard counters (stat_counts + stat_deltas)', (db) => {
  let t: AdminTestApp;
  const other = useSecondInstance(db);
  const actor = { operatorId: null, ip: null };
  let seq = 0;

  beforeEach(() => {
    t = buildAdminTestApp(db().dataSource);
    t.clock.set(new Date('2026-11-23T08:00:00.000Z'));
  });

  const openid = (value: string) => ({ kind: 'oa_openid' as const, appId: 'wxapp', value });
  const draft = (who: string, channel: Channel, at: string, key = `t${(seq += 1)}`): InteractionDraft => ({
    type: 'text',
    channel,
    occurredAt: new Date(at),
    detail: {},
    identity: openid(who),
    dedupeKey: `oa:${key}`,
  });
  const record = (drafts: InteractionDraft[]) => t.transactor.run((m) => t.interactions.recordInteractions(m, drafts));
  const contactOf = async (who: string) => (await t.transactor.run((m) => t.contacts.resolveContact(m, openid(who)))).contactId;
  const tag = (name: string) => t.transactor.run((m) => t.contactTags.ensureTag(m, { group: 'Interest', name }));
  const applyTags = (contactId: number, add: Tag[], remove: Tag[] = [], tags = t.contactTags, tx = t.transactor) =>
    tx.runRetrying((m) => tags.applyTags(m, { contactId, add, remove, actor: { kind: 'system' }, cause: 'manual' }));

  /** Each metric as the counters say, folded or not. */
  const counted = async (): Promise<{ interactions: Counts; stages: Counts; tags: Counts }> => {
    const m = db().dataSource.manager;
    const asRecord = (rows: { bucket: string; dim: string; n: number }[], key: (row: { bucket: string; dim: string }) => string) =>
      Object.fromEntries(rows.map((row) => [key(row), row.n]));
    return {
      interactions: asRecord(await readCounts(m, STAT_METRICS.interactionsByChannel), (row) => `${row.bucket} ${row.dim}`),
      stages: asRecord(await readCounts(m, STAT_METRICS.contactsByStage), (row) => row.dim),
      tags: asRecord(await readCounts(m, STAT_METRICS.contactsByTag), (row) => row.dim),
    };
  };

  /** Each metric counted from the rows themselves. */
  const fromRows = async (): Promise<{ interactions: Counts; stages: Counts; tags: Counts }> => {
    const m = db().dataSource.manager;
    const tally = (keys: string[]) => keys.reduce<Counts>((acc, key) => ({ ...acc, [key]: (acc[key] ?? 0) + 1 }), {});
    const interactions = await m.find(Interaction);
    const contacts = await m.find(Contact);
    const contactTags = await m.find(ContactTag);
    return {
      interactions: tally(
        interactions.map((i) => `${toSqlDate(new Date(Math.floor(i.occurredAt.getTime() / BUCKET_MS) * BUCKET_MS))} ${i.channel}`),
      ),
      stages: tally(contacts.filter((c) => c.mergedIntoId === null).map((c) => c.stage)),
      tags: tally(contactTags.map((ct) => String(ct.tagId))),
    };
  };

  const deltas = () => db().dataSource.manager.count(StatDelta);

  it('count every write path exactly, before the fold, after it and after a recount', async () => {
    await record([
      draft('o1', 'oa', '2026-11-22T15:59:59.999Z'),
      draft('o1', 'oa', '2026-11-22T16:00:00.000Z'),
      draft('o2', 'oa', '2026-11-22T16:14:59.000Z'),
      draft('o3', 'wecom', '2026-11-23T07:00:00.000Z', 'same'),
      draft('o4', 'mp', '2026-11-23T07:59:00.000Z'),
    ]);
    // Recorded twice: one row, counted once.
    await record([draft('o3', 'wecom', '2026-11-23T07:00:00.000Z', 'same'), draft('o5', 'wecom', '2026-11-23T07:01:00.000Z')]);

    const [c1, c2, c3, c4] = [await contactOf('o1'), await contactOf('o2'), await contactOf('o3'), await contactOf('o4')];
    const [vip, lead, cold] = [await tag('VIP'), await tag('Lead'), await tag('Cold')];
    await applyTags(c1, [vip, lead]);
    await applyTags(c2, [vip, cold]);
    await applyTags(c3, [vip]);
    await applyTags(c3, [], [vip]);
    await applyTags(c3, [], [vip]); // removed already: nothing changes, nothing is counted
    await applyTags(c4, [lead, cold]);

    await t.transactor.run((m) => t.contacts.advanceStage(m, [c2, c3, c3], 'activated'));
    await t.transactor.run((m) => t.contacts.advanceStage(m, [c3], 'retained'));
    await t.transactor.run((m) => t.contacts.advanceStage(m, [c3], 'activated')); // stages never go back
    // One person on two identities: c1 and c2 become one, VIP held by both is kept once.
    const unionid = { kind: 'unionid' as const, appId: '', value: 'u1' };
    await t.transactor.run((m) => t.contacts.linkIdentity(m, c1, unionid));
    await t.transactor.run((m) => t.contacts.linkIdentity(m, c2, unionid));
    // A merged-away contact moving stage changes no live count.
    await t.transactor.run((m) => t.contacts.advanceStage(m, [c2], 'revenue'));

    const deleted = await t.tagCatalog.deleteTag({ id: cold.id, actor });
    expect(deleted.ok).toBe(true);

    const expected = await fromRows();
    expect(expected.stages).toEqual({ acquired: 2, activated: 1, retained: 1 });
    expect(expected.tags).toEqual({ [vip.id]: 1, [lead.id]: 2 });
    expect(Object.values(expected.interactions).reduce((a, b) => a + b, 0)).toBe(6);
    expect(await counted()).toEqual(expected);
    expect(await deltas()).toBeGreaterThan(0);

    await t.statCounters.runOnce();
    expect(await deltas()).toBe(0);
    expect(await counted()).toEqual(expected);

    // After the fold, new changes are read from their deltas beside the folded counts.
    await record([draft('o6', 'oa', '2026-11-23T07:59:59.000Z')]);
    await applyTags(c4, [vip]);
    const later = await fromRows();
    expect(await counted()).toEqual(later);

    await t.statCounters.recount(STAT_METRICS.interactionsByChannel);
    await t.statCounters.recount(STAT_METRICS.contactsByStage);
    await t.statCounters.recount(STAT_METRICS.contactsByTag);
    expect(await counted()).toEqual(later);
  });

  it('the job counts a database that has rows but no counts yet (the upgrade), once', async () => {
    const m = db().dataSource.manager;
    const at = new Date('2026-11-20T10:20:00.000Z');
    const contact = await m.getRepository(Contact).insert({ stage: 'retained', score: 0, createdAt: at, updatedAt: at });
    await m.getRepository(Interaction).insert({
      contactId: Number(contact.identifiers[0].id),
      type: 'text',
      channel: 'oa',
      occurredAt: at,
      detail: {},
      dedupeKey: 'oa:old',
      createdAt: at,
    });
    expect(await counted()).toEqual({ interactions: {}, stages: {}, tags: {} });

    await t.statCounters.runOnce();
    expect(await counted()).toEqual({ interactions: { '2026-11-20 10:15:00.000 oa': 1 }, stages: { retained: 1 }, tags: {} });
    // Counted once: the next runs fold deltas only.
    await record([draft('o7', 'oa', '2026-11-20T10:29:00.000Z')]);
    await t.statCounters.runOnce();
    await t.statCounters.runOnce();
    expect(await counted()).toEqual({ interactions: { '2026-11-20 10:15:00.000 oa': 2 }, stages: { retained: 1, acquired: 1 }, tags: {} });
  });

  it('npm run admin -- recount-stats puts right counters changed by hand in SQL', async () => {
    await record([draft('o8', 'wecom', '2026-11-23T01:00:00.000Z')]);
    await applyTags(await contactOf('o8'), [await tag('VIP')]);
    await t.statCounters.runOnce();
    const right = await counted();
    await db().dataSource.query('UPDATE stat_counts SET n = n + 41');
    expect(await counted()).not.toEqual(right);

    const printed: string[] = [];
    const code = await runAdminCommand({
      argv: ['recount-stats'],
      dataSource: db().dataSource,
      clock: t.clock,
      logger: createLogger('silent'),
      write: (line) => printed.push(line),
      writeError: (line) => printed.push(line),
      publicBaseUrl: 'https://crm.example.com',
      passwordScryptN: MIN_SCRYPT_N,
    });
    expect(code).toBe(0);
    expect(printed).toEqual(Object.values(STAT_METRICS).map((metric) => `counted ${metric}`));
    expect(await counted()).toEqual(right);
  });

  it('two instances tagging the same people while both fold lose and double nothing', async () => {
    const vip = await tag('VIP');
    const people: number[] = [];
    for (let i = 0; i < 24; i += 1) people.push(await contactOf(`p${i}`));
    await t.statCounters.runOnce();
    // The second instance: its own DataSource (pool) and services.
    const second = buildAdminTestApp(other());
    const a = { tags: t.contactTags, tx: t.transactor, counters: t.statCounters };
    const b = { tags: second.contactTags, tx: second.transactor, counters: second.statCounters };
    // Both add VIP to everyone, then remove it from every third person, folding as they go.
    const work = async (side: typeof a) => {
      for (const [i, id] of people.entries()) {
        await applyTags(id, [vip], [], side.tags, side.tx);
        if (i % 3 === 0) await applyTags(id, [], [vip], side.tags, side.tx);
        if (i % 5 === 0) await side.counters.runOnce();
      }
    };
    await Promise.all([work(a), work(b)]);
    const expected = await fromRows();
    expect(await counted()).toEqual(expected);
    await Promise.all([a.counters.runOnce(), b.counters.runOnce()]);
    expect(await deltas()).toBe(0);
    expect(await counted()).toEqual(expected);
  });
});
