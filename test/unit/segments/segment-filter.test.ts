import { isTimeRelative, referencedSegmentIds, segmentFilterSchema } from '../../../web/shared/segment-filter';

describe('segment filter format', () => {
  it('takes nested groups of every condition kind, and fills atLeast', () => {
    const parsed = segmentFilterSchema.parse({
      kind: 'and',
      conditions: [
        { kind: 'tags', match: 'all', tagIds: [1, 2] },
        { kind: 'score', min: 10 },
        { kind: 'stage', stages: ['activated'] },
        { kind: 'source', which: 'first', prefix: '展会/' },
        { kind: 'hasPhone', value: true },
        { kind: 'followsOa', value: false },
        { kind: 'created', from: '2026-01-01T00:00:00Z' },
        { kind: 'lastInteraction', to: '2026-12-01T00:00:00.000Z' },
        { kind: 'activeWithin', days: 7 },
        { kind: 'silentFor', days: 30 },
        {
          kind: 'or',
          conditions: [
            { kind: 'did', type: 'text', matcher: { kind: 'keyword_contains', value: '价格' }, days: 7 },
            { kind: 'didNot', type: 'scan', days: 14 },
            { kind: 'clickedJourney', journeyId: '3' },
            { kind: 'inSegment', segmentId: 4 },
          ],
        },
      ],
    });
    expect(parsed.kind).toBe('and');
    const or = parsed.kind === 'and' ? parsed.conditions[10] : null;
    expect(or && or.kind === 'or' && or.conditions[0]).toEqual({
      kind: 'did',
      type: 'text',
      matcher: { kind: 'keyword_contains', value: '价格' },
      atLeast: 1,
      days: 7,
    });
    expect(referencedSegmentIds(parsed)).toEqual([4]);
    expect(isTimeRelative(parsed)).toBe(true);
    expect(isTimeRelative({ kind: 'tags', match: 'any', tagIds: [1] })).toBe(false);
  });

  it('names the path of every refused field', () => {
    const result = segmentFilterSchema.safeParse({
      kind: 'and',
      conditions: [
        { kind: 'score', min: 5, max: 1 },
        {
          kind: 'or',
          conditions: [
            { kind: 'stage', stages: ['nope'] },
            { kind: 'did', type: 'text' },
          ],
        },
        { kind: 'whatever' },
      ],
    });
    expect(result.success).toBe(false);
    const paths = result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['conditions.1.conditions.0.stages.0', 'conditions.1.conditions.1.days', 'conditions.2.kind']),
    );
  });

  it('checks ranges and depth after the shape', () => {
    const result = segmentFilterSchema.safeParse({
      kind: 'and',
      conditions: [
        { kind: 'score', min: 5, max: 1 },
        { kind: 'created', from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
        {
          kind: 'or',
          conditions: [
            {
              kind: 'and',
              conditions: [
                { kind: 'or', conditions: [{ kind: 'and', conditions: [{ kind: 'or', conditions: [{ kind: 'score', min: 1 }] }] }] },
              ],
            },
          ],
        },
      ],
    });
    const issues = result.success
      ? []
      : result.error.issues.map((issue) => [issue.path.join('.'), (issue as { params?: { code?: string } }).params?.code]);
    expect(issues).toEqual(
      expect.arrayContaining([
        ['conditions.0.max', 'score_range'],
        ['conditions.1.to', 'time_range'],
        ['conditions.2.conditions.0.conditions.0.conditions.0.conditions.0', 'filter_depth'],
      ]),
    );
  });
});
