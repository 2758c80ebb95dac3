import { RULE_MATCH_KINDS } from '../../../entities/tag-rule.entity';
import { checkTagRule, type TagRuleFields } from '../../../server/modules/tag-rules/tag-rules.service';
import en from '../../../web/shared/i18n/en';
import zhCN from '../../../web/shared/i18n/zh-CN';
import {
  INTERACTION_TYPES,
  MATCHER_KINDS,
  matcherFits,
  RULE_TRIGGER_TYPES,
  type InteractionTypeDef,
} from '../../../web/shared/interaction-types';

const entries = Object.entries(INTERACTION_TYPES as Record<string, InteractionTypeDef>);

describe('the interaction type registry', () => {
  it('names every type in Chinese and English, and the i18n messages are read from it', () => {
    for (const [type, def] of entries) {
      expect([type, /\p{Script=Han}/u.test(def.label.zh)]).toEqual([type, true]);
      expect([type, /^[A-Z][A-Za-z ()-]+$/.test(def.label.en)]).toEqual([type, true]);
      expect(zhCN.interactionTypes[type]).toBe(def.label.zh);
      expect(en.interactionTypes[type]).toBe(def.label.en);
    }
  });

  it("offers the rules' matchers and no other, and what the platform reports about our sends is outbound", () => {
    expect(RULE_MATCH_KINDS).toEqual(['any', ...MATCHER_KINDS]);
    expect(RULE_TRIGGER_TYPES).toEqual(expect.arrayContaining(['subscribe', 'text', 'click', 'scan', 'add_external_contact']));
    for (const type of ['template_delivered', 'mass_send_finished', 'subscribe_msg_sent', 'message_sent', 'segment_entered'])
      expect([type, INTERACTION_TYPES[type as keyof typeof INTERACTION_TYPES].direction]).toEqual([type, 'out']);
    expect(INTERACTION_TYPES.link_clicked.direction).toBe('in');
  });

  it('refuses a rule whose matcher reads nothing the interaction carries, and leaves unknown types alone', () => {
    const rule = (interactionType: string, matchKind: TagRuleFields['matchKind']): TagRuleFields => ({
      name: 'r',
      interactionType,
      matchKind,
      matchValue: 'x',
      addTags: [],
      removeTags: [],
      scorePoints: 0,
      priority: 0,
      enabled: true,
      replyText: null,
      replyNews: null,
    });
    expect(matcherFits('text', 'keyword_contains')).toBe(true);
    expect(checkTagRule(rule('text', 'keyword_contains'))).toEqual([]);
    expect(checkTagRule(rule('text', 'scene')).map((i) => [i.path, i.code])).toEqual([['matchKind', 'match_kind_not_for_type']]);
    expect(checkTagRule(rule('click', 'menu_key'))).toEqual([]);
    // An exhibition's registration is not in the registry yet: its event_id matcher stands.
    expect(checkTagRule(rule('registration', 'event_id'))).toEqual([]);
  });
});
