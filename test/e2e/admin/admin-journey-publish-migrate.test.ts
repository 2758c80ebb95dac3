import request from 'supertest';
import type { JourneyDefinition } from '../../../server/modules/journeys/journey-definition';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

const actor = { operatorId: null, ip: null };

const v1: JourneyDefinition = {
  entry: { kind: 'manual' },
  reentry: 'after_exit',
  start: 'wait',
  goal: null,
  nodes: [
    { id: 'wait', type: 'wait', mode: 'duration', seconds: 86_400, next: 'end' },
    { id: 'end', type: 'exit' },
  ],
};
const v2: JourneyDefinition = {
  ...v1,
  start: 'pause',
  nodes: [
    { id: 'pause', type: 'wait', mode: 'duration', seconds: 3_600, next: 'end' },
    { id: 'end', type: 'exit' },
  ],
};

/** POST /api/admin/journeys/:id/publish with a `migrate` mapping, and GET …/waiting-runs (issue 14 §3). */
describeEachDatabase('admin API: publishing a journey version with a mapping of waiting runs', (db) => {
  let stack: TestStack;
  let token: string;
  let id: number;

  beforeEach(async () => {
    stack = await startTestStack(db());
    await stack.services.operators.createOperator({ username: 'marketer', password: 'marketer-password', role: 'operator', actor });
    const login = await request(stack.baseUrl).post('/api/admin/login').send({ username: 'marketer', password: 'marketer-password' });
    token = (login.body as { token: string }).token;
    await db().dataSource.query(
      "INSERT INTO contacts (score, stage, created_at, updated_at) VALUES (0, 'acquired', '2026-11-01 00:00:00.000', '2026-11-01 00:00:00.000')",
    );
    const [row]: { id: number }[] = await db().dataSource.query('SELECT MAX(id) AS id FROM contacts');
    const created = await stack.services.journeys.createJourney({ name: '迁移', definition: v1, actor });
    if (!created.ok) throw new Error(JSON.stringify(created));
    id = created.value.id;
    await stack.services.journeys.publish({ id, actor });
    await stack.services.journeys.enroll({ id, contactIds: [Number(row.id)], actor });
    await stack.services.journeyEngine.advanceDue();
    await stack.services.journeys.saveVersion({ id, definition: v2, actor });
  });
  afterEach(async () => {
    await stack.close();
  });

  const post = (path: string, body: object) => request(stack.baseUrl).post(path).set('Authorization', `Bearer ${token}`).send(body);

  it('lists where runs wait, refuses a bad or incomplete mapping naming the node, and moves the runs with a good one', async () => {
    const waiting = await request(stack.baseUrl).get(`/api/admin/journeys/${id}/waiting-runs`).set('Authorization', `Bearer ${token}`);
    expect(waiting.status).toBe(200);
    expect(waiting.body).toEqual({ items: [{ version: 1, nodeId: 'wait', count: 1 }] });

    const shape = await post(`/api/admin/journeys/${id}/publish`, { migrate: { fromVersion: 'one', nodes: {} } }).expect(400);
    expect((shape.body as { error: { details: { path: string }[] } }).error.details.map((d) => d.path)).toEqual(['migrate.fromVersion']);
    const unmapped = await post(`/api/admin/journeys/${id}/publish`, { migrate: { fromVersion: 1, nodes: {} } }).expect(400);
    expect((unmapped.body as { error: { details: unknown[] } }).error.details).toEqual([
      {
        path: 'migrate.nodes.wait',
        code: 'journey_migration_unmapped',
        message: 'node "wait" of version 1 has 1 waiting runs and no node of version 2 to move to',
        params: { node: 'wait', count: 1 },
      },
    ]);

    const moved = await post(`/api/admin/journeys/${id}/publish`, { migrate: { fromVersion: 1, nodes: { wait: 'pause' } } }).expect(200);
    expect(moved.body).toEqual({ id, version: 2, status: 'active', migrated: 1 });
    const after = await request(stack.baseUrl).get(`/api/admin/journeys/${id}/waiting-runs`).set('Authorization', `Bearer ${token}`);
    expect(after.body).toEqual({ items: [{ version: 2, nodeId: 'pause', count: 1 }] });
  });
});
