import type { Translator } from './errors';
import { interactionTypeOf } from './interaction-types';
import type { TimelineActor, TimelineItem } from './types';

/** One timeline entry as the contact page shows it: a conversation line, the rest folded behind 详情. */
export interface TimelineEntryView {
  key: string;
  /** The interaction's type, for tests and styles; null for changes. */
  type: string | null;
  /** The icon's name (AppIcon): the channel of an interaction, `tag` or `score` for changes. */
  icon: string;
  /** What happened, in words: the type's label, or 添加标签 / 积分. */
  label: string;
  /** Where: the channel's label; empty for tag and score changes. */
  channel: string;
  /** The customer's own words (a message, a menu, a scene), or the change itself; shown large. */
  words: string | null;
  /** Who did it, for changes: the operator's name, 规则 <name>, 企业微信, 系统. */
  actor: string | null;
  /** Technical fields (openid, msgId, ticket, raw keys), shown only after 详情 is clicked. */
  facts: { label: string; value: string }[];
  at: string;
}

/** Keys whose words read better with a prefix: a scene is a channel code, not the customer's words. */
const WORDS_FORMATS: Record<string, string> = {
  scene: 'timeline.words.scene',
  state: 'timeline.words.scene',
  menuKey: 'timeline.words.menu',
};

export function describeTimelineItem(item: TimelineItem, i18n: Translator): TimelineEntryView {
  const base = { key: `${item.kind}:${item.id}`, at: item.at, type: item.kind === 'interaction' ? item.type : null };
  if (item.kind === 'tag_change') {
    const tag = item.tag.group ? `${item.tag.group}/${item.tag.name}` : item.tag.name;
    return {
      ...base,
      icon: 'tag',
      label: i18n.t(item.op === 'add' ? 'timeline.tagAdded' : 'timeline.tagRemoved'),
      channel: causeLabel(item.cause, i18n),
      words: tag,
      actor: actorLabel(item.actor, i18n),
      facts: item.interactionId === null ? [] : [{ label: i18n.t('timeline.facts.interactionId'), value: String(item.interactionId) }],
    };
  }
  if (item.kind === 'stage_change') {
    const stage = (code: string) => (i18n.has(`stages.${code}`) ? i18n.t(`stages.${code}`) : code);
    return {
      ...base,
      icon: 'score',
      label: i18n.t('lifecycle.stageChanged'),
      channel: '',
      words: i18n.t('lifecycle.stageChange', { from: stage(item.from), to: stage(item.to) }),
      actor:
        item.actor.kind === 'journey'
          ? i18n.t('lifecycle.journeyActor', { name: item.actor.name ?? '' })
          : item.actor.kind === 'rule'
            ? i18n.t('lifecycle.ruleActor')
            : actorLabel(item.actor, i18n),
      facts: item.interactionId === null ? [] : [{ label: i18n.t('timeline.facts.interactionId'), value: String(item.interactionId) }],
    };
  }
  if (item.kind === 'score') {
    return {
      ...base,
      icon: 'score',
      label: i18n.t('timeline.score'),
      channel: '',
      words: i18n.t('timeline.points', { points: item.points > 0 ? `+${item.points}` : String(item.points) }),
      actor: actorLabel(item.actor, i18n),
      facts: [
        { label: i18n.t('timeline.facts.reason'), value: item.reason },
        ...(item.interactionId === null ? [] : [{ label: i18n.t('timeline.facts.interactionId'), value: String(item.interactionId) }]),
      ],
    };
  }
  // The entry's words: the first present key the registry names for the type; the rest are facts.
  const wordsKey = (interactionTypeOf(item.type)?.words ?? []).find((key) => present(item.detail[key]));
  const words = wordsKey === undefined ? null : text(item.detail[wordsKey]);
  const format = wordsKey === undefined ? undefined : WORDS_FORMATS[wordsKey];
  return {
    ...base,
    icon: item.channel,
    label: typeLabel(item.type, i18n),
    channel: i18n.has(`channels.${item.channel}`) ? i18n.t(`channels.${item.channel}`) : i18n.t('timeline.otherChannel'),
    words: words === null ? null : format ? i18n.t(format, { value: words }) : words,
    actor: null,
    facts: Object.entries(item.detail)
      .filter(([key, value]) => key !== wordsKey && present(value))
      .map(([key, value]) => ({ label: i18n.has(`timeline.facts.${key}`) ? i18n.t(`timeline.facts.${key}`) : key, value: text(value) })),
  };
}

export function typeLabel(type: string, i18n: Translator): string {
  if (i18n.has(`interactionTypes.${type}`)) return i18n.t(`interactionTypes.${type}`);
  // A type this page does not know yet reads as an interaction, never as its code.
  return i18n.t('timeline.otherType');
}

function causeLabel(cause: string, i18n: Translator): string {
  return i18n.has(`timeline.causes.${cause}`) ? i18n.t(`timeline.causes.${cause}`) : '';
}

function actorLabel(actor: TimelineActor, i18n: Translator): string {
  switch (actor.kind) {
    case 'operator':
      return actor.name ?? i18n.t('timeline.actors.formerOperator');
    case 'rule':
      return i18n.t('timeline.actors.rule', { name: actor.name ?? i18n.t('timeline.actors.deletedRule') });
    case 'platform':
      return i18n.has(`channels.${actor.name}`) ? i18n.t(`channels.${actor.name}`) : i18n.t('timeline.actors.platform');
    case 'journey':
      return i18n.t('timeline.actors.journey', { name: actor.name ?? '' });
    case 'system':
      return i18n.t('timeline.actors.system');
  }
}

function present(value: unknown): boolean {
  return value !== null && value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0);
}

function text(value: unknown): string {
  // A share chain (a business card's): who forwarded it to whom, in order.
  if (Array.isArray(value)) return value.map(text).join(value.some(isPerson) ? ' → ' : ', ');
  // A person in a detail (`{contactId, name}`): their name, or their number when they have none.
  if (isPerson(value)) return typeof value.name === 'string' && value.name !== '' ? value.name : `#${value.contactId}`;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

function isPerson(value: unknown): value is { contactId: number; name?: unknown } {
  return typeof value === 'object' && value !== null && 'contactId' in value && typeof value.contactId === 'number';
}

/**
 * A score ledger reason as words. The rule engine stores `rule name (interaction type)`, e.g.
 * `发消息互动 (text)`: it reads "发消息互动 · 发来消息", the type worded as the timeline words it.
 * The stored name is kept (the rule may have been renamed since: the ledger says why then).
 * Any other reason is shown as it was written.
 */
export function scoreReasonText(reason: string, t: Translator): string {
  const match = /^(.*) \(([a-z][a-z0-9_.]*)\)$/.exec(reason);
  if (!match?.[1] || !match[2]) return reason;
  return t.t('labels.scoreReason', { rule: match[1], type: typeLabel(match[2], t) });
}
