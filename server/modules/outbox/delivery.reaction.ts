import type { InteractionDetail } from '../../../entities/interaction.entity';
import type { InteractionsService } from '../interactions/interactions.service';
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
 * The platform's report on a template message (`template_delivered`, from TEMPLATESENDJOBFINISH):
 * finds the outbox row by its msgid (indexed), writes its delivery status, and records the outcome
 * on the contact's timeline as `message_delivered` or `message_failed` (direction out), tied to the
 * journey run or broadcast that sent it. A report for a message Flywheel did not send (another
 * system on the same account) changes nothing.
 */
export function createDeliveryReaction(deps: { interactions: () => InteractionsService }): Reaction {
  return {
    name: 'outbox-delivery',
    handles: { directions: ['out'], types: ['template_delivered'] },
    prepare(interaction) {
      const msgId = interaction.detail.msgId;
      const status = interaction.detail.status;
      if ((typeof msgId !== 'string' && typeof msgId !== 'number') || typeof status !== 'string') return Promise.resolve(null);
      const delivery = deliveryStatusOf(status);
      return Promise.resolve(async (m) => {
        const rows: {
          id: number | string;
          contact_id: number | string;
          source_type: string;
          source_id: string;
          run_id: number | null;
          node_id: string | null;
        }[] = await m.query(
          'SELECT id, contact_id, source_type, source_id, run_id, node_id FROM outbox_messages WHERE platform_msgid = ?',
          [String(msgId)],
        );
        const row = rows[0];
        if (!row) return;
        await m.query('UPDATE outbox_messages SET delivery_status = ? WHERE id = ?', [delivery, Number(row.id)]);
        const detail: InteractionDetail = {
          outboxId: Number(row.id),
          channel: 'oa_template',
          msgid: String(msgId),
          delivery,
          ...(row.source_type === 'journey' ? { runId: row.run_id === null ? null : Number(row.run_id), nodeId: row.node_id } : {}),
          ...(row.source_type === 'broadcast' ? { broadcastId: Number(row.source_id) } : {}),
        };
        await deps.interactions().recordInteraction(m, {
          type: delivery === 'delivered' ? 'message_delivered' : 'message_failed',
          channel: 'oa',
          direction: 'out',
          occurredAt: interaction.occurredAt,
          detail,
          identity: null,
          contactId: Number(row.contact_id),
          dedupeKey: `outbox:${Number(row.id)}:${delivery === 'delivered' ? 'delivered' : 'undelivered'}`,
          ref: row.source_type === 'journey' || row.source_type === 'broadcast' ? { type: row.source_type, id: row.source_id } : null,
        });
      });
    },
  };
}
