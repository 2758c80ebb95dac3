import type { EntityManager } from 'typeorm';
import { placeholders } from '../../db/sql';
import type { OutboxDraft } from '../outbox/outbox.service';
import { consentKeyOf, type SubscribeConsentService } from '../subscribe-consent/subscribe-consent.service';

/**
 * How an exhibition message reaches a person (issue 15 §3), shared by every exhibition send (the
 * day-before reminder, the waitlist promotion notice, the recap and the survey invitation): a
 * mini-program subscribe message to whoever granted the template there, else an Official Account
 * template message to a follower, else an SMS to the phone they registered with. A channel whose
 * template is not configured (null) is passed over; a person no channel reaches gets nothing.
 */
export interface ExhibitionSendConfig {
  oaTemplateId: string | null;
  mpTemplateId: string | null;
  smsTemplateId: string | null;
  oaAppId: string | null;
  mpAppId: string | null;
}

export type ExhibitionChannel = 'mp_subscribe' | 'oa_template' | 'sms';

export interface ExhibitionSendDeps {
  outbox: { enqueue(p: { manager: EntityManager; drafts: OutboxDraft[] }): Promise<number> };
  consents: Pick<SubscribeConsentService, 'grantsOf'>;
  config: ExhibitionSendConfig;
}

/** One message to one person; its payload is written once its channel is known. */
export interface ExhibitionSend {
  /** The outbox's unique key: a second enqueue of the same message is a no-op. */
  dedupeKey: string;
  contactId: number;
  eventId: number;
  payloadOf: (channel: ExhibitionChannel) => Record<string, unknown>;
}

/** Each contact's channel: mini-program grant, else Official Account follower, else SMS (absent: none reaches them). */
export async function exhibitionChannelsOf(
  m: EntityManager,
  deps: Pick<ExhibitionSendDeps, 'consents' | 'config'>,
  contactIds: number[],
): Promise<Map<number, ExhibitionChannel>> {
  const c = deps.config;
  const out = new Map<number, ExhibitionChannel>();
  if (contactIds.length === 0) return out;
  const identities = await m.query<{ contact_id: number | string; kind: string; app_id: string }[]>(
    `SELECT contact_id, kind, app_id FROM contact_identities WHERE kind IN ('oa_openid', 'mp_openid') AND contact_id IN (${placeholders(contactIds.length)})`,
    contactIds,
  );
  const has = (contactId: number, kind: string, appId: string | null) =>
    appId !== null && identities.some((i) => Number(i.contact_id) === contactId && i.kind === kind && i.app_id === appId);
  const grants =
    c.mpTemplateId !== null && c.mpAppId !== null
      ? await deps.consents.grantsOf(m, 'mp_subscribe', c.mpAppId, contactIds)
      : new Map<string, number>();
  for (const contactId of contactIds) {
    const granted = c.mpTemplateId !== null && (grants.get(consentKeyOf({ contactId, templateId: c.mpTemplateId })) ?? 0) > 0;
    if (granted && has(contactId, 'mp_openid', c.mpAppId)) out.set(contactId, 'mp_subscribe');
    else if (c.oaTemplateId !== null && has(contactId, 'oa_openid', c.oaAppId)) out.set(contactId, 'oa_template');
    else if (c.smsTemplateId !== null) out.set(contactId, 'sms');
  }
  return out;
}

/**
 * Chooses each send's channel and enqueues them in the caller's transaction (transactional
 * purpose: the person asked for this event). Returns how many were queued.
 */
export async function enqueueExhibitionSends(m: EntityManager, deps: ExhibitionSendDeps, sends: ExhibitionSend[]): Promise<number> {
  if (sends.length === 0) return 0;
  const channels = await exhibitionChannelsOf(m, deps, [...new Set(sends.map((s) => s.contactId))]);
  const drafts: OutboxDraft[] = [];
  for (const send of sends) {
    const channel = channels.get(send.contactId);
    if (!channel) continue;
    drafts.push({
      dedupeKey: send.dedupeKey,
      contactId: send.contactId,
      channel,
      purpose: 'transactional',
      source: { type: 'event', id: String(send.eventId) },
      payload: send.payloadOf(channel),
    });
  }
  if (drafts.length > 0) await deps.outbox.enqueue({ manager: m, drafts });
  return drafts.length;
}

/** The subscribe and template messages' `thing` values hold 20 characters at most. */
const THING_MAX = 20;

/** An event's start as the messages write it: 2026年12月11日 09:00 in the business time zone. */
export function startText(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}年${Number(parts.month)}月${Number(parts.day)}日 ${parts.hour}:${parts.minute}`;
}

/** Cut to a template field's length, with an ellipsis. */
export function cut(text: string, max = THING_MAX): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Subscribe and template messages take `{keyword: {value}}`. */
export function wrap(data: Record<string, string>): Record<string, { value: string }> {
  return Object.fromEntries(Object.entries(data).map(([k, value]) => [k, { value }]));
}
