/**
 * The profile's codes in words: the hints, the identities, the source. Pure (a translator comes
 * in) so jest tests them.
 */
import type { Translator } from '../../shared/errors';
import type { SidebarHint, SidebarProfile } from './profile-types';

type Format = (iso: string) => string;

/** A hint (sidebar-hints.ts on the server) as a sentence; a code this page does not know reads as a general one. */
export function hintText(hint: SidebarHint, t: Translator, formatTime: Format): string {
  const params: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(hint.params)) if (value !== null) params[key] = value;
  if (typeof params.startsAt === 'string') params.startsAt = formatTime(params.startsAt);
  const key = hint.code === 'registered_not_checked_in' ? `hint.${hint.code}.${String(params.phase)}` : `hint.${hint.code}`;
  return t.has(key) ? t.t(key, params) : t.t('hint.other');
}

/** The badges under the name: follows the Official Account? uses the mini-program? on WeCom? */
export function identityBadges(contact: SidebarProfile['contact'], t: Translator): string[] {
  const badges: string[] = [];
  const oa = contact.identities.officialAccount;
  if (oa) badges.push(t.t(oa.subscribed ? 'profile.identity.oa' : 'profile.identity.oaLeft'));
  if (contact.identities.miniProgram) badges.push(t.t('profile.identity.mp'));
  if (contact.identities.externalUserId) badges.push(t.t('profile.identity.wecom'));
  return badges;
}

/** Where they came from: the channel's name when Flywheel made it, else the code as stored. */
export function sourceText(source: SidebarProfile['source'], t: Translator): string {
  if (source.channelName) return source.channelName;
  if (source.code === null) return t.t('profile.noSource');
  // A platform's own code (`oa`, `wecom`) reads as the platform's name, as on the timeline.
  return t.has(`channels.${source.code}`) ? t.t(`channels.${source.code}`) : source.code;
}

/** A stage code in words (the admin's `stages.*`), the code itself when unknown. */
export function stageText(stage: string, t: Translator): string {
  return t.has(`stages.${stage}`) ? t.t(`stages.${stage}`) : stage;
}

/** Tags by group, groups in the order first seen, for the grouped list and the picker. */
export function groupTags<T extends { group: string }>(tags: readonly T[]): { group: string; tags: T[] }[] {
  const groups = new Map<string, T[]>();
  for (const tag of tags) {
    const list = groups.get(tag.group) ?? [];
    list.push(tag);
    groups.set(tag.group, list);
  }
  return [...groups].map(([group, list]) => ({ group, tags: list }));
}
