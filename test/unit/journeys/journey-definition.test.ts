import { validateDefinition, type JourneyDefinition } from '../../../server/modules/journeys/journey-definition';
import { JOURNEY_TEMPLATES } from '../../../server/modules/journeys/journey-templates';
import { JOURNEY_RULE_CODES } from '../../../server/http/error-codes';
import en from '../../../web/shared/i18n/en';
import zhCN from '../../../web/shared/i18n/zh-CN';

const base = (): JourneyDefinition => ({
  entry: { kind: 'manual' },
  reentry: 'after_exit',
  start: 'a',
  goal: null,
  nodes: [
    { id: 'a', type: 'send', channel: 'oa_template', templateId: 't1', purpose: 'marketing', next: 'w' },
    { id: 'w', type: 'wait', mode: 'duration', seconds: 60, next: 'x' },
    { id: 'x', type: 'exit' },
  ],
});

describe('journey definitions are validated on save, naming the node and the field', () => {
  it.each(JOURNEY_TEMPLATES.map((t) => t.key))('the %s template is valid', (key) => {
    const template = JOURNEY_TEMPLATES.find((t) => t.key === key);
    expect(validateDefinition(template?.definition())).toMatchObject({ ok: true });
  });

  it('refuses an edge to an unknown node', () => {
    const def = base();
    def.nodes[1] = { id: 'w', type: 'wait', mode: 'duration', seconds: 60, next: 'nowhere' };
    expect(validateDefinition(def)).toEqual({
      ok: false,
      issues: [
        { path: 'nodes.1.next', code: 'journey_unknown_node', message: 'node "w": next names no node "nowhere"', params: { node: 'w' } },
      ],
    });
  });

  it('refuses a loop without a wait, and accepts one through a wait', () => {
    const def = base();
    def.nodes.push({ id: 'c', type: 'condition', condition: { kind: 'score', min: 10 }, then: 'a2', else: 'x' });
    def.nodes.push({ id: 'a2', type: 'action', actions: [{ kind: 'add_score', points: 1 }], next: 'c' });
    def.nodes[1] = { id: 'w', type: 'wait', mode: 'duration', seconds: 60, next: 'c' };
    const refused = validateDefinition(def);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.issues[0]).toMatchObject({ code: 'journey_cycle_without_wait', params: { node: 'c' } });
    def.nodes[4] = { id: 'a2', type: 'action', actions: [{ kind: 'add_score', points: 1 }], next: 'w' };
    expect(validateDefinition(def).ok).toBe(true);
  });

  it('refuses a send without a template, duplicate ids, and an open-wait on a node that sends nothing', () => {
    const def = base();
    def.nodes[0] = { id: 'a', type: 'send', channel: 'sms', purpose: 'marketing', next: 'w' };
    def.nodes.push({ id: 'x', type: 'exit' });
    def.nodes.push({ id: 'o', type: 'wait', mode: 'until_opened', node: 'w', timeoutSeconds: 10, opened: 'x', timeout: 'x' });
    const result = validateDefinition(def);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues.map((i) => [i.path, i.code])).toEqual([
        ['nodes.3.id', 'journey_duplicate_node'],
        ['nodes.0.templateId', 'journey_template_missing'],
        ['nodes.4.node', 'journey_open_wait_not_send'],
      ]);
  });

  it('names the node of a shape error', () => {
    const def = { ...base(), nodes: [...base().nodes, { id: 'bad', type: 'wait', mode: 'duration', seconds: -1, next: 'x' }] };
    const result = validateDefinition(def);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]).toMatchObject({ path: 'nodes.3.seconds', code: 'too_small', params: { node: 'bad' } });
  });

  it.each(JOURNEY_RULE_CODES)('%s has a sentence in both locales', (code) => {
    expect(zhCN.journeys.issues[code]).toBeTruthy();
    expect(en.journeys.issues[code]).toBeTruthy();
  });
});
