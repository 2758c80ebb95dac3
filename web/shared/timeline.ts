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
  const card = cardWords(item.type, item.detail, i18n);
  if (card !== null) {
    return {
      ...base,
      icon: item.channel,
      label: typeLabel(item.type, i18n),
      channel: channelLabel(item.channel, i18n),
      words: card,
      actor: null,
      facts: factsOf(
        Object.entries(item.detail).filter(([key]) => !CARD_WORDS_KEYS.has(key)),
        i18n,
      ),
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
    channel: channelLabel(item.channel, i18n),
    words: words === null ? null : format ? i18n.t(format, { value: words }) : words,
    actor: null,
    facts: factsOf(
      Object.entries(item.detail).filter(([key]) => key !== wordsKey),
      i18n,
    ),
  };
}

function channelLabel(channel: string, i18n: Translator): string {
  return i18n.has(`channels.${channel}`) ? i18n.t(`channels.${channel}`) : i18n.t('timeline.otherChannel');
}

function factsOf(entries: [string, unknown][], i18n: Translator): TimelineEntryView['facts'] {
  return entries
    .filter(([, value]) => present(value))
    .map(([key, value]) => ({ label: i18n.has(`timeline.facts.${key}`) ? i18n.t(`timeline.facts.${key}`) : key, value: text(value) }));
}

/** A person in a card payload (a sharer, a forwarder, a viewer); the name may be missing. */
interface CardPerson {
  contactId: number;
  name: string | null;
}

/** The card payload keys the words say; the rest (ids, sources) stay facts behind 详情. */
const CARD_WORDS_KEYS = new Set(['repName', 'sharedBy', 'chain', 'viewer', 'action', 'seconds']);

function cardPerson(value: unknown): CardPerson | null {
  if (typeof value !== 'object' || value === null) return null;
  const { contactId, name } = value as Record<string, unknown>;
  if (typeof contactId !== 'number') return null;
  return { contactId, name: typeof name === 'string' && name !== '' ? name : null };
}

/** A forwarder or viewer by name, or as 客户 #id when the contact has none (as the contacts list calls them). */
function personName(person: CardPerson, i18n: Translator): string {
  return person.name ?? i18n.t('customer.kinds.contact', { text: person.contactId });
}

/**
 * The forwarders a card view came through, first to last: `chain` as the server wrote it; a view
 * recorded with only its sharer counts that one forward.
 */
export function cardChain(detail: Record<string, unknown>): CardPerson[] {
  const chain = Array.isArray(detail.chain) ? detail.chain.map(cardPerson).filter((p): p is CardPerson => p !== null) : [];
  if (chain.length > 0) return chain;
  const sharedBy = cardPerson(detail.sharedBy);
  return sharedBy ? [sharedBy] : [];
}

/** 张三 → 李四: the share chain in words. */
export function chainText(chain: CardPerson[], i18n: Translator): string {
  return chain.map((person) => personName(person, i18n)).join(' → ');
}

/** Seconds as 1 分 5 秒 / 1 min 5 s. */
export function durationText(seconds: number, i18n: Translator): string {
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  return minutes > 0 ? i18n.t('timeline.card.minutes', { minutes, seconds: rest }) : i18n.t('timeline.card.seconds', { seconds: rest });
}

/**
 * The business card's interactions in words (CARD-CONTRACT: card_view, card_share, card_action):
 * whose card, how the viewer came (经 张三 → 李四 转发, or straight from the rep), how long they
 * stayed, whom a forward brought, what the viewer did. Null for any other type.
 */
function cardWords(type: string, detail: Record<string, unknown>, i18n: Translator): string | null {
  if (type !== 'card_view' && type !== 'card_share' && type !== 'card_action') return null;
  const rep = typeof detail.repName === 'string' && detail.repName !== '' ? detail.repName : i18n.t('timeline.card.someRep');
  const card = i18n.t('timeline.card.whose', { rep });
  if (type === 'card_view') {
    const chain = cardChain(detail);
    const parts = [
      card,
      chain.length > 0 ? i18n.t('timeline.card.via', { chain: chainText(chain, i18n) }) : i18n.t('timeline.card.direct'),
    ];
    if (typeof detail.seconds === 'number' && detail.seconds > 0)
      parts.push(i18n.t('timeline.card.stayed', { time: durationText(detail.seconds, i18n) }));
    return parts.join(' · ');
  }
  if (type === 'card_share') {
    const viewer = cardPerson(detail.viewer);
    return viewer ? i18n.t('timeline.card.shared', { viewer: personName(viewer, i18n), card }) : card;
  }
  const action = typeof detail.action === 'string' ? detail.action : '';
  const key = `timeline.card.actions.${action}`;
  return i18n.t('timeline.card.acted', { action: i18n.has(key) ? i18n.t(key) : i18n.t('timeline.card.actions.other'), card });
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
  if (Array.isArray(value)) return value.map(text).join(', ');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
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
