/**
 * How a contact is called on every screen, decided here once (the list, the contact page and the
 * export read it from the API). The Official Account gives no nickname since December 2021, so a
 * follower often has no name: it is then "公众号粉丝" with the last characters of its openid,
 * which the list search finds (search-terms.ts). The page words the kind in its language.
 */

/**
 * What the name is: the operator's remark, the name a platform gave (WeCom, a form), else the
 * tail of the identity the contact came with (an Official Account follower, a mini-program user,
 * a WeCom external contact), else the contact id.
 */
export type DisplayNameKind = 'remark' | 'name' | 'oa_follower' | 'mp_user' | 'wecom_contact' | 'contact';

export interface DisplayIdentity {
  kind: DisplayNameKind;
  /** The remark or name; the identity's last DISPLAY_TAIL characters; or the contact id. Never empty. */
  text: string;
  /** Channel code of the first touch, shown beside the name. */
  firstSource: string | null;
  /** When the contact first followed (its first identity was seen), ISO. */
  followedAt: string;
}

/** Characters of an openid shown: enough to tell two followers apart on one screen. */
export const DISPLAY_TAIL = 4;

export interface DisplayIdentityInput {
  id: number;
  name: string | null;
  remark: string | null;
  firstSource: string | null;
  createdAt: Date;
  /** The contact's identities, oldest first. */
  identities: { kind: string; value: string; createdAt: Date }[];
}

const TAIL_KINDS: [string, DisplayNameKind][] = [
  ['oa_openid', 'oa_follower'],
  ['mp_openid', 'mp_user'],
  ['external_userid', 'wecom_contact'],
];

/** Pure. */
export function displayIdentityOf(contact: DisplayIdentityInput): DisplayIdentity {
  const firstSeen = contact.identities.reduce(
    (earliest, identity) => (identity.createdAt < earliest ? identity.createdAt : earliest),
    contact.createdAt,
  );
  const common = { firstSource: contact.firstSource, followedAt: firstSeen.toISOString() };
  const remark = contact.remark?.trim();
  if (remark) return { kind: 'remark', text: remark, ...common };
  const name = contact.name?.trim();
  if (name) return { kind: 'name', text: name, ...common };
  for (const [identityKind, kind] of TAIL_KINDS) {
    const identity = contact.identities.find((candidate) => candidate.kind === identityKind);
    if (identity) return { kind, text: identity.value.slice(-DISPLAY_TAIL), ...common };
  }
  return { kind: 'contact', text: String(contact.id), ...common };
}
