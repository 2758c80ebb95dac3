import type { InteractionDetail } from '../../../entities/interaction.entity';
import type { InteractionsService } from '../interactions/interactions.service';
import { placeholders } from '../../db/sql';
import type { Reaction } from '../reactions/reaction';

/**
 * TEMPLATESENDJOBFINISH's Status: "success" 送达成功, "failed:user block" 用户拒收, "failed: system
 * failed" 其他原因失败.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
 */
export function deliveryStatusOf(status: string): 'delivered' | 'user_block' | 'system_failed' {
  if (status === 'success') return 'delivered';
  return /user\s*block/i.test(status) ? 'user_block' : 'system_failed';
}

/**
 * subscribe_msg_sent_event's ErrorCode / ErrorStatus per message: 0 "success"; 43101 or a status
 * naming the user's block ("failed:user block") is the user's refusal; anything else failed.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
 */
export function subscribeDeliveryStatusOf(errorCode: string, errorStatus: string): 'delivered' | 'user_block' | 'system_failed' {
  if (errorCode === '0' || (errorCode === '' && errorStatus === 'success')) return 'delivered';
  if (errorCode === '43101' || /user\s*(block|refuse)/i.test(errorStatus)) return 'user_block';
  return 'system_failed';
}

/** One message the report is about. */
interface Report {
  msgId: string;
  delivery: 'delivered' | 'user_block' | 'system_failed';
}

/** The messages an interaction reports on: TEMPLATESENDJOBFINISH's one, or subscribe_msg_sent_event's List (one or several). */
function reportsOf(type: string, detail: Record<string, unknown>): Report[] {
  if (type === 'template_delivered') {
    const { msgId, status } = detail;
    if ((typeof msgId !== 'string' && typeof msgId !== 'number') || typeof status !== 'string') return [];
    return [{ msgId: String(msgId), delivery: deliveryStatusOf(status) }];
  }
  const msgIds = detail.msgIds;
  if (!Array.isArray(msgIds)) return [];
  const at = (name: string, i: number): string => {
    const list = detail[name];
    return Array.isArray(list) && typeof list[i] === 'string' ? list[i] : '';
  };
  return msgIds.flatMap((msgId, i) =>
    typeof msgId === 'string' && msgId !== ''
      ? [{ msgId, delivery: subscribeDeliveryStatusOf(at('errorCodes', i), at('errorStatuses', i)) }]
      : [],
  );
}

/** The timeline channel of an outbox channel's messages (the Official Account's unless named). */
const TIMELINE_CHANNEL: Readonly<Record<string, 'mp'>> = { mp_subscribe: 'mp' };

/**
 * The outbox channels whose msgids a report's type is about: template and subscribe msgids are
 * separate number spaces, so a report is matched only against its own kind of message.
 */
const REPORTED_CHANNELS: Readonly<Record<string, readonly string[]>> = {
  template_delivered: ['oa_template'],
  subscribe_msg_sent: ['oa_subscribe', 'mp_subscribe'],
};

/**
 * The platform's report on messages Flywheel sent (`template_delivered` from TEMPLATESENDJOBFINISH,
 * `subscribe_msg_sent` from subscribe_msg_sent_event): finds each outbox row by its msgid (indexed),
 * writes its delivery status, and records the outcome on the contact's timeline as
 * `message_delivered` or `message_failed` (direction out), tied to the journey run or broadcast
 * that sent it. A report for a message Flywheel did not send (another system on the same account)
 * changes nothing.
 */
export function createDeliveryReaction(deps: { interactions: () => InteractionsService }): Reaction {
  return {
    name: 'outbox-delivery',
    handles: { directions: ['out'], types: ['template_delivered', 'subscribe_msg_sent'] },
    prepare(interaction) {
      const reports = reportsOf(interaction.type, interaction.detail);
      const channels = REPORTED_CHANNELS[interaction.type] ?? [];
      if (reports.length === 0 || channels.length === 0) return Promise.resolve(null);
      return Promise.resolve(async (m) => {
        for (const { msgId, delivery } of reports) {
          const rows: {
            id: number | string;
            contact_id: number | string;
            channel: string;
            source_type: string;
            source_id: string;
            run_id: number | null;
            node_id: string | null;
          }[] = await m.query(
            `SELECT id, contact_id, channel, source_type, source_id, run_id, node_id FROM outbox_messages
             WHERE platform_msgid = ? AND channel IN (${placeholders(channels.length)})`,
            [msgId, ...channels],
          );
          const row = rows[0];
          if (!row) continue;
          await m.query('UPDATE outbox_messages SET delivery_status = ? WHERE id = ?', [delivery, Number(row.id)]);
          const detail: InteractionDetail = {
            outboxId: Number(row.id),
            channel: row.channel,
            msgid: msgId,
            delivery,
            ...(row.source_type === 'journey' ? { runId: row.run_id === null ? null : Number(row.run_id), nodeId: row.node_id } : {}),
            ...(row.source_type === 'broadcast' ? { broadcastId: Number(row.source_id) } : {}),
          };
          await deps.interactions().recordInteraction(m, {
            type: delivery === 'delivered' ? 'message_delivered' : 'message_failed',
            channel: TIMELINE_CHANNEL[row.channel] ?? 'oa',
            direction: 'out',
            occurredAt: interaction.occurredAt,
            detail,
            identity: null,
            contactId: Number(row.contact_id),
            dedupeKey: `outbox:${Number(row.id)}:${delivery === 'delivered' ? 'delivered' : 'undelivered'}`,
            ref: row.source_type === 'journey' || row.source_type === 'broadcast' ? { type: row.source_type, id: row.source_id } : null,
          });
        }
      });
    },
  };
}
