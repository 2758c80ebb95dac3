import type { Translator } from '@shared/errors';
import type { ContactRow, DisplayIdentity } from '@shared/types';
import { formatDateTime } from '@shared/time';

/**
 * A contact's name as the list and the contact page show it, in the page's language. The server
 * decides what the name is (display-identity.ts); this only words it: a remark or a name as it
 * is, else "公众号粉丝 A1b2" and the like. Never empty.
 */
export function displayNameOf(display: DisplayIdentity, t: Translator): string {
  if (display.kind === 'remark' || display.kind === 'name') return display.text;
  return t.t(`customer.kinds.${display.kind}`, { text: display.text });
}

/** "渠道/展会A · 2026-11-02 关注": where the contact came from and when they followed. */
export function originOf(display: DisplayIdentity, t: Translator, timeZone: string): string {
  const date = formatDateTime(display.followedAt, timeZone).slice(0, 10);
  return [display.firstSource, t.t('customer.followedOn', { date })].filter(Boolean).join(' · ');
}

/** The follow column: the Official Account state, and the WeCom reps who have the customer. */
export function followTextOf(follow: ContactRow['follow'], t: Translator): string {
  const oa = t.t(`customer.follow.${follow.officialAccount ?? 'none'}`);
  return follow.wecomReps > 0 ? `${oa} · ${t.t('customer.follow.wecom', { count: follow.wecomReps })}` : oa;
}

/** An interaction type as words ("关注", "文本消息"), or the code when no label is known. */
export function interactionTypeOf(type: string | null, t: Translator): string {
  if (type === null) return '';
  return t.has(`interactionTypes.${type}`) ? t.t(`interactionTypes.${type}`) : type;
}
