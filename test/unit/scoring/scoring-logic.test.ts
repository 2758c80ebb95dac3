import { businessDayOf } from '../../../server/modules/scoring/score-rules.engine';
import { DEFAULT_SCORING_SETTINGS, scoringSettingsSchema } from '../../../server/modules/scoring/scoring-settings';
import { matchInteraction } from '../../../server/modules/tag-rules/tag-rules.engine';
import { auditActionLabel, AUDIT_ACTIONS } from '../../../web/admin/audit';
import { describeTimelineItem } from '../../../web/shared/timeline';
import enMessages from '../../../web/shared/i18n/en';
import zhMessages from '../../../web/shared/i18n/zh-CN';
import { translatorOf } from '../../support/translator';

const zh = translatorOf(zhMessages);
const en = translatorOf(enMessages);

describe('scoring logic', () => {
  it('a cap counts business days: 23:30 and 00:30 in Shanghai are two days, 01:00 and 15:59 UTC one', () => {
    expect(businessDayOf(new Date('2026-11-23T15:30:00Z'), 'Asia/Shanghai')).toBe('2026-11-23');
    expect(businessDayOf(new Date('2026-11-23T16:30:00Z'), 'Asia/Shanghai')).toBe('2026-11-24');
    expect(businessDayOf(new Date('2026-11-24T01:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-24');
    expect(businessDayOf(new Date('2026-11-24T15:59:00Z'), 'Asia/Shanghai')).toBe('2026-11-24');
  });

  it('score rules recognise interactions with the tag rules’ matcher', () => {
    const rule = { interactionType: 'text', matchKind: 'keyword_contains' as const, matchValue: '价格' };
    expect(matchInteraction(rule, { type: 'text', detail: { content: '请问价格' } })).toBe(true);
    expect(matchInteraction(rule, { type: 'text', detail: { content: '你好' } })).toBe(false);
    expect(matchInteraction(rule, { type: 'click', detail: { content: '价格' } })).toBe(false);
    // An attribute rule has no type and recognises no interaction.
    expect(matchInteraction({ interactionType: null, matchKind: 'any', matchValue: null }, { type: 'text', detail: {} })).toBe(false);
  });

  it('the settings refuse what the screen cannot mean; the defaults are valid', () => {
    expect(scoringSettingsSchema.safeParse(DEFAULT_SCORING_SETTINGS).success).toBe(true);
    expect(scoringSettingsSchema.safeParse({ ...DEFAULT_SCORING_SETTINGS, silentDays: 0 }).success).toBe(false);
    expect(scoringSettingsSchema.safeParse({ ...DEFAULT_SCORING_SETTINGS, decay: { mode: 'forever' } }).success).toBe(false);
  });
});

describe('scoring on the page', () => {
  it('a stage change reads as words on the timeline, naming who moved it', () => {
    const item = {
      kind: 'stage_change' as const,
      id: 1,
      at: '2026-11-23T04:00:00.000Z',
      from: 'acquired',
      to: 'activated',
      actor: { kind: 'journey' as const, id: 3, name: '促活' },
      interactionId: null,
    };
    expect(describeTimelineItem(item, zh)).toMatchObject({ label: '阶段变化', words: '获客 → 激活', actor: '旅程 促活' });
    expect(describeTimelineItem({ ...item, actor: { kind: 'rule', id: 2, name: 'text×1' } }, zh).actor).toBe('阶段规则');
  });

  it('every scoring audit action has words in both languages', () => {
    for (const action of AUDIT_ACTIONS.filter((a) => a.startsWith('score') || a.startsWith('stage_rule') || a === 'contact.set_stage')) {
      expect(auditActionLabel(action, zh)).not.toBe(action);
      expect(auditActionLabel(action, en)).not.toBe(action);
    }
  });
});
