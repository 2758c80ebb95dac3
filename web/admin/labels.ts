import type { Translator } from '../shared/errors';
import { typeLabel } from '../shared/timeline';

/**
 * Codes stored in rows, worded for the contact page. Pure so jest tests them.
 */

/** "公众号 OpenID" for `oa_openid`; an identity kind the page does not know keeps its code. */
export function identityKindLabel(kind: string, t: Translator): string {
  const key = `labels.identities.${kind}`;
  return t.has(key) ? t.t(key) : kind;
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
