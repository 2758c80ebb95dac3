import {
  charCount,
  exampleData,
  isLive,
  previewLines,
  progressPercent,
  violationsByField,
  type LibraryTemplate,
} from '../../../web/admin/delivery';
import {
  BLANK_DEFINITION,
  edgesOf,
  fieldOfIssuePath,
  nodeOfIssuePath,
  parseContactIds,
  positionsOf,
  type JourneyDefinitionView,
} from '../../../web/admin/journeys';
import { reactivationDefinition } from '../../../server/modules/journeys/journey-templates';
import { validateDefinition } from '../../../server/modules/journeys/journey-definition';
import { toLibraryTemplate } from '../../../server/modules/template-library/template-library.service';

/** The journeys, broadcasts and template library screens' pure logic (web/admin/journeys.ts, delivery.ts). */
describe('the journey graph', () => {
  const reactivation = reactivationDefinition() as unknown as JourneyDefinitionView;

  it('draws every edge of the reactivation template, labelled by the field that makes it', () => {
    const edges = edgesOf(reactivation).map((e) => `${e.source}-${e.kind}->${e.target}`);
    expect(edges).toEqual(
      expect.arrayContaining([
        'push1-next->wait1',
        'wait1-opened->wechat_habit',
        'wait1-timeout->push2',
        'opened_elsewhere-then->done',
        'opened_elsewhere-else->churned',
      ]),
    );
    expect(new Set(edgesOf(reactivation).map((e) => e.id)).size).toBe(edges.length);
  });

  it('keeps the positions a definition has, and lays out one without them by depth from the start', () => {
    expect(positionsOf(reactivation).get('wechat_habit')).toEqual({ x: 300, y: 240 });
    const plain: JourneyDefinitionView = {
      entry: { kind: 'manual' },
      start: 'a',
      nodes: [
        { id: 'a', type: 'condition', then: 'b', else: 'c' },
        { id: 'b', type: 'exit' },
        { id: 'c', type: 'exit' },
        { id: 'orphan', type: 'exit' },
      ],
    };
    const at = positionsOf(plain);
    expect([at.get('a'), at.get('b'), at.get('c'), at.get('orphan')]).toEqual([
      { x: 0, y: 0 },
      { x: 0, y: 130 },
      { x: 260, y: 130 },
      { x: 0, y: 260 },
    ]);
    // An edge to a node that does not exist is not drawn (the server names it on the node).
    expect(edgesOf({ ...plain, nodes: [{ id: 'a', type: 'send', next: 'nowhere' }] })).toEqual([]);
  });

  it('files a refused field under its node', () => {
    expect(nodeOfIssuePath('definition.nodes.2.next', reactivation)).toBe('push2');
    expect(fieldOfIssuePath('definition.nodes.9.actions.1.journey')).toBe('actions.1.journey');
    expect(nodeOfIssuePath('definition.start', reactivation)).toBeNull();
    expect(fieldOfIssuePath('definition.start')).toBe('start');
  });

  it('offers a blank journey the server accepts', () => {
    expect(validateDefinition(BLANK_DEFINITION).ok).toBe(true);
  });

  it('reads typed contact ids and reports what is not one', () => {
    expect(parseContactIds('12, 7\n12，abc 0')).toEqual({ ids: [12, 7], bad: ['abc', '0'] });
  });
});

describe('broadcasts and the template library', () => {
  const coupon: LibraryTemplate = {
    templateId: 'T1',
    title: '优惠券到账提醒',
    primaryIndustry: null,
    deputyIndustry: null,
    content: '',
    example: null,
    fields: [
      { key: 'thing1', label: '活动名称', kind: 'thing', example: '老朋友回归礼' },
      { key: 'time3', label: '有效期至', kind: 'time', example: null },
    ],
  };

  it('counts progress from the finished messages, and polls only live broadcasts', () => {
    const base = { total: 10, queued: 4, confirming: 0, sent: 5, failed: 1, skipped: 0, unknown: 0, cancelled: 0 };
    expect(progressPercent(base)).toBe(60);
    // Rows waiting for a WeCom rep are not finished.
    expect(progressPercent({ ...base, queued: 2, confirming: 2 })).toBe(60);
    expect(progressPercent({ ...base, total: 0, queued: 0 })).toBe(0);
    expect(progressPercent({ ...base, queued: 0 })).toBe(100);
    expect(['scheduled', 'running', 'paused', 'done'].map(isLive)).toEqual([true, true, false, false]);
  });

  it('starts the form from the example and previews label by label', () => {
    expect(exampleData(coupon)).toEqual({ thing1: '老朋友回归礼', time3: '' });
    expect(previewLines(coupon, { thing1: '双十二' })).toEqual([
      { label: '活动名称', value: '双十二' },
      { label: '有效期至', value: '' },
    ]);
    expect(charCount('🎉好')).toBe(2);
    expect(violationsByField([{ field: 'thing1', code: 'too_long', max: 20 }])).toEqual({
      thing1: [{ field: 'thing1', code: 'too_long', max: 20 }],
    });
  });

  it('reads keywords, labels and example values from a template with or without colons', () => {
    const parsed = toLibraryTemplate({
      template_id: 'X',
      title: '优惠券到账提醒',
      content: '优惠券名称{{thing1.DATA}}\n优惠金额：{{amount2.DATA}}\n{{character_string3.DATA}}',
      example: '优惠券名称：老朋友回归礼\n优惠金额：20元',
    });
    expect(parsed.fields).toEqual([
      { key: 'thing1', label: '优惠券名称', kind: 'thing', example: '老朋友回归礼' },
      { key: 'amount2', label: '优惠金额', kind: 'amount', example: '20元' },
      { key: 'character_string3', label: 'character_string3', kind: 'character_string', example: null },
    ]);
  });
});
