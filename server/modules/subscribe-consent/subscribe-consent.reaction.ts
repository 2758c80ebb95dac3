import type { Reaction } from '../reactions/reaction';
import type { ConsentAnswer, ConsentSource, SubscribeConsentService } from './subscribe-consent.service';

const SOURCES: Readonly<Record<string, ConsentSource>> = { subscribe_msg_popup: 'popup', subscribe_msg_change: 'change' };

/**
 * The Official Account's subscribe-message answers become grants: `subscribe_msg_popup` (a popup
 * answered: SubscribeMsgPopupEvent) and `subscribe_msg_change` (the user's settings:
 * SubscribeMsgChangeEvent), whose detail holds one template id and one status per List element
 * (interaction-mapping.ts, from one element or several). The interaction is stored before the
 * callback is answered; this reaction runs from its durable work row, so no answer is lost, and
 * each (interaction, template) is applied once (SubscribeConsentService.apply's unique key).
 * @link https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
 */
export function createSubscribeConsentReaction(deps: { consents: SubscribeConsentService; appId: string }): Reaction {
  return {
    name: 'subscribe-consent',
    handles: { types: Object.keys(SOURCES) },
    prepare(interaction) {
      const source = SOURCES[interaction.type];
      const templateIds = interaction.detail.templateIds;
      const statuses = interaction.detail.statuses;
      if (source === undefined || !Array.isArray(templateIds) || !Array.isArray(statuses)) return Promise.resolve(null);
      return Promise.resolve(async (m, row) => {
        if (row.contactId === null) return;
        const contactId = row.contactId;
        const answers: ConsentAnswer[] = templateIds.flatMap((templateId, i) => {
          const status = statuses[i];
          if (typeof templateId !== 'string' || typeof status !== 'string') return [];
          return [
            {
              contactId,
              channel: 'oa_subscribe' as const,
              appId: deps.appId,
              templateId,
              status,
              source,
              dedupeKey: `oa:${deps.appId}:i${interaction.id}:${templateId}`,
              at: interaction.occurredAt,
            },
          ];
        });
        await deps.consents.apply(m, answers);
      });
    },
  };
}
