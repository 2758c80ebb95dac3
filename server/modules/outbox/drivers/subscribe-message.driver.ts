import type { EntityManager } from 'typeorm';
import type { IdentityKind } from '../../../../entities/contact-identity.entity';
import type { Channel } from '../../../../entities/interaction.entity';
import type { SubscribeConsentChannel } from '../../../../entities/subscribe-consent.entity';
import { PlatformApiError } from '../../../adapters/platform-error';
import { describeViolations } from '../../../wechat/template-message';
import {
  buildSubscribeSendBody,
  checkSubscribeMessage,
  subscribeDraftFromPayload,
  type SubscribeApi,
} from '../../../wechat/subscribe-message';
import { consentKeyOf, type SubscribeConsentService } from '../../subscribe-consent/subscribe-consent.service';
import type { ChannelDriver, OutboxRow, Refusal, SendPlan } from '../channel-driver';
import { openidsOf } from './oa-template.driver';

/** The platform call a subscribe driver makes (OfficialAccountClient / MiniProgramClient sendSubscribeMessage). */
export interface SubscribeSendPort {
  sendSubscribeMessage(body: Record<string, unknown>): Promise<{ msgid: string | null }>;
}

export interface SubscribeDriverParams {
  channel: SubscribeConsentChannel;
  /** The Official Account's or the mini-program's appid: the consent's app, the recipient's identity app, the budget's account. */
  appId: string;
  client: SubscribeSendPort;
  consents: SubscribeConsentService;
}

const SHAPES: Readonly<Record<SubscribeConsentChannel, { api: SubscribeApi; identity: IdentityKind; interactionChannel: Channel }>> = {
  oa_subscribe: { api: 'oa', identity: 'oa_openid', interactionChannel: 'oa' },
  mp_subscribe: { api: 'mp', identity: 'mp_openid', interactionChannel: 'mp' },
};

/**
 * The subscribe-message channels (`oa_subscribe`: bizsend, `mp_subscribe`: subscribe/send). Before
 * a send: the payload under the field rules (failed for good otherwise), the recipient's openid of
 * the channel's kind (`no_openid`), and an unspent consent for the template (`no_consent`); the
 * rows of one batch share a contact's grants, so two rows with one grant send one. An accepted send
 * spends its grant in the outcome's transaction; the platform's 43101 skips the row
 * (`refused_by_user`) and takes away the grants counted for it, since the platform knows better. Neither
 * API takes a client_msg_id: an uncertain send is `unknown` for good (idempotencyWindowMs null).
 */
export function createSubscribeDriver(p: SubscribeDriverParams): ChannelDriver {
  const shape = SHAPES[p.channel];
  const templateIdOf = (row: OutboxRow): string | null => {
    const payload = row.payload;
    if (typeof payload !== 'object' || payload === null) return null;
    const id = (payload as Record<string, unknown>).template_id;
    return typeof id === 'string' ? id : null;
  };

  return {
    channel: p.channel,
    account: p.appId,
    interactionChannel: shape.interactionChannel,
    idempotencyWindowMs: null,

    async plan(rows: OutboxRow[], manager: EntityManager): Promise<Map<number, SendPlan>> {
      const plans = new Map<number, SendPlan>();
      if (rows.length === 0) return plans;
      const openids = await openidsOf(manager, shape.identity, p.appId, rows);
      const grants = await p.consents.grantsOf(
        manager,
        p.channel,
        p.appId,
        rows.map((r) => r.contactId),
      );
      // What each grant was when read: what a 43101 proves was not there (revoke).
      const counted = new Map(grants);
      // In row order, so the older row of a contact takes the grant when there are fewer than rows.
      for (const row of [...rows].sort((a, b) => a.id - b.id)) {
        const draft = subscribeDraftFromPayload(shape.api, row.payload);
        const violations = draft ? checkSubscribeMessage(shape.api, draft) : [];
        if (!draft || violations.length > 0) {
          plans.set(row.id, { kind: 'fail', reason: draft ? `template_rules: ${describeViolations(violations)}` : 'subscribe_payload' });
          continue;
        }
        const openid = openids.get(row.contactId);
        if (openid === undefined) {
          plans.set(row.id, { kind: 'skip', reason: 'no_openid' });
          continue;
        }
        const key = { contactId: row.contactId, templateId: draft.templateId };
        const left = grants.get(consentKeyOf(key)) ?? 0;
        if (left <= 0) {
          plans.set(row.id, { kind: 'skip', reason: 'no_consent' });
          continue;
        }
        grants.set(consentKeyOf(key), left - 1);
        const body = buildSubscribeSendBody(shape.api, openid, draft);
        plans.set(row.id, {
          kind: 'send',
          request: async () => {
            try {
              return { msgid: (await p.client.sendSubscribeMessage(body)).msgid };
            } catch (error) {
              // 43101: the platform holds no grant for this user and template, whatever we counted.
              if (error instanceof PlatformApiError && error.errcode === 43101)
                await p.consents.revoke(p.channel, p.appId, key, counted.get(consentKeyOf(key)) ?? null);
              throw error;
            }
          },
        });
      }
      return plans;
    },

    classify(error: unknown): Refusal | null {
      if (!(error instanceof PlatformApiError)) return null;
      switch (error.errcode) {
        case 43101:
          return { outcome: 'skip', errcode: 43101, reason: 'refused_by_user' };
        case 40003:
          // The openid is not the account's (a stale or foreign identity): this person cannot receive it.
          return { outcome: 'skip', errcode: 40003, reason: 'invalid_openid' };
        case 40037:
          return { outcome: 'fail', errcode: 40037, reason: 'invalid_template_id' };
        case 47003:
          // "模板参数不准确": a value the platform's rules refuse that ours let through.
          return { outcome: 'fail', errcode: 47003, reason: 'template_params' };
        default:
          return null;
      }
    },

    async afterAccepted(manager, accepted) {
      const sends = accepted.flatMap(({ row }) => {
        const templateId = templateIdOf(row);
        return templateId === null ? [] : [{ contactId: row.contactId, templateId }];
      });
      if (sends.length > 0) await p.consents.spend(manager, p.channel, p.appId, sends);
    },
  };
}
