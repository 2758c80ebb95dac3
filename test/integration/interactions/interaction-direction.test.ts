import { Contact } from '../../../entities/contact.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { createLogger } from '../../../server/adapters/logger';
import { createActivityReaction } from '../../../server/modules/contacts/activity.reaction';
import {
  InteractionsService,
  InvalidInteractionError,
  type InteractionDraft,
} from '../../../server/modules/interactions/interactions.service';
import { reactionsWant, type Reaction } from '../../../server/modules/reactions/reaction';
import { ReactionsWorker } from '../../../server/modules/reactions/reactions.worker';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

const DAY_MS = 86_400_000;

describeEachDatabase('interaction direction: what was sent is on the timeline, not a sign of life', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const m = () => db().dataSource.manager;
  const appId = () => stack.config.officialAccount.appId;
  const inbound = (openid: string, at: Date, key: string): InteractionDraft => ({
    type: 'text',
    channel: 'oa',
    occurredAt: at,
    detail: { openid, content: 'hi' },
    identity: { kind: 'oa_openid', appId: appId(), value: openid },
    dedupeKey: `oa:test:${key}`,
  });
  /** A send to a contact and what became of it (the outbox's types: no registered reaction asks for them). */
  const outbound = (contactId: number, type: string, at: Date, key: string): InteractionDraft => ({
    type,
    channel: 'oa',
    direction: 'out',
    occurredAt: at,
    detail: { template: 'offer' },
    identity: null,
    contactId,
    dedupeKey: `outbox:test:${key}`,
  });
  const record = (drafts: InteractionDraft[], service: InteractionsService = stack.services.interactions) =>
    stack.services.transactor.run((t) => service.recordInteractions(t, drafts));

  it('1,000 sends to a silent contact write no work row and leave their last interaction, stage and the active count alone', async () => {
    const s = stack.services;
    const firstDay = stack.clock.now();
    const [{ contactId }] = await record([inbound('o_quiet', firstDay, 'hello')]);
    const id = contactId ?? 0;
    // Inbound as before: a work row, and the reactions move the last interaction and the stage.
    expect(await m().countBy(ReactionWork, {})).toBe(1);
    expect(await s.reactions.processDue()).toBe(1);
    const before = await m().findOneByOrFail(Contact, { id });
    expect(before.lastInteractionAt).toEqual(firstDay);
    expect(before.stage).toBe('activated');

    stack.clock.advance(40 * DAY_MS);
    const statsBefore = await s.stats.getStats({ days: 7, silentDays: 30 });
    expect(statsBefore.activity).toMatchObject({ active: 0, silent: 1 });
    const sentAt = stack.clock.now();
    const sends = Array.from({ length: 1_000 }, (_, i) =>
      outbound(id, i % 2 === 0 ? 'message_sent' : 'message_delivered', new Date(sentAt.getTime() + i), `send:${i}`),
    );
    const results = await record(sends);
    expect(results.every((r) => r.recorded && r.contactId === id)).toBe(true);

    // On the timeline, as sent: direction out.
    expect(await m().countBy(Interaction, { contactId: id, direction: 'out' })).toBe(1_000);
    expect(await m().countBy(Interaction, { contactId: id, direction: 'in' })).toBe(1);
    const timeline = await s.timeline.listTimeline({ contactId: id, scope: { kind: 'all' }, limit: 1_001, kinds: ['interaction'] });
    expect(timeline?.items.map((i) => (i.kind === 'interaction' ? i.direction : i.kind))).toEqual([
      ...Array<string>(1_000).fill('out'),
      'in',
    ]);
    // No reaction asks for them: no work row, nothing for the worker.
    expect(await m().countBy(ReactionWork, {})).toBe(1);
    expect(await s.reactions.processDue()).toBe(0);
    const after = await m().findOneByOrFail(Contact, { id });
    expect(after.lastInteractionAt).toEqual(firstDay);
    expect(after.stage).toBe(before.stage);
    const statsAfter = await s.stats.getStats({ days: 7, silentDays: 30 });
    expect(statsAfter.activity).toEqual(statsBefore.activity);
    // The dashboard's interactions are what customers did: the sends are not among them.
    expect(statsAfter.interactions).toEqual(statsBefore.interactions);
    expect(statsAfter.headline.interactionsToday).toEqual(statsBefore.headline.interactionsToday);

    // The contact writing back is a sign of life again.
    const [back] = await record([inbound('o_quiet', stack.clock.now(), 'back')]);
    expect(back.contactId).toBe(id);
    expect(await s.reactions.processDue()).toBe(1);
    expect((await m().findOneByOrFail(Contact, { id })).lastInteractionAt).toEqual(stack.clock.now());
    expect((await s.stats.getStats({ days: 7, silentDays: 30 })).activity).toMatchObject({ active: 1, silent: 0 });
  });

  it('a sent type a registered reaction asks for gets work rows, and only that reaction is given it', async () => {
    const s = stack.services;
    const seen: string[] = [];
    const deliveries: Reaction = {
      name: 'deliveries',
      handles: { directions: ['out'], types: ['template_delivered'] },
      prepare: (interaction) => Promise.resolve(() => Promise.resolve(void seen.push(interaction.dedupeKey))),
    };
    const reactions = [createActivityReaction({ contacts: s.contacts }), deliveries];
    const interactions = new InteractionsService({ clock: stack.clock, contacts: s.contacts, wantsWork: reactionsWant(reactions) });
    const worker = new ReactionsWorker({
      dataSource: db().dataSource,
      transactor: s.transactor,
      contacts: s.contacts,
      reactions,
      clock: stack.clock,
      logger: createLogger('silent'),
      holder: 'direction',
    });

    const [{ contactId }] = await record([inbound('o_sent', stack.clock.now(), 'first')], interactions);
    const id = contactId ?? 0;
    expect(await worker.processDue()).toBe(1);
    const firstAt = (await m().findOneByOrFail(Contact, { id })).lastInteractionAt;

    stack.clock.advance(DAY_MS);
    const at = stack.clock.now();
    await record(
      [
        outbound(id, 'template_send', at, 'a:send'),
        outbound(id, 'template_delivered', at, 'a:delivered'),
        outbound(id, 'template_send', at, 'b:send'),
        outbound(id, 'template_delivered', at, 'b:delivered'),
      ],
      interactions,
    );
    const work = await m().find(ReactionWork, { order: { id: 'ASC' } });
    expect(work.map((w) => w.dedupeKey)).toEqual(['oa:test:first', 'outbox:test:a:delivered', 'outbox:test:b:delivered']);
    expect(await worker.processDue()).toBe(2);
    expect(seen).toEqual(['outbox:test:a:delivered', 'outbox:test:b:delivered']);
    // The activity reaction (inbound only) was not given them.
    expect((await m().findOneByOrFail(Contact, { id })).lastInteractionAt).toEqual(firstAt);
  });
  it("takes a type's direction from the registry when the caller gives none, and refuses the other one", async () => {
    const [{ contactId }] = await record([inbound('o_reg', stack.clock.now(), 'hello')]);
    const id = contactId ?? 0;
    const bare = (type: string, key: string): InteractionDraft => ({
      type,
      channel: 'oa',
      occurredAt: stack.clock.now(),
      detail: { msgId: key },
      identity: null,
      contactId: id,
      dedupeKey: `oa:test:${key}`,
    });
    // TEMPLATESENDJOBFINISH reports on our send: out. A click on a pushed link: in. A type the
    // registry does not know (a platform push no parser knows): in, as before.
    await record([bare('template_delivered', 'd1'), bare('link_clicked', 'c1'), bare('some_new_push', 'n1')]);
    const rows = await m().find(Interaction, { where: { contactId: id }, order: { id: 'ASC' } });
    expect(rows.map((r) => [r.type, r.direction])).toEqual([
      ['text', 'in'],
      ['template_delivered', 'out'],
      ['link_clicked', 'in'],
      ['some_new_push', 'in'],
    ]);
    await expect(record([{ ...bare('message_sent', 's1'), direction: 'in' }])).rejects.toBeInstanceOf(InvalidInteractionError);
    expect(await m().countBy(Interaction, { type: 'message_sent' })).toBe(0);
  });
});
