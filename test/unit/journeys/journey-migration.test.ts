import type { JourneyDefinition } from '../../../server/modules/journeys/journey-definition';
import { checkRunMigration } from '../../../server/modules/journeys/journey-migration';

const def = (nodes: JourneyDefinition['nodes']): JourneyDefinition => ({
  entry: { kind: 'manual' },
  reentry: 'after_exit',
  start: nodes[0].id,
  goal: null,
  nodes,
});
const push = (id: string, next: string): JourneyDefinition['nodes'][number] => ({
  id,
  type: 'send',
  channel: 'oa_template',
  templateId: 't',
  purpose: 'marketing',
  next,
});
const opened = (id: string, node: string): JourneyDefinition['nodes'][number] => ({
  id,
  type: 'wait',
  mode: 'until_opened',
  node,
  timeoutSeconds: 60,
  opened: 'x',
  timeout: 'x',
});
const exit: JourneyDefinition['nodes'][number] = { id: 'x', type: 'exit' };

describe('a mapping of waiting runs onto a new version', () => {
  const from = def([push('a', 'w'), opened('w', 'a'), { id: 'd', type: 'wait', mode: 'duration', seconds: 60, next: 'x' }, exit]);
  const to = def([
    push('a', 'w2'),
    opened('w2', 'a'),
    push('b', 'w3'),
    opened('w3', 'b'),
    { id: 't', type: 'wait', mode: 'until_time', time: '09:00', next: 'x' },
    exit,
  ]);
  const check = (mapping: Record<string, string>, waiting = [{ nodeId: 'w', count: 4 }]) =>
    checkRunMigration({ from, fromVersion: 1, to, toVersion: 2, mapping, waiting });

  it('accepts a wait for an open moved to a wait for the same message, and a timed wait to any timed wait', () => {
    expect(
      check({ w: 'w2', d: 't' }, [
        { nodeId: 'w', count: 4 },
        { nodeId: 'd', count: 1 },
      ]),
    ).toEqual([]);
  });

  it('names the node: unmapped, unknown, or of another kind', () => {
    expect(check({}).map((i) => [i.path, i.code])).toEqual([['migrate.nodes.w', 'journey_migration_unmapped']]);
    expect(check({ w: 'w3' })[0]).toMatchObject({
      code: 'journey_migration_incompatible',
      message: 'node "w" (wait, until_opened) cannot move to "w3" (wait, until_opened): the runs wait for the message of "a", not of "b"',
    });
    expect(check({ w: 't' })[0].code).toBe('journey_migration_incompatible');
    expect(check({ w: 'w2', a: 'a' })[0]).toMatchObject({ path: 'migrate.nodes.a', code: 'journey_migration_incompatible' });
    expect(check({ w: 'w2', zz: 'w2' })[0]).toMatchObject({ path: 'migrate.nodes.zz', code: 'journey_unknown_node' });
  });
});
