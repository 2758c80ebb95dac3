import { TagRule } from '../../../entities/tag-rule.entity';
import { matchRule, renderTagRef } from '../../../server/modules/tag-rules/tag-rules.engine';

function rule(fields: Partial<TagRule>): TagRule {
  return Object.assign(new TagRule(), { enabled: true, interactionType: 'text', matchKind: 'any', matchValue: null, ...fields });
}

describe('matchRule', () => {
  it('needs the same interaction type and an enabled rule', () => {
    expect(matchRule(rule({}), { type: 'text', detail: {} })).toBe(true);
    expect(matchRule(rule({}), { type: 'click', detail: {} })).toBe(false);
    expect(matchRule(rule({ enabled: false }), { type: 'text', detail: {} })).toBe(false);
  });

  it('matches keywords exactly (trimmed, any case) or by containment', () => {
    const exact = rule({ matchKind: 'keyword_exact', matchValue: 'Price' });
    expect(matchRule(exact, { type: 'text', detail: { content: '  price ' } })).toBe(true);
    expect(matchRule(exact, { type: 'text', detail: { content: 'price list' } })).toBe(false);
    const contains = rule({ matchKind: 'keyword_contains', matchValue: '报名' });
    expect(matchRule(contains, { type: 'text', detail: { content: '我想报名展会' } })).toBe(true);
    expect(matchRule(contains, { type: 'text', detail: { content: '你好' } })).toBe(false);
    expect(matchRule(rule({ matchKind: 'keyword_contains', matchValue: '' }), { type: 'text', detail: { content: 'x' } })).toBe(false);
  });

  it('matches a scene exactly, or any non-empty scene with *', () => {
    const any = rule({ interactionType: 'subscribe', matchKind: 'scene', matchValue: '*' });
    expect(matchRule(any, { type: 'subscribe', detail: { scene: 'expo2026' } })).toBe(true);
    expect(matchRule(any, { type: 'subscribe', detail: { scene: '' } })).toBe(false);
    expect(matchRule(any, { type: 'subscribe', detail: { scene: null } })).toBe(false);
    const one = rule({ interactionType: 'subscribe', matchKind: 'scene', matchValue: 'booth-7' });
    expect(matchRule(one, { type: 'subscribe', detail: { scene: 'booth-7' } })).toBe(true);
    expect(matchRule(one, { type: 'subscribe', detail: { scene: 'booth-8' } })).toBe(false);
  });

  it('matches a menu key and an event id', () => {
    expect(
      matchRule(rule({ interactionType: 'click', matchKind: 'menu_key', matchValue: 'V1001_EXPO' }), {
        type: 'click',
        detail: { menuKey: 'V1001_EXPO' },
      }),
    ).toBe(true);
    expect(
      matchRule(rule({ interactionType: 'click', matchKind: 'menu_key', matchValue: 'V1001_EXPO' }), {
        type: 'click',
        detail: { menuKey: 'OTHER' },
      }),
    ).toBe(false);
    expect(
      matchRule(rule({ interactionType: 'registration', matchKind: 'event_id', matchValue: '12' }), {
        type: 'registration',
        detail: { eventId: 12 },
      }),
    ).toBe(true);
  });
});

describe('renderTagRef', () => {
  it('fills {scene} from the interaction, and skips the tag when there is no scene', () => {
    expect(renderTagRef({ group: '渠道', name: '{scene}' }, { scene: 'expo2026' })).toEqual({ group: '渠道', name: 'expo2026' });
    expect(renderTagRef({ group: '渠道', name: 'from {scene}' }, { scene: 'poster' })).toEqual({ group: '渠道', name: 'from poster' });
    expect(renderTagRef({ group: '渠道', name: '{scene}' }, {})).toBeNull();
    expect(renderTagRef({ group: '生命周期', name: '已关注' }, {})).toEqual({ group: '生命周期', name: '已关注' });
  });
});
