import type { DataSource } from 'typeorm';
import { loadConfig } from '../../../config/config.schema';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { composeServices, type Services } from '../../../server/compose';
import { fromSqlDate } from '../../../server/db/sql';
import type { JourneyDefinition } from '../../../server/modules/journeys/journey-definition';
import { describeEachDatabase, useSecondInstance } from '../../support/database';

const actor = { operatorId: null, ip: null };
const DAY_MS = 86_400_000;

function compose(dataSource: DataSource, clock: ManualClock, holder: string): Services {
  return composeServices({
    config: loadConfig({ SANDBOX: 'on', LOG_LEVEL: 'silent' }),
    dataSource,
    clock,
    logger: createLogger('silent'),
    holder,
    apiBases: { wechat: 'http://127.0.0.1:9/wechat', wecom: 'http://127.0.0.1:9/wecom' },
  });
}

const twoSteps = (reentry: JourneyDefinition['reentry'] = 'after_exit'): JourneyDefinition => ({
  entry: { kind: 'manual' },
  reentry,
  start: 'push',
  goal: { type: 'text', matchKind: 'keyword_exact', matchValue: '下单' },
  nodes: [
    {
      id: 'push',
      type: 'send',
      channel: 'oa_template',
      templateId: 'tpl',
      data: { thing1: '你好' },
      url: 'https://example.com/a',
      purpose: 'marketing',
      next: 'wait',
    },
    { id: 'wait', type: 'wait', mode: 'duration', seconds: 86_400, next: 'split' },
    {
      id: 'split',
      type: 'split',
      holdoutPercent: 10,
      branches: [
        { weight: 1, next: 'tag' },
        { weight: 1, next: 'end' },
      ],
    },
    {
      id: 'tag',
      type: 'action',
      actions: [
        { kind: 'add_tags', tags: [{ group: '旅程', name: 'B组' }] },
        { kind: 'add_score', points: 5 },
      ],
      next: 'end',
    },
    { id: 'end', type: 'exit' },
  ],
});

describeEachDatabase('the journey engine', (db) => {
  const second = useSecondInstance(db);
  let clock: ManualClock;
  let a: Services;

  beforeEach(() => {
    clock = new ManualClock(new Date('2026-12-01T02:00:00.000Z'));
    a = compose(db().dataSource, clock, 'instance-a');
  });

  const makeContacts = async (n: number): Promise<number[]> => {
    const ids: number[] = [];
    for (let i = 0; i < n; i += 1) {
      await db().dataSource.query("INSERT INTO contacts (score, stage, created_at, updated_at) VALUES (0, 'acquired', ?, ?)", [
        '2026-11-01 00:00:00.000',
        '2026-11-01 00:00:00.000',
      ]);
      const [row]: { id: number }[] = await db().dataSource.query('SELECT MAX(id) AS id FROM contacts');
      ids.push(Number(row.id));
    }
    return ids;
  };
  const published = async (definition: JourneyDefinition, name = 'j') => {
    const created = await a.journeys.createJourney({ name, definition, actor });
    if (!created.ok) throw new Error(JSON.stringify(created));
    const done = await a.journeys.publish({ id: created.value.id, actor });
    if (!done.ok) throw new Error(JSON.stringify(done));
    return created.value.id;
  };
  // A second instance: its own connections to the same database. SQLite runs one instance (one
  // writer, docs/ARCHITECTURE.md "Scale-out"), so there the same instance races itself.
  const instanceB = () => (db().config.kind === 'sqlite' ? a : compose(second(), clock, 'instance-b'));
  const count = async (sql: string, params: unknown[] = []) => Number((await db().dataSource.query<{ n: number }[]>(sql, params))[0].n);

  it('two instances advance 300 runs together: every run moves once, one outbox row and one step per node', async () => {
    const id = await published(twoSteps());
    const contacts = await makeContacts(300);
    expect(await a.journeys.enroll({ id, contactIds: contacts, actor })).toEqual({ ok: true, value: { enrolled: 300, skipped: 0 } });
    const b = instanceB();
    const [left, right] = await Promise.all([a.journeyEngine.advanceDue(), b.journeyEngine.advanceDue()]);
    expect(left + right).toBe(300);
    expect(await count("SELECT COUNT(*) AS n FROM outbox_messages WHERE source_type = 'journey'")).toBe(300);
    expect(await count("SELECT COUNT(*) AS n FROM journey_runs WHERE state = 'waiting' AND node_id = 'wait'")).toBe(300);
    expect(await count('SELECT COUNT(*) AS n FROM journey_steps')).toBe(600);
    // Nothing is due until the wait ends; a replay moves nothing.
    expect(await a.journeyEngine.advanceDue()).toBe(0);

    clock.advance(DAY_MS);
    const [l2, r2] = await Promise.all([a.journeyEngine.advanceDue(), b.journeyEngine.advanceDue()]);
    expect(l2 + r2).toBe(300);
    const ended: { outcome: string; n: number }[] = await db().dataSource.query(
      'SELECT outcome, COUNT(*) AS n FROM journey_runs GROUP BY outcome',
    );
    const byOutcome = Object.fromEntries(ended.map((r) => [r.outcome, Number(r.n)]));
    // The split is sticky per contact: roughly 10% held out, the rest in two halves.
    expect(byOutcome.holdout + byOutcome.exit).toBe(300);
    expect(byOutcome.holdout).toBeGreaterThan(10);
    expect(byOutcome.holdout).toBeLessThan(60);
    const tagged = await count("SELECT COUNT(*) AS n FROM journey_steps WHERE node_id = 'tag'");
    expect(await count('SELECT COUNT(DISTINCT contact_id) AS n FROM score_ledger')).toBe(tagged);
    expect(await count('SELECT COUNT(*) AS n FROM contact_tags')).toBe(tagged);
    const stats = await a.journeys.stats(id);
    expect(stats.ok && stats.value.nodes.find((n) => n.id === 'wait')).toEqual({
      id: 'wait',
      type: 'wait',
      entered: 300,
      waiting: 0,
      completed: 300,
      // A wait sends nothing; no run ended on it.
      sent: 0,
      delivered: 0,
      opened: 0,
      converted: 0,
      exited: 0,
    });
  });

  it('re-entry is decided by unique keys: two instances enrolling one contact at once make one run (never)', async () => {
    const id = await published(twoSteps('never'));
    const [contact] = await makeContacts(1);
    const b = instanceB();
    const results = await Promise.all([
      a.journeys.enroll({ id, contactIds: [contact], actor }),
      b.journeys.enroll({ id, contactIds: [contact], actor }),
      a.journeys.enroll({ id, contactIds: [contact], actor }),
    ]);
    expect(results.map((r) => (r.ok ? r.value.enrolled : -1)).sort()).toEqual([0, 0, 1]);
    await a.journeyEngine.advanceDue();
    clock.advance(DAY_MS);
    await a.journeyEngine.advanceDue();
    // Policy never: even after the run ended, no second entry.
    expect(await a.journeys.enroll({ id, contactIds: [contact], actor })).toEqual({ ok: true, value: { enrolled: 0, skipped: 1 } });
    expect(await count('SELECT COUNT(*) AS n FROM journey_runs')).toBe(1);
  });

  it('pause stops runs and refuses entries; resume moves them on', async () => {
    const id = await published(twoSteps());
    const contacts = await makeContacts(3);
    await a.journeys.enroll({ id, contactIds: contacts.slice(0, 2), actor });
    expect((await a.journeys.setPaused({ id, paused: true, actor })).ok).toBe(true);
    expect(await a.journeyEngine.advanceDue()).toBe(0);
    expect(await a.journeys.enroll({ id, contactIds: [contacts[2]], actor })).toMatchObject({ ok: false, code: 'journey_not_active' });
    expect((await a.journeys.setPaused({ id, paused: false, actor })).ok).toBe(true);
    expect(await a.journeyEngine.advanceDue()).toBe(2);
  });

  it('a new version takes new entries; runs inside finish on theirs', async () => {
    const id = await published(twoSteps());
    const [first, later] = await makeContacts(2);
    await a.journeys.enroll({ id, contactIds: [first], actor });
    await a.journeyEngine.advanceDue();
    const v2 = twoSteps();
    v2.nodes[1] = { id: 'wait2', type: 'wait', mode: 'duration', seconds: 3_600, next: 'end' };
    v2.nodes[0] = { ...v2.nodes[0], next: 'wait2' } as JourneyDefinition['nodes'][number];
    expect(await a.journeys.saveVersion({ id, definition: v2, actor })).toMatchObject({ ok: true, value: { version: 2 } });
    expect(await a.journeys.publish({ id, actor })).toMatchObject({ ok: true, value: { version: 2 } });
    await a.journeys.enroll({ id, contactIds: [later], actor });
    await a.journeyEngine.advanceDue();
    const runs: { contact_id: number; version: number; node_id: string }[] = await db().dataSource.query(
      'SELECT contact_id, version, node_id FROM journey_runs ORDER BY contact_id',
    );
    expect(runs.map((r) => [Number(r.contact_id), Number(r.version), r.node_id])).toEqual([
      [first, 1, 'wait'],
      [later, 2, 'wait2'],
    ]);
    clock.advance(DAY_MS);
    await a.journeyEngine.advanceDue();
    expect(await count('SELECT COUNT(*) AS n FROM journey_runs WHERE ended_at IS NOT NULL')).toBe(2);
    const one = await a.journeys.getJourney(id);
    expect(one.ok && one.value.versions.map((v) => v.version)).toEqual([2, 1]);
  });

  it('the goal ends a run as converted, through the reaction to the interaction', async () => {
    const id = await published(twoSteps());
    const [contact] = await makeContacts(1);
    await a.journeys.enroll({ id, contactIds: [contact], actor });
    await a.journeyEngine.advanceDue();
    await a.transactor.run((m) =>
      a.interactions.recordInteraction(m, {
        type: 'text',
        channel: 'oa',
        occurredAt: clock.now(),
        detail: { content: '下单' },
        identity: null,
        contactId: contact,
        dedupeKey: 'test:order:1',
      }),
    );
    await a.reactions.processDue();
    const stats = await a.journeys.stats(id);
    expect(stats.ok && stats.value.totals).toMatchObject({ entered: 1, converted: 1 });
    expect(await a.journeyEngine.advanceDue()).toBe(0);
  });

  it('enters on a matching interaction and on segment_entered, once per cause, and waits until a time of day', async () => {
    const byKeyword: JourneyDefinition = {
      entry: { kind: 'interaction', matcher: { type: 'text', matchKind: 'keyword_contains', matchValue: '优惠' } },
      reentry: 'always',
      start: 'morning',
      goal: null,
      nodes: [
        { id: 'morning', type: 'wait', mode: 'until_time', time: '09:00', next: 'check' },
        {
          id: 'check',
          type: 'condition',
          condition: {
            kind: 'all',
            of: [
              { kind: 'channel_reached', channel: 'oa' },
              { kind: 'tags', none: [{ group: '旅程', name: '黑名单' }] },
            ],
          },
          then: 'end',
          else: 'out',
        },
        { id: 'end', type: 'exit' },
        { id: 'out', type: 'exit' },
      ],
    };
    const keywordJourney = await published(byKeyword, 'keyword');
    const bySegment = await published({ ...twoSteps(), entry: { kind: 'segment_entered', segmentId: 9 } }, 'segment');
    const [contact] = await makeContacts(1);
    const record = (type: string, direction: 'in' | 'out', detail: Record<string, string | number>, key: string) =>
      a.transactor.run((m) =>
        a.interactions.recordInteraction(m, {
          type,
          channel: 'oa',
          direction,
          occurredAt: clock.now(),
          detail,
          identity: null,
          contactId: contact,
          dedupeKey: key,
        }),
      );
    await record('text', 'in', { content: '有优惠吗' }, 'test:msg:1');
    await record('text', 'in', { content: '你好' }, 'test:msg:2');
    await record('segment_entered', 'out', { segmentId: 9 }, 'segment:9:in:1');
    await record('segment_entered', 'out', { segmentId: 8 }, 'segment:8:in:1');
    await a.reactions.processDue();
    // A replayed work row enters nobody again.
    await db().dataSource.query("UPDATE reaction_work SET status = 'pending'");
    await a.reactions.processDue();
    const runs: { journey_id: number }[] = await db().dataSource.query('SELECT journey_id FROM journey_runs ORDER BY journey_id');
    expect(runs.map((r) => Number(r.journey_id))).toEqual([keywordJourney, bySegment]);

    // 02:00 UTC is 10:00 in Shanghai: the wait ends at 09:00 the next morning (01:00 UTC).
    await a.journeyEngine.advanceDue();
    const [waiting]: { next_due_at: unknown }[] = await db().dataSource.query('SELECT next_due_at FROM journey_runs WHERE journey_id = ?', [
      keywordJourney,
    ]);
    expect(fromSqlDate(waiting.next_due_at).toISOString()).toBe('2026-12-02T01:00:00.000Z');
    clock.set(new Date('2026-12-02T01:00:00.000Z'));
    await a.journeyEngine.advanceDue();
    // No Official Account identity: the condition's else branch.
    const [ended]: { node_id: string }[] = await db().dataSource.query('SELECT node_id FROM journey_runs WHERE journey_id = ?', [
      keywordJourney,
    ]);
    expect(ended.node_id).toBe('out');
  });

  it('a run whose contact was merged acts on the survivor', async () => {
    const id = await published(twoSteps());
    const [survivor, merged] = await makeContacts(2);
    await a.journeys.enroll({ id, contactIds: [merged], actor });
    await db().dataSource.query('UPDATE contacts SET merged_into_id = ? WHERE id = ?', [survivor, merged]);
    await a.journeyEngine.advanceDue();
    const rows: { contact_id: number }[] = await db().dataSource.query('SELECT contact_id FROM outbox_messages');
    expect(rows.map((r) => Number(r.contact_id))).toEqual([survivor]);
  });

  it('a journey’s tag actions name the journey in the tag history and on the timeline, as its stage moves do', async () => {
    const id = await published(
      {
        entry: { kind: 'manual' },
        reentry: 'after_exit',
        start: 'tag',
        nodes: [
          {
            id: 'tag',
            type: 'action',
            actions: [
              { kind: 'add_tags', tags: [{ group: '旅程', name: '已唤醒' }] },
              { kind: 'set_stage', stage: 'activated' },
            ],
            next: 'untag',
          },
          { id: 'untag', type: 'action', actions: [{ kind: 'remove_tags', tags: [{ group: '旅程', name: '已唤醒' }] }], next: 'end' },
          { id: 'end', type: 'exit' },
        ],
      },
      '沉默唤醒',
    );
    const [contactId] = await makeContacts(1);
    await a.journeys.enroll({ id, contactIds: [contactId], actor });
    await a.journeyEngine.advanceDue();
    const changes: { op: string; actor_kind: string; actor_id: number | string; actor_name: string; cause: string }[] =
      await db().dataSource.query('SELECT op, actor_kind, actor_id, actor_name, cause FROM contact_tag_changes ORDER BY id');
    expect(changes.map((c) => ({ ...c, actor_id: Number(c.actor_id) }))).toEqual([
      { op: 'add', actor_kind: 'journey', actor_id: id, actor_name: '沉默唤醒', cause: 'journey' },
      { op: 'remove', actor_kind: 'journey', actor_id: id, actor_name: '沉默唤醒', cause: 'journey' },
    ]);
    const page = await a.timeline.listTimeline({ contactId, scope: { kind: 'all' }, limit: 10, kinds: ['tag_change', 'stage_change'] });
    expect(page?.items.map((item) => (item.kind === 'interaction' || item.kind === 'score' ? null : item.actor))).toEqual([
      { kind: 'journey', id, name: '沉默唤醒' },
      { kind: 'journey', id, name: '沉默唤醒' },
      { kind: 'journey', id, name: '沉默唤醒' },
    ]);
  });

  it('an mp_subscribe send carries the mini-program page, state and language, never a url; a url there is refused', async () => {
    const send = {
      id: 'push',
      type: 'send' as const,
      channel: 'mp_subscribe' as const,
      templateId: 'tpl',
      data: { thing1: '积分到账' },
      page: 'pages/points/index?from=journey',
      miniprogramState: 'trial' as const,
      lang: 'zh_CN' as const,
      purpose: 'marketing' as const,
      next: 'end',
    };
    const definition: JourneyDefinition = {
      entry: { kind: 'manual' },
      reentry: 'after_exit',
      start: 'push',
      nodes: [send, { id: 'end', type: 'exit' }],
    };
    const id = await published(definition);
    const [contactId] = await makeContacts(1);
    await a.journeys.enroll({ id, contactIds: [contactId], actor });
    await a.journeyEngine.advanceDue();
    const [row]: { channel: string; payload: string | Record<string, unknown> }[] = await db().dataSource.query(
      'SELECT channel, payload FROM outbox_messages',
    );
    expect(row.channel).toBe('mp_subscribe');
    expect(typeof row.payload === 'string' ? (JSON.parse(row.payload) as unknown) : row.payload).toEqual({
      template_id: 'tpl',
      page: 'pages/points/index?from=journey',
      miniprogram_state: 'trial',
      lang: 'zh_CN',
      data: { thing1: { value: '积分到账' } },
    });

    const withUrl = await a.journeys.createJourney({
      name: 'url',
      definition: {
        ...definition,
        nodes: [
          { ...send, url: 'https://example.com/a' },
          { id: 'end', type: 'exit' },
        ],
      },
      actor,
    });
    expect(withUrl.ok).toBe(false);
    expect(JSON.stringify(withUrl)).toContain('journey_url_not_for_channel');
    const asUrl = await a.journeys.createJourney({
      name: 'page-url',
      definition: {
        ...definition,
        nodes: [
          { ...send, page: 'https://example.com/a' },
          { id: 'end', type: 'exit' },
        ],
      },
      actor,
    });
    expect(asUrl.ok).toBe(false);
    expect(JSON.stringify(asUrl)).toContain('nodes.0.page');
  });
});
