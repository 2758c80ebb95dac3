import type { Translator } from '../shared/errors';

/**
 * Codes stored in rows, worded for the contact page. Pure so jest tests them.
 */

/** "公众号 OpenID" for `oa_openid`; an identity kind the page does not know keeps its code. */
export function identityKindLabel(kind: string, t: Translator): string {
  const key = `labels.identities.${kind}`;
  return t.has(key) ? t.t(key) : kind;
}

/** Shared with the WeCom sidebar, which shows the same ledger. */
export { scoreReasonText } from '../shared/timeline';
