import type { DataSource } from 'typeorm';
import { loadConfig } from '../../../config/config.schema';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { composeServices, type Services } from '../../../server/compose';
import { fromSqlDate } from '../../../server/db/sql';
import type { JourneyDefinition } from '../../../server/modules/journeys/journey-definition';
import { describeEachDatabase, untilSomeoneWaitsForALock, useSecondInstance } from '../../support/database';

const actor = { operatorId: null, ip: '127.0.0.1' };
const DAY_MS = 86_400_000;

function compose(dataSource: DataSource, clock: ManualClock): Services {
  return composeServices({
    config: loadConfig({ SANDBOX: 'on', LOG_LEVEL: 'silent' }),
    dataSource,
    clock,
    logger: createLogger('silent'),
    holder: 'instance-a',
    apiBases: { wechat: 'http://127.0.0.1:9/wechat', wecom: 'http://127.0.0.1:9/wecom' },
  });
}

/** push → wait a day → stage → end; v2 renames the wait and adds a tag before the end. */
const v1 = (): JourneyDefinition => ({
  entry: { kind: 'manual' },
  reentry: 'after_exit',
  start: 'push',
  goal: null,
  nodes: [
    {
      id: 'push',
      type: 'send',
      channel: 'oa_template',
      templateId: 'tpl',
      data: { thing1: '你好' },
      purpose: 'marketing',
      next: 'wait',
    },
    { id: 'wait', type: 'wait', mode: 'duration', seconds: 86_400, next: 'stage' },
    { id: 'stage', type: 'action', actions: [{ kind: 'set_stage', stage: 'retained' }], next: 'end' },
    { id: 'end', type: 'exit' },
  ],
});
const v2 = (): JourneyDefinition => ({
  ...v1(),
  nodes: [
    { ...v1().nodes[0], next: 'pause' } as JourneyDefinition['nodes'][number],
    { id: 'pause', type: 'wait', mode: 'duration', seconds: 3_600, next: 'tag' },
    { id: 'tag', type: 'action', actions: [{ kind: 'add_tags', tags: [{ group: '旅程', name: '新版本' }] }], next: 'end' },
    { id: 'end', type: 'exit' },
  ],
});

describeEachDatabase('journey versions: publishing with a mapping, and who moved a stage', (db) => {
  const second = useSecondInstance(db);
  let clock: ManualClock;
  let a: Services;

  beforeEach(() => {
    clock = new ManualClock(new Date('2026-12-01T02:00:00.000Z'));
    a = compose(db().dataSource, clock);
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
  const runs = async () =>
    (
      await db().dataSource.query<{ contact_id: number; version: number; node_id: string; state: string; step_seq: number }[]>(
        'SELECT contact_id, version, node_id, state, step_seq FROM journey_runs ORDER BY contact_id',
      )
    ).map((r) => [Number(r.contact_id), Number(r.version), r.node_id, r.state, Number(r.step_seq)]);

  it('moves the runs waiting in the old version onto the new one, node by node, and they go on there', async () => {
    const id = await published(v1());
    const contacts = await makeContacts(3);
    await a.journeys.enroll({ id, contactIds: contacts, actor });
    await a.journeyEngine.advanceDue();
    expect((await a.journeys.waitingRuns(id)).ok && (await a.journeys.waitingRuns(id))).toEqual({
      ok: true,
      value: [{ version: 1, nodeId: 'wait', count: 3 }],
    });
    expect(await a.journeys.saveVersion({ id, definition: v2(), actor })).toMatchObject({ ok: true, value: { version: 2 } });

    const published2 = await a.journeys.publish({ id, actor, migrate: { fromVersion: 1, nodes: { wait: 'pause' } } });
    expect(published2).toEqual({ ok: true, value: { id, version: 2, status: 'active', migrated: 3 } });
    // Each moved run: the new version and node, its step counter bumped (an engine batch that read it before fails its guard).
    expect(await runs()).toEqual(contacts.map((c) => [c, 2, 'pause', 'waiting', 3]));
    const steps: { node_id: string; seq: number; outcome: string | null; left: number }[] = await db().dataSource.query(
      'SELECT node_id, seq, outcome, CASE WHEN left_at IS NULL THEN 0 ELSE 1 END AS `left` FROM journey_steps WHERE run_id = (SELECT MIN(id) FROM journey_runs) ORDER BY seq',
    );
    expect(steps.map((s) => [s.node_id, Number(s.seq), s.outcome, Number(s.left)])).toEqual([
      ['push', 0, 'sent', 1],
      ['wait', 1, 'migrated', 1],
      ['pause', 2, null, 0],
    ]);
    // They keep the time they were due (the old wait's day), then follow the new version's edges.
    const [due]: { next_due_at: unknown }[] = await db().dataSource.query('SELECT next_due_at FROM journey_runs LIMIT 1');
    expect(fromSqlDate(due.next_due_at).toISOString()).toBe('2026-12-02T02:00:00.000Z');
    clock.advance(DAY_MS);
    expect(await a.journeyEngine.advanceDue()).toBe(3);
    expect(await runs()).toEqual(contacts.map((c) => [c, 2, 'end', 'exited', 5]));
    const [tagged]: { n: number }[] = await db().dataSource.query('SELECT COUNT(*) AS n FROM contact_tags');
    expect(Number(tagged.n)).toBe(3);
    const [staged]: { n: number }[] = await db().dataSource.query("SELECT COUNT(*) AS n FROM contacts WHERE stage = 'retained'");
    expect(Number(staged.n)).toBe(0);

    const [audit]: { detail: string }[] = await db().dataSource.query(
      "SELECT detail FROM audit_log WHERE action = 'journey.migrate_runs' AND target_id = ?",
      [String(id)],
    );
    expect(typeof audit.detail === 'string' ? JSON.parse(audit.detail) : audit.detail).toEqual({
      fromVersion: 1,
      toVersion: 2,
      nodes: ['wait→pause'],
      moved: 3,
    });
  });

  it('a run another instance moves while the publish waits for its lock stays where that move put it (MySQL row locks)', async () => {
    if (db().config.kind === 'sqlite') return; // One writer: nothing runs between the publish's statements.
    const id = await published(v1());
    const [held, free] = await makeContacts(2);
    await a.journeys.enroll({ id, contactIds: [held, free], actor });
    await a.journeyEngine.advanceDue();
    await a.journeys.saveVersion({ id, definition: v2(), actor });
    const [run]: { id: number }[] = await db().dataSource.query('SELECT id FROM journey_runs WHERE contact_id = ?', [held]);
    // Another instance's engine holds the run, as its claim does, and ends it.
    const engine = second().createQueryRunner();
    await engine.connect();
    await engine.startTransaction();
    try {
      await engine.query('SELECT id FROM journey_runs WHERE id = ? FOR UPDATE', [run.id]);
      const publishing = a.journeys.publish({ id, actor, migrate: { fromVersion: 1, nodes: { wait: 'pause' } } });
      await untilSomeoneWaitsForALock(db().dataSource);
      await engine.query(
        "UPDATE journey_runs SET node_id = 'end', state = 'exited', step_seq = step_seq + 2, next_due_at = NULL WHERE id = ? AND step_seq = 2",
        [run.id],
      );
      await engine.commitTransaction();
      expect(await publishing).toEqual({ ok: true, value: { id, version: 2, status: 'active', migrated: 1 } });
    } finally {
      if (engine.isTransactionActive) await engine.rollbackTransaction();
      await engine.release();
    }
    expect(await runs()).toEqual([
      [held, 1, 'end', 'exited', 4],
      [free, 2, 'pause', 'waiting', 3],
    ]);
    // Its steps were not touched by the move either: none opened at `pause`, none closed as migrated.
    const [touched]: { n: number }[] = await db().dataSource.query(
      "SELECT COUNT(*) AS n FROM journey_steps WHERE run_id = ? AND (node_id = 'pause' OR outcome = 'migrated')",
      [run.id],
    );
    expect(Number(touched.n)).toBe(0);
  });

  it('refuses a mapping that leaves waiting runs behind or lands them on the wrong kind of node, and publishes nothing', async () => {
    const id = await published(v1());
    const contacts = await makeContacts(2);
    await a.journeys.enroll({ id, contactIds: contacts, actor });
    await a.journeyEngine.advanceDue();
    await a.journeys.saveVersion({ id, definition: v2(), actor });

    expect(await a.journeys.publish({ id, actor, migrate: { fromVersion: 1, nodes: {} } })).toEqual({
      ok: false,
      reason: 'invalid',
      issues: [
        {
          path: 'migrate.nodes.wait',
          code: 'journey_migration_unmapped',
          message: 'node "wait" of version 1 has 2 waiting runs and no node of version 2 to move to',
          params: { node: 'wait', count: 2 },
        },
      ],
    });
    expect(await a.journeys.publish({ id, actor, migrate: { fromVersion: 1, nodes: { wait: 'tag' } } })).toMatchObject({
      ok: false,
      reason: 'invalid',
      issues: [{ path: 'migrate.nodes.wait', code: 'journey_migration_incompatible', params: { node: 'wait', target: 'tag' } }],
    });
    expect(await a.journeys.publish({ id, actor, migrate: { fromVersion: 1, nodes: { wait: 'nowhere' } } })).toMatchObject({
      ok: false,
      issues: [{ path: 'migrate.nodes.wait', code: 'journey_unknown_node', params: { node: 'nowhere' } }],
    });
    expect(await a.journeys.publish({ id, actor, migrate: { fromVersion: 2, nodes: {} } })).toMatchObject({
      ok: false,
      issues: [{ path: 'migrate.fromVersion', code: 'journey_migration_version' }],
    });
    const one = await a.journeys.getJourney(id);
    expect(one.ok && one.value.publishedVersion).toBe(1);
    expect(await runs()).toEqual(contacts.map((c) => [c, 1, 'wait', 'waiting', 2]));

    // Without a mapping the runs finish on version 1, and the stage they reach names the journey that moved it.
    expect(await a.journeys.publish({ id, actor })).toEqual({ ok: true, value: { id, version: 2, status: 'active' } });
    clock.advance(DAY_MS);
    await a.journeyEngine.advanceDue();
    expect(await runs()).toEqual(contacts.map((c) => [c, 1, 'end', 'exited', 4]));
    const changes: { contact_id: number; to_stage: string; actor_kind: string; actor_id: number; actor_name: string }[] =
      await db().dataSource.query(
        'SELECT contact_id, to_stage, actor_kind, actor_id, actor_name FROM contact_stage_changes ORDER BY contact_id',
      );
    expect(changes.map((c) => [Number(c.contact_id), c.to_stage, c.actor_kind, Number(c.actor_id), c.actor_name])).toEqual(
      contacts.map((c) => [c, 'retained', 'journey', id, 'j']),
    );
  });
});
