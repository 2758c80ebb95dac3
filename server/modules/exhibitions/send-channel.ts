import type { EntityManager } from 'typeorm';
import { placeholders } from '../../db/sql';
import { consentKeyOf, type SubscribeConsentService } from '../subscribe-consent/subscribe-consent.service';

/** The three ways an exhibition message reaches a person, in the order the issue asks. */
export type ExhibitionSendChannel = 'mp_subscribe' | 'oa_template' | 'sms';

/**
 * One kind of exhibition message's templates (the reminder's, the recap's): each channel whose
 * template is null is passed over, and the apps whose openids count.
 */
export interface ExhibitionTemplates {
  oaTemplateId: string | null;
  mpTemplateId: string | null;
  smsTemplateId: string | null;
  oaAppId: string | null;
  mpAppId: string | null;
}

/**
 * Each contact's channel for an exhibition send (the day-before reminder, the recap, the survey
 * invitation): a mini-program subscribe message to whoever granted that template there, else an
 * Official Account template message to a follower, else an SMS to their phone. A contact reached
 * no way is absent from the answer. Two reads whatever the number of contacts.
 */
export async function chooseSendChannels(
  m: EntityManager,
  consents: Pick<SubscribeConsentService, 'grantsOf'>,
  templates: ExhibitionTemplates,
  contactIds: number[],
): Promise<Map<number, ExhibitionSendChannel>> {
  const out = new Map<number, ExhibitionSendChannel>();
  if (contactIds.length === 0) return out;
  const c = templates;
  const identities = await m.query<{ contact_id: number | string; kind: string; app_id: string }[]>(
    `SELECT contact_id, kind, app_id FROM contact_identities WHERE kind IN ('oa_openid', 'mp_openid') AND contact_id IN (${placeholders(contactIds.length)})`,
    contactIds,
  );
  const has = (contactId: number, kind: string, appId: string | null) =>
    appId !== null && identities.some((i) => Number(i.contact_id) === contactId && i.kind === kind && i.app_id === appId);
  const grants =
    c.mpTemplateId !== null && c.mpAppId !== null
      ? await consents.grantsOf(m, 'mp_subscribe', c.mpAppId, contactIds)
      : new Map<string, number>();
  for (const contactId of contactIds) {
    const granted = c.mpTemplateId !== null && (grants.get(consentKeyOf({ contactId, templateId: c.mpTemplateId })) ?? 0) > 0;
    if (granted && has(contactId, 'mp_openid', c.mpAppId)) out.set(contactId, 'mp_subscribe');
    else if (c.oaTemplateId !== null && has(contactId, 'oa_openid', c.oaAppId)) out.set(contactId, 'oa_template');
    else if (c.smsTemplateId !== null) out.set(contactId, 'sms');
  }
  return out;
}

/** The subscribe and template messages' `thing` values hold 20 characters at most. */
export const THING_MAX = 20;

/** Cut by character (a Chinese character or an emoji is one), an ellipsis marking the cut. */
export function cutText(text: string, max = THING_MAX): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Subscribe and template messages take `{keyword: {value}}`. */
export function wrapKeywords(data: Record<string, string>): Record<string, { value: string }> {
  return Object.fromEntries(Object.entries(data).map(([k, value]) => [k, { value }]));
}
