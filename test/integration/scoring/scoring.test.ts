import { Contact } from '../../../entities/contact.entity';
import { ContactFollow } from '../../../entities/contact-follow.entity';
import { ContactStageChange } from '../../../entities/contact-stage-change.entity';
import { Operator } from '../../../entities/operator.entity';
import { SalesAssignment } from '../../../entities/sales-assignment.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import { ScoreRule } from '../../../entities/score-rule.entity';
import { createLogger } from '../../../server/adapters/logger';
import { Transactor } from '../../../server/db/transaction';
import type { InteractionDraft } from '../../../server/modules/interactions/interactions.service';
import { ReactionsWorker } from '../../../server/modules/reactions/reactions.worker';
import { ScoreRulesEngine } from '../../../server/modules/scoring/score-rules.engine';
import type { ScoringSettings } from '../../../server/modules/scoring/scoring-settings';
import { DEFAULT_SCORING_SETTINGS } from '../../../server/modules/scoring/scoring-settings';
import { SalesAssignmentService } from '../../../server/modules/sales/sales-assignment.service';
import { SilentCustomersService } from '../../../server/modules/silent-customers/silent-customers.service';
import type { DataSource } from 'typeorm';
import { ManualClock } from '../../../server/adapters/clock';
import { createDataSource } from '../../../server/db/data-source';
import { createTestDatabase, DATABASE_KINDS, describeEachDatabase, useSecondInstance, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

const DAY = 86_400_000;

describeEachDatabase('lead scoring', (db) => {
  let stack: TestStack;
  const second = useSecondInstance(db);
  beforeEach(async () => {
    stack = await startTestStack(db());
    stack.clock.set(new Date('2026-11-23T04:00:00.000Z'));
  });
  afterEach(async () => {
    await stack.close();
  });

  const logger = createLogger('silent');
  /** The reactions this feature adds, after activity and the tag rules (as compose.ts orders them), without platform lookups. */
  const worker = () => {
    const all = stack.services.reactions.reactions;
    return new ReactionsWorker({
      dataSource: db().dataSource,
      transactor: stack.services.transactor,
      contacts: stack.services.contacts,
      reactions: all.filter((r) => ['activity', 'tag-rules', 'lifecycle', 'score-rules', 'silent-customers'].includes(r.name)),
      clock: stack.clock,
      logger,
      holder: 'scoring-test',
    });
  };
  let seq = 0;
  const record = async (openid: string, type: string, detail: Record<string, string | null> = {}, at = stack.clock.now()) => {
    seq += 1;
    const draft: InteractionDraft = {
      type,
      channel: 'oa',
      occurredAt: at,
      detail: { openid, ...detail },
      identity: { kind: 'oa_openid', appId: stack.config.officialAccount.appId, value: openid },
      dedupeKey: `oa:test:${openid}:${type}:${seq}`,
    };
    const result = await stack.services.transactor.run((m) => stack.services.interactions.recordInteraction(m, draft));
    return result.contactId ?? 0;
  };
  const contact = (id: number) => db().dataSource.manager.findOneByOrFail(Contact, { id });
  const ledger = (contactId: number) => db().dataSource.manager.find(ScoreLedger, { where: { contactId }, order: { id: 'ASC' } });
  const addRule = async (rule: Partial<ScoreRule> & Pick<ScoreRule, 'name' | 'kind' | 'points'>) => {
    const result = await stack.services.scoreRules.createScoreRule({
      rule: {
        enabled: true,
        interactionType: null,
        matchKind: 'any',
        matchValue: null,
        attribute: null,
        attributeValue: null,
        dailyCap: null,
        ...rule,
      },
      actor: { operatorId: null, ip: null },
    });
    if (!result.ok) throw new Error(`rule refused: ${JSON.stringify(result)}`);
    return result.value;
  };
  const setSettings = (changes: Partial<ScoringSettings>) =>
    stack.services.scoreRules.updateSettings({
      settings: { ...DEFAULT_SCORING_SETTINGS, ...changes },
      actor: { operatorId: null, ip: null },
    });
  const addSalesOperator = async (username: string, wecomUserId: string) => {
    const now = new Date();
    const inserted = await db().dataSource.manager.insert(Operator, {
      username,
      displayName: null,
      passwordHash: 'x',
      role: 'sales',
      wecomUserId,
      disabled: false,
      mustChangePassword: false,
      createdAt: now,
      updatedAt: now,
    });
    return Number(inserted.identifiers[0].id);
  };
  const messagesSent = () =>
    stack.sandbox.state.callsTo('message/send').map((call) => call.body as { touser: string; text: { content: string } });

  it('a behaviour rule scores what its matcher recognises, beside the tag rules’ own points, once per interaction', async () => {
    await addRule({
      name: '询价',
      kind: 'behaviour',
      interactionType: 'text',
      matchKind: 'keyword_contains',
      matchValue: '价格',
      points: 7,
    });
    const id = await record('o_m', 'subscribe', { scene: 'expo2026' });
    await record('o_m', 'text', { content: '请问价格多少' });
    await record('o_m', 'text', { content: '你好' });
    await worker().processDue();
    const entries = await ledger(id);
    // The default tag rules score the scan subscribe (5) and each message (1); the score rule only the message about the price.
    expect(entries.map((e) => e.points).sort()).toEqual([1, 1, 5, 7]);
    expect(entries.find((e) => e.points === 7)?.dedupeKey).toMatch(/^score_rule:\d+:interaction:\d+$/);
    expect((await contact(id)).score).toBe(14);
  });

  it('a capped rule scores at most its cap per contact per business day, and again the next day; a replay takes no hit', async () => {
    await addRule({ name: '点菜单', kind: 'behaviour', interactionType: 'click', points: 2, dailyCap: 2 });
    const id = await record('o_cap', 'click', { menuKey: 'a' });
    await record('o_cap', 'click', { menuKey: 'b' });
    await record('o_cap', 'click', { menuKey: 'c' });
    // Each click also earns the default tag rule's 1 point, uncapped.
    await worker().processDue();
    expect((await contact(id)).score).toBe(4 + 3);
    stack.clock.advance(DAY);
    await record('o_cap', 'click', { menuKey: 'd' });
    await worker().processDue();
    expect((await contact(id)).score).toBe(6 + 4);
    await db().dataSource.query("UPDATE reaction_work SET status = 'pending'");
    await worker().processDue();
    expect((await contact(id)).score).toBe(6 + 4);
    const [hits]: { n: number | string }[] = await db().dataSource.query('SELECT SUM(hits) AS n FROM score_rule_daily_hits');
    expect(Number(hits.n)).toBe(3);
  });

  it('an attribute rule scores each contact once: in the batch, and by the daily job for a phone typed in later', async () => {
    await addRule({ name: '展会来源', kind: 'attribute', attribute: 'source_prefix', attributeValue: 'expo', points: 3 });
    await addRule({ name: '留了电话', kind: 'attribute', attribute: 'has_phone', points: 4 });
    const expo = await record('o_attr', 'subscribe', { scene: 'expo2026' });
    const plain = await record('o_attr2', 'subscribe', { scene: 'other' });
    // Source runs from the full chain; here first_source is set by hand.
    await db().dataSource.query("UPDATE contacts SET first_source = 'expo2026' WHERE id = ?", [expo]);
    await db().dataSource.query("UPDATE contacts SET first_source = 'other' WHERE id = ?", [plain]);
    await worker().processDue();
    expect((await ledger(expo)).filter((e) => e.reason.startsWith('展会来源'))).toHaveLength(1);
    expect((await ledger(plain)).filter((e) => e.reason.startsWith('展会来源'))).toHaveLength(0);
    await db().dataSource.query("UPDATE contacts SET phone = '13800000000' WHERE id = ?", [plain]);
    await stack.services.scoringDaily.scoreAllAttributes();
    await stack.services.scoringDaily.scoreAllAttributes();
    expect((await ledger(plain)).filter((e) => e.reason.startsWith('留了电话'))).toHaveLength(1);
    expect((await ledger(expo)).filter((e) => e.reason.startsWith('展会来源'))).toHaveLength(1);
  });

  it('half-life decay: every lost point is a ledger entry, once a day, at least one point, never below zero', async () => {
    await setSettings({ decay: { mode: 'half_life', halfLifeDays: 1, pointsPerIdleWeek: 5 }, mqlThreshold: 0 });
    const big = await record('o_big', 'subscribe');
    const small = await record('o_small', 'subscribe');
    const zero = await record('o_zero', 'subscribe');
    await db().dataSource.query('UPDATE contacts SET score = 100 WHERE id = ?', [big]);
    await db().dataSource.query('UPDATE contacts SET score = 1 WHERE id = ?', [small]);
    expect(await stack.services.scoringDaily.runDecay()).toBe(2);
    expect(await stack.services.scoringDaily.runDecay()).toBe(0);
    expect((await contact(big)).score).toBe(50);
    expect((await contact(small)).score).toBe(0);
    expect((await contact(zero)).score).toBe(0);
    stack.clock.advance(DAY);
    await stack.services.scoringDaily.runDecay();
    expect((await contact(big)).score).toBe(25);
    const entries = await ledger(big);
    expect(entries.map((e) => [e.points, e.reason])).toEqual([
      [-50, 'decay:half_life:1'],
      [-25, 'decay:half_life:1'],
    ]);
  });

  it('idle-week decay: a contact silent for a week loses the points once per week; an active one loses nothing', async () => {
    await setSettings({ decay: { mode: 'idle_weekly', halfLifeDays: 30, pointsPerIdleWeek: 5 }, mqlThreshold: 0 });
    const idle = await record('o_idle', 'text', { content: 'hi' }, new Date(stack.clock.now().getTime() - 10 * DAY));
    const active = await record('o_active', 'text', { content: 'hi' });
    await worker().processDue();
    await db().dataSource.query('UPDATE contacts SET score = 12 WHERE id IN (?, ?)', [idle, active]);
    await stack.services.scoringDaily.runDecay();
    stack.clock.advance(DAY);
    await stack.services.scoringDaily.runDecay();
    expect((await contact(idle)).score).toBe(7);
    expect((await contact(active)).score).toBe(12);
    stack.clock.advance(7 * DAY);
    await stack.services.scoringDaily.runDecay();
    expect((await contact(idle)).score).toBe(2);
    expect((await ledger(idle)).filter((e) => e.reason.startsWith('decay')).map((e) => e.points)).toEqual([-5, -5]);
  });

  it('past the MQL threshold the contact goes to its WeCom rep once per crossing, on the timeline, with one app message each', async () => {
    await setSettings({ mqlThreshold: 10, decay: { mode: 'half_life', halfLifeDays: 1, pointsPerIdleWeek: 5 } });
    await addRule({ name: '咨询', kind: 'behaviour', interactionType: 'text', points: 10 });
    const id = await record('o_mql', 'text', { content: 'hi' });
    await db().dataSource.manager.insert(ContactFollow, {
      contactId: id,
      userId: 'rep_zhang',
      status: 'active',
      state: null,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    await worker().processDue();
    await record('o_mql', 'text', { content: 'again' });
    await worker().processDue();
    await db().dataSource.query("UPDATE reaction_work SET status = 'pending'");
    await worker().processDue();
    const notify = async () => stack.services.queue.runOnce({ handlers: stack.services.sales.handlers() });
    await notify();
    await notify();
    expect(await db().dataSource.manager.find(SalesAssignment)).toMatchObject([
      { contactId: id, userId: 'rep_zhang', reason: 'mql', notifyStatus: 'sent' },
    ]);
    expect(messagesSent()).toHaveLength(1);
    expect(messagesSent()[0].touser).toBe('rep_zhang');
    const timeline = await stack.services.timeline.listTimeline({ contactId: id, scope: { kind: 'all' }, limit: 50 });
    expect(timeline?.items.filter((i) => i.kind === 'interaction' && i.type === 'sales_assigned')).toHaveLength(1);

    // Decay takes it below (20 → 10 → 5), then a message brings it past again: a second crossing.
    await stack.services.scoringDaily.runDecay();
    stack.clock.advance(DAY);
    await stack.services.scoringDaily.runDecay();
    expect((await contact(id)).score).toBe(5);
    await record('o_mql', 'text', { content: 'back' });
    await worker().processDue();
    await notify();
    expect(await db().dataSource.manager.count(SalesAssignment)).toBe(2);
    expect(messagesSent()).toHaveLength(2);
  });

  it('without a WeCom rep, round-robin over active sales operators, its turn shared by two instances', async () => {
    await setSettings({ mqlThreshold: 1 });
    const a = await addSalesOperator('sales_a', 'rep_a');
    const b = await addSalesOperator('sales_b', 'rep_b');
    await addSalesOperator('sales_off', 'rep_off').then((id) => db().dataSource.manager.update(Operator, { id }, { disabled: true }));
    const ids = [];
    for (let i = 0; i < 4; i += 1) ids.push(await record(`o_rr${i}`, 'subscribe'));
    const services = [db().dataSource, second()].map(
      (dataSource) =>
        new SalesAssignmentService({
          dataSource,
          transactor: new Transactor(dataSource),
          clock: stack.clock,
          logger,
          interactions: () => stack.services.interactions,
          queue: stack.services.queue,
          settings: stack.services.scoringSettings,
          agent: null,
        }),
    );
    const assigned = await Promise.all(
      ids.map((contactId, i) => services[i % 2].assign({ contactId, reason: 'journey:1', dedupeKey: `j:${contactId}` })),
    );
    const byRep = new Map<number | null, number>();
    for (const x of assigned) byRep.set(x?.operatorId ?? null, (byRep.get(x?.operatorId ?? null) ?? 0) + 1);
    expect(byRep).toEqual(
      new Map([
        [a, 2],
        [b, 2],
      ]),
    );
    // The same key again: the same assignment, no new one.
    expect(await services[0].assign({ contactId: ids[0], reason: 'journey:1', dedupeKey: `j:${ids[0]}` })).toMatchObject({
      created: false,
    });
    expect(await db().dataSource.manager.count(SalesAssignment)).toBe(4);
  });
});

describeEachDatabase('lifecycle and silent customers', (db) => {
  let stack: TestStack;
  const silentHook: number[][] = [];
  beforeEach(async () => {
    silentHook.length = 0;
    stack = await startTestStack(db());
    stack.clock.set(new Date('2026-11-23T04:00:00.000Z'));
  });
  afterEach(async () => {
    await stack.close();
  });

  const logger = createLogger('silent');
  const worker = () =>
    new ReactionsWorker({
      dataSource: db().dataSource,
      transactor: stack.services.transactor,
      contacts: stack.services.contacts,
      reactions: stack.services.reactions.reactions.filter((r) => ['activity', 'lifecycle', 'silent-customers'].includes(r.name)),
      clock: stack.clock,
      logger,
      holder: 'lifecycle-test',
    });
  let seq = 0;
  const record = async (openid: string, type: string, at = stack.clock.now()) => {
    seq += 1;
    const result = await stack.services.transactor.run((m) =>
      stack.services.interactions.recordInteraction(m, {
        type,
        channel: 'oa',
        occurredAt: at,
        detail: { openid, content: 'hi' },
        identity: { kind: 'oa_openid', appId: stack.config.officialAccount.appId, value: openid },
        dedupeKey: `oa:test:${openid}:${type}:${seq}`,
      }),
    );
    return result.contactId ?? 0;
  };
  /** The daily job with the journeys' hook, as compose.ts builds it when given `onContactsSilent`. */
  const silentJob = () =>
    new SilentCustomersService({
      dataSource: db().dataSource,
      transactor: stack.services.transactor,
      clock: stack.clock,
      logger,
      contactTags: stack.services.contactTags,
      settings: stack.services.scoringSettings,
      onContactsSilent: (ids) => Promise.resolve(void silentHook.push(ids)),
    });
  const stage = async (id: number) => (await db().dataSource.manager.findOneByOrFail(Contact, { id })).stage;
  const history = (contactId: number) => db().dataSource.manager.find(ContactStageChange, { where: { contactId }, order: { id: 'ASC' } });

  it('stage rules move forward only, with history: a message activates, five retain, a subscribe does nothing', async () => {
    const id = await record('o_life', 'subscribe');
    await worker().processDue();
    expect(await stage(id)).toBe('acquired');
    await record('o_life', 'text');
    await worker().processDue();
    expect(await stage(id)).toBe('activated');
    for (let i = 0; i < 4; i += 1) await record('o_life', 'text');
    await worker().processDue();
    expect(await stage(id)).toBe('retained');
    await record('o_life', 'text');
    await worker().processDue();
    expect((await history(id)).map((h) => [h.fromStage, h.toStage, h.actorKind])).toEqual([
      ['acquired', 'activated', 'rule'],
      ['activated', 'retained', 'rule'],
    ]);
  });

  it('an operator sets any stage (audited), a journey too; both are on the timeline', async () => {
    const id = await record('o_op', 'payment');
    await worker().processDue();
    expect(await stage(id)).toBe('revenue');
    expect(
      await stack.services.lifecycle.setStage({ contactId: id, stage: 'acquired', by: { kind: 'operator', id: null, ip: '127.0.0.1' } }),
    ).toMatchObject({
      ok: true,
      from: 'revenue',
      to: 'acquired',
    });
    await stack.services.lifecycle.setStage({ contactId: id, stage: 'referral', by: { kind: 'journey', id: 4, name: '老带新' } });
    const [audit]: { action: string }[] = await db().dataSource.query("SELECT action FROM audit_log WHERE action = 'contact.set_stage'");
    expect(audit).toBeDefined();
    const timeline = await stack.services.timeline.listTimeline({
      contactId: id,
      scope: { kind: 'all' },
      limit: 10,
      kinds: ['stage_change'],
    });
    expect(timeline?.items.map((i) => (i.kind === 'stage_change' ? [i.from, i.to, i.actor.kind] : null))).toEqual([
      ['acquired', 'referral', 'journey'],
      ['revenue', 'acquired', 'operator'],
      ['acquired', 'revenue', 'rule'],
    ]);
    expect(await stack.services.lifecycle.setStage({ contactId: 999_999, stage: 'acquired', by: { kind: 'system' } })).toEqual({
      ok: false,
      reason: 'not_found',
    });
  });

  it('silent customers: tagged after N days without an inbound interaction, handed to the hook once, untagged when they come back', async () => {
    const quiet = await record('o_quiet', 'text', new Date(stack.clock.now().getTime() - 31 * DAY));
    const lively = await record('o_lively', 'text', new Date(stack.clock.now().getTime() - 5 * DAY));
    await worker().processDue();
    expect(await silentJob().tagSilentContacts()).toBe(1);
    expect(await silentJob().tagSilentContacts()).toBe(0);
    expect(silentHook).toEqual([[quiet]]);
    const count = async (sql: string, params: unknown[] = []) => {
      const [row]: { n: number | string }[] = await db().dataSource.query(sql, params);
      return Number(row.n);
    };
    const held = (id: number) =>
      count("SELECT COUNT(*) AS n FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ? AND t.name = '沉默用户'", [
        id,
      ]);
    expect([await held(quiet), await held(lively)]).toEqual([1, 0]);
    // The silent tag's group syncs nowhere: no task was queued for it.
    expect(await count('SELECT COUNT(*) AS n FROM tasks')).toBe(0);
    await record('o_quiet', 'text');
    await worker().processDue();
    expect(await held(quiet)).toBe(0);
    const changes: { op: string; cause: string }[] = await db().dataSource.query(
      'SELECT op, cause FROM contact_tag_changes WHERE contact_id = ? ORDER BY id',
      [quiet],
    );
    expect(changes).toEqual([
      { op: 'add', cause: 'silent' },
      { op: 'remove', cause: 'silent' },
    ]);
  });
});

/** Two instances on one MariaDB: SQLite has one writer, and one instance. */
const mysqlOnly = DATABASE_KINDS.includes('mysql') ? describe : describe.skip;
mysqlOnly('score rule caps across instances [mysql]', () => {
  let database: TestDatabase;
  let other: DataSource;
  const clock = new ManualClock(new Date('2026-11-23T04:00:00.000Z'));
  beforeAll(async () => {
    database = await createTestDatabase('mysql');
    other = await createDataSource(database.config, { poolSize: 5 });
    await other.initialize();
  });
  afterAll(async () => {
    await other.destroy();
    await database.destroy();
  });
  const db = () => database;
  const second = () => other;
  const stack = { clock };

  it('two instances taking a capped rule’s hits at once take no more than the cap between them', async () => {
    const id = 1;
    const engines = [db().dataSource, second()].map((dataSource) => ({
      engine: new ScoreRulesEngine({ dataSource, clock: stack.clock, timezone: 'Asia/Shanghai' }),
      transactor: new Transactor(dataSource),
    }));
    const at = stack.clock.now();
    const tries = Array.from({ length: 10 }, (_, i) => engines[i % 2]).map(({ engine, transactor }) =>
      transactor.runRetrying((m) => engine.takeDailyHit(m, { ruleId: 99, contactId: id, cap: 3, at })),
    );
    const taken = await Promise.all(tries);
    expect(taken.filter(Boolean)).toHaveLength(3);
    const [row]: { hits: number | string }[] = await db().dataSource.query('SELECT hits FROM score_rule_daily_hits WHERE rule_id = 99');
    expect(Number(row.hits)).toBe(3);
  });
});
