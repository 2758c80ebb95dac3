import type { EntityManager } from 'typeorm';
import { PlatformApiError } from '../../../adapters/platform-error';
import { placeholders } from '../../../db/sql';
import {
  buildTemplateSendBody,
  checkTemplateMessage,
  describeViolations,
  templateDraftFromPayload,
} from '../../../wechat/template-message';
import type { ChannelDriver, OutboxRow, Refusal, SendPlan } from '../channel-driver';

/** The Official Account's template/send, as the driver needs it (OfficialAccountClient). */
export interface TemplateSendPort {
  sendTemplateMessage(body: Record<string, unknown>): Promise<{ msgid: string }>;
}

/**
 * template/send honours client_msg_id for 10 minutes per openid. A row whose send may have been
 * accepted is re-sent with the same id only while its first uncertain attempt is younger than
 * this (9 minutes: the request leaves within the claim, and the platform's clock is not ours).
 */
export const CLIENT_MSG_ID_RETRY_MS = 9 * 60_000;

/** The client_msg_id of a row: stable across its attempts, unique per row ("fw" + the row id). */
export function clientMsgIdOf(id: number): string {
  return `fw${id}`;
}

/**
 * Official Account template messages (message/template/send). Before a send: the follower's openid
 * of this account and the template rules (server/wechat/template-message.ts). 43101: the follower
 * refused this template.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
 */
export class OaTemplateDriver implements ChannelDriver {
  readonly channel = 'oa_template' as const;
  readonly interactionChannel = 'oa' as const;
  readonly idempotencyWindowMs = CLIENT_MSG_ID_RETRY_MS;

  constructor(
    readonly account: string,
    private readonly client: TemplateSendPort,
  ) {}

  async plan(rows: OutboxRow[], manager: EntityManager): Promise<Map<number, SendPlan>> {
    const openids = await openidsOf(manager, 'oa_openid', this.account, rows);
    const plans = new Map<number, SendPlan>();
    for (const row of rows) {
      const draft = templateDraftFromPayload(row.payload);
      const violations = draft ? checkTemplateMessage(draft) : [];
      const openid = openids.get(row.contactId);
      if (!draft || violations.length > 0)
        plans.set(row.id, { kind: 'fail', reason: draft ? `template_rules: ${describeViolations(violations)}` : 'template_payload' });
      else if (!openid) plans.set(row.id, { kind: 'skip', reason: 'no_openid' });
      else {
        const body = buildTemplateSendBody({ touser: openid, clientMsgId: clientMsgIdOf(row.id), draft });
        plans.set(row.id, { kind: 'send', request: async () => ({ msgid: (await this.client.sendTemplateMessage(body)).msgid }) });
      }
    }
    return plans;
  }

  classify(error: unknown): Refusal | null {
    if (error instanceof PlatformApiError && error.errcode === 43101) return { outcome: 'skip', errcode: 43101, reason: 'refused_by_user' };
    return null;
  }
}

/** Each contact's identity of a kind on an app (an openid), one query for the batch. */
export async function openidsOf(manager: EntityManager, kind: string, appId: string, rows: OutboxRow[]): Promise<Map<number, string>> {
  const contacts = [...new Set(rows.map((r) => r.contactId))];
  if (contacts.length === 0) return new Map();
  const found: { contact_id: number | string; value: string }[] = await manager.query(
    `SELECT contact_id, value FROM contact_identities WHERE kind = ? AND app_id = ? AND contact_id IN (${placeholders(contacts.length)})`,
    [kind, appId, ...contacts],
  );
  return new Map(found.map((f) => [Number(f.contact_id), f.value]));
}
