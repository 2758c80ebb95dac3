import { migrationRows, olderVersionsWaiting, type JourneyDefinitionView } from '../../../web/admin/journeys';

const def = (nodes: JourneyDefinitionView['nodes']): JourneyDefinitionView => ({ entry: { kind: 'manual' }, start: nodes[0].id, nodes });

describe('the "move customers in progress" dialog on publish', () => {
  const waiting = [
    { version: 1, nodeId: 'wait', count: 3 },
    { version: 1, nodeId: 'opened', count: 2 },
    { version: 2, nodeId: 'wait', count: 1 },
    { version: 3, nodeId: 'wait', count: 4 },
  ];

  it('offers the older versions with waiting customers, newest first', () => {
    expect(olderVersionsWaiting(waiting, 3)).toEqual([2, 1]);
    expect(olderVersionsWaiting([{ version: 3, nodeId: 'wait', count: 4 }], 3)).toEqual([]);
  });

  it('offers wait nodes of the same kind, and suggests the same id or the only choice', () => {
    const from = def([
      { id: 'push', type: 'send', next: 'wait' },
      { id: 'wait', type: 'wait', mode: 'duration', next: 'opened' },
      { id: 'opened', type: 'wait', mode: 'until_opened', node: 'push' },
    ]);
    const to = def([
      { id: 'push', type: 'send', next: 'wait' },
      { id: 'wait', type: 'wait', mode: 'duration', next: 'later' },
      { id: 'later', type: 'wait', mode: 'until_time', next: 'open2' },
      { id: 'open2', type: 'wait', mode: 'until_opened', node: 'push' },
      { id: 'open3', type: 'wait', mode: 'until_opened', node: 'other' },
    ]);
    expect(migrationRows(waiting, 1, from, to)).toEqual({
      rows: [
        { nodeId: 'wait', count: 3, targets: ['wait', 'later'] },
        { nodeId: 'opened', count: 2, targets: ['open2'] },
      ],
      suggested: { wait: 'wait', opened: 'open2' },
    });
  });
});
