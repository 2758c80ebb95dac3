import type { EntityManager } from 'typeorm';
import type { Clock } from '../../../adapters/clock';
import { PlatformApiError } from '../../../adapters/platform-error';
import type { GroupMsgContent } from '../../../adapters/wecom.client';
import { isMysqlManager, placeholders, toSqlDate } from '../../../db/sql';
import type { ChannelDriver, OutboxRow, Refusal, SendAccepted, SendPlan } from '../channel-driver';
import { firstCheckAt } from '../wecom-confirmations';

/** WeCom's externalcontact/add_msg_template, as the driver needs it (WecomClient). */
export interface GroupMsgPort {
  addMsgTemplate(p: {
    sender: string;
    externalUserIds: string[];
    content: GroupMsgContent;
  }): Promise<{ msgid: string; failList: string[] }>;
}

export interface WecomGroupMsgDriverDeps {
  corpId: string;
  client: GroupMsgPort;
  clock: Clock;
}

/** "text.content 消息文本内容，最多4000个字节". */
const MAX_TEXT_BYTES = 4000;
/** "附件，最多支持添加9个附件". */
const MAX_ATTACHMENTS = 9;

/**
 * WeCom refusals that prove no task was created. The person cannot receive it from this rep
 * (skip), or the message is wrong (fail). The sender's defaults cover the rest (-1 busy and the
 * token codes retried, 45009 pauses the channel).
 */
const SKIPS: ReadonlyMap<number, string> = new Map([
  [41048, 'not_friend'], // 无可发送的客户: the rep does not have the customer (any more)
  [84061, 'not_friend'], // 不存在外部联系人的关系
  [40096, 'invalid_external_userid'],
  [40003, 'invalid_rep'], // invalid userid: the rep left the corp
  [60111, 'invalid_rep'], // userid not found
]);
const FAILS: ReadonlyMap<number, string> = new Map([
  [44004, 'empty_content'],
  [45002, 'content_too_long'],
  [40058, 'invalid_argument'],
]);
/** 45033 "接口并发调用超过限制": try again later. */
const RETRIES: ReadonlySet<number> = new Set([45033]);

/** add_msg_template answered 0 but left the customer out of the task (its fail_list): nothing will be sent. */
export class GroupMsgLeftOutError extends Error {
  constructor(readonly externalUserId: string) {
    super('add_msg_template left the customer out (fail_list)');
    this.name = 'GroupMsgLeftOutError';
  }
}

/**
 * Channel `wecom_group_msg`: a message sent through the contact's rep, as a 企业群发 task for one
 * customer (add_msg_template, chat_type single). The platform only queues it: the rep confirms it
 * in the WeCom client, so an accepted row is `confirming`, and the confirmation check
 * (wecom-confirmations.ts) moves it to `sent` or `failed` from get_groupmsg_send_result.
 *
 * The recipient is the contact's external_userid in this corp, through its rep: the contact's
 * owner while the owner still follows it, else its longest-standing active follow user (as the
 * WeCom tag sync picks). The API takes no key, so an uncertain send stays `unknown` for good: a
 * second task would make the rep confirm, and the customer get, the message twice.
 *
 * One task per row: a task for several customers of a rep would be sent by the first row's
 * request while the sender may still hold others back (quiet hours, the frequency cap).
 */
export class WecomGroupMsgDriver implements ChannelDriver {
  readonly channel = 'wecom_group_msg' as const;
  readonly interactionChannel = 'wecom';
  readonly idempotencyWindowMs = null;
  readonly account: string;
  /** Who each accepted row went through, from its request to afterAccepted (the same pass). */
  private readonly accepted = new Map<number, { sender: string; externalUserId: string }>();

  constructor(private readonly deps: WecomGroupMsgDriverDeps) {
    this.account = deps.corpId;
  }

  async plan(rows: OutboxRow[], manager: EntityManager): Promise<Map<number, SendPlan>> {
    const plans = new Map<number, SendPlan>();
    const recipients = await this.recipientsOf(
      manager,
      rows.map((r) => r.contactId),
    );
    for (const row of rows) {
      const content = contentOf(row.payload);
      if (typeof content === 'string') {
        plans.set(row.id, { kind: 'fail', reason: content });
        continue;
      }
      const recipient = recipients.get(row.contactId);
      if (!recipient?.externalUserId) {
        plans.set(row.id, { kind: 'skip', reason: 'no_external_userid' });
        continue;
      }
      if (!recipient.sender) {
        plans.set(row.id, { kind: 'skip', reason: 'no_wecom_rep' });
        continue;
      }
      const sender = recipient.sender;
      const externalUserId = recipient.externalUserId;
      plans.set(row.id, {
        kind: 'send',
        request: async (): Promise<SendAccepted> => {
          const answer = await this.deps.client.addMsgTemplate({ sender, externalUserIds: [externalUserId], content });
          if (answer.failList.includes(externalUserId)) throw new GroupMsgLeftOutError(externalUserId);
          this.accepted.set(row.id, { sender, externalUserId });
          return { msgid: answer.msgid, state: 'confirming' };
        },
      });
    }
    return plans;
  }

  classify(error: unknown): Refusal | null {
    if (error instanceof GroupMsgLeftOutError) return { outcome: 'skip', errcode: null, reason: 'not_friend' };
    if (!(error instanceof PlatformApiError)) return null;
    const skip = SKIPS.get(error.errcode);
    if (skip) return { outcome: 'skip', errcode: error.errcode, reason: skip };
    const fail = FAILS.get(error.errcode);
    if (fail) return { outcome: 'fail', errcode: error.errcode, reason: fail };
    if (RETRIES.has(error.errcode)) return { outcome: 'retry', errcode: error.errcode, reason: `${error.errcode} ${error.errmsg}` };
    return null;
  }

  /** The task of each accepted row, for the confirmation check; a replayed transaction adds nothing. */
  async afterAccepted(manager: EntityManager, accepted: { row: OutboxRow; msgid: string | null }[]): Promise<void> {
    const now = this.deps.clock.now();
    const lines: { id: number; msgid: string; sender: string; externalUserId: string }[] = [];
    const missing = accepted.filter((a) => !this.accepted.has(a.row.id)).map((a) => a.row.contactId);
    // Only if the request's note was lost (it is not, within one pass): the recipient read again.
    const again = missing.length > 0 ? await this.recipientsOf(manager, missing) : new Map<number, Recipient>();
    for (const { row, msgid } of accepted) {
      const noted = this.accepted.get(row.id);
      const recipient = noted ?? again.get(row.contactId);
      if (!msgid || !recipient?.sender || !recipient.externalUserId) continue;
      lines.push({ id: row.id, msgid, sender: recipient.sender, externalUserId: recipient.externalUserId });
    }
    if (lines.length > 0) {
      const conflict = isMysqlManager(manager) ? 'ON DUPLICATE KEY UPDATE outbox_id = outbox_id' : 'ON CONFLICT (outbox_id) DO NOTHING';
      await manager.query(
        `INSERT INTO wecom_group_msg_sends (outbox_id, msgid, sender_user_id, external_user_id, accepted_at, next_check_at, checks)
         VALUES ${lines.map(() => '(?, ?, ?, ?, ?, ?, 0)').join(', ')} ${conflict}`,
        lines.flatMap((l) => [l.id, l.msgid, l.sender, l.externalUserId, toSqlDate(now), toSqlDate(firstCheckAt(now))]),
      );
    }
    for (const { row } of accepted) this.accepted.delete(row.id);
  }

  /** Each contact's external_userid in this corp and the rep to send through. */
  private async recipientsOf(manager: EntityManager, contactIds: number[]): Promise<Map<number, Recipient>> {
    const ids = [...new Set(contactIds)];
    const out = new Map<number, Recipient>();
    if (ids.length === 0) return out;
    const [externals, owners, follows] = await Promise.all([
      manager.query<{ contact_id: number | string; value: string }[]>(
        `SELECT contact_id, value FROM contact_identities WHERE kind = 'external_userid' AND app_id = ? AND contact_id IN (${placeholders(ids.length)}) ORDER BY id`,
        [this.deps.corpId, ...ids],
      ),
      manager.query<{ id: number | string; owner_user_id: string | null }[]>(
        `SELECT id, owner_user_id FROM contacts WHERE id IN (${placeholders(ids.length)})`,
        ids,
      ),
      manager.query<{ contact_id: number | string; user_id: string }[]>(
        `SELECT contact_id, user_id FROM contact_follows WHERE status = 'active' AND contact_id IN (${placeholders(ids.length)}) ORDER BY id`,
        ids,
      ),
    ]);
    for (const e of externals) {
      const id = Number(e.contact_id);
      if (!out.has(id)) out.set(id, { externalUserId: e.value, sender: null });
    }
    const ownerOf = new Map(owners.map((o) => [Number(o.id), o.owner_user_id]));
    for (const f of follows) {
      const id = Number(f.contact_id);
      const recipient = out.get(id) ?? { externalUserId: null, sender: null };
      // The owner while they still follow the customer, else the longest-standing relation.
      if (recipient.sender === null || f.user_id === ownerOf.get(id)) recipient.sender = f.user_id;
      out.set(id, recipient);
    }
    return out;
  }
}

interface Recipient {
  externalUserId: string | null;
  sender: string | null;
}

/** The message as add_msg_template takes it, or why the payload cannot be sent. */
function contentOf(payload: unknown): GroupMsgContent | string {
  if (typeof payload !== 'object' || payload === null) return 'wecom_payload';
  const p = payload as Record<string, unknown>;
  const text = typeof p.text === 'object' && p.text !== null ? (p.text as Record<string, unknown>).content : undefined;
  const content = typeof text === 'string' ? text : '';
  const attachments = Array.isArray(p.attachments) ? (p.attachments as unknown[]) : [];
  if (content === '' && attachments.length === 0) return 'empty_content';
  if (Buffer.byteLength(content, 'utf8') > MAX_TEXT_BYTES) return 'content_too_long';
  if (attachments.length > MAX_ATTACHMENTS) return 'too_many_attachments';
  return { ...(content === '' ? {} : { text: { content } }), ...(attachments.length > 0 ? { attachments } : {}) };
}
