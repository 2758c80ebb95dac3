import type { EntityManager } from 'typeorm';
import type { Channel } from '../../../entities/interaction.entity';
import type { OutboxChannel, OutboxPurpose } from '../../../entities/outbox-message.entity';

/**
 * What the outbox sender asks of each channel (docs/ARCHITECTURE.md, "The outbox"). The sender owns
 * the claim, the budget, quiet hours, the frequency cap, the outcome write and the delivery log,
 * the same for every channel; a driver owns what differs: who the recipient is, the checks before
 * a send (template rules, consent, the customer-service window), the request, and what its errors
 * mean. One driver per channel, in its own file, registered in the composition root.
 */

/** A claimed outbox row as a driver sees it. */
export interface OutboxRow {
  id: number;
  contactId: number;
  purpose: OutboxPurpose;
  sourceType: string;
  sourceId: string;
  runId: number | null;
  nodeId: string | null;
  /** The payload as enqueued (JSON.parse of the column; null when it is not JSON). */
  payload: unknown;
  /** Attempts including this one. */
  attempts: number;
}

/** What a driver decides for a row before any request leaves. */
export type SendPlan =
  /** The request; it resolves when the platform accepted the message, and throws otherwise. */
  | { kind: 'send'; request: () => Promise<SendAccepted> }
  /** The person cannot receive it (no openid, no consent, outside the window): `skipped`, recorded with the reason. */
  | { kind: 'skip'; reason: string }
  /** The message itself is wrong (a template rule, a payload): `failed` for good. */
  | { kind: 'fail'; reason: string };

export interface SendAccepted {
  /** The platform's id of the message (template msgid, WeCom msgid, SMS SerialNo), if it gives one. */
  msgid: string | null;
  /**
   * `sent` (the default): the platform took it. `confirming`: a person must still act before it
   * leaves (WeCom's add_msg_template waits for the rep), so a later check moves it to `sent` or
   * `failed`; it is never sent again either way.
   */
  state?: 'sent' | 'confirming';
}

/** How a platform's refusal is handled; the sender's defaults cover WeChat's common errcodes. */
export interface Refusal {
  /** skip: this person cannot receive it; retry: later, with backoff; fail: for good; quota: pause the channel until the quota resets. */
  outcome: 'skip' | 'retry' | 'fail' | 'quota';
  errcode: number | null;
  /** Recorded as the row's last_error (`not_following`, `LimitExceeded.PhoneNumberDailyLimit` ...). */
  reason: string;
}

export interface ChannelDriver {
  readonly channel: OutboxChannel;
  /** The account its rate limit and quota pause are kept per: an appid, a corpid, an SMS SdkAppId. */
  readonly account: string;
  /** The timeline channel of its interactions (`oa`, `mp`, `wecom`, `sms`). */
  readonly interactionChannel: Channel;
  /**
   * How long the platform dedupes a re-sent request carrying the row's key (clientMsgIdOf): a row
   * whose request may have been accepted is re-sent only inside it (template/send: 9 minutes of
   * its 10). null: the platform has no key, and an uncertain send stays `unknown` for good.
   */
  readonly idempotencyWindowMs: number | null;
  /** Plans a claimed batch, reading what its checks need for every row at once (recipients, consent, windows). */
  plan(rows: OutboxRow[], manager: EntityManager): Promise<Map<number, SendPlan>>;
  /**
   * A refusal the driver knows (its own error codes: 43101 for subscribe messages, SMS's string
   * codes); null leaves the error to the sender's defaults (40001/42001/-1/45011 retried, 45009
   * pauses, 43004 skips, a transport failure before sending retried, anything else uncertain).
   */
  classify?(error: unknown): Refusal | null;
  /** In the outcome's transaction, for the rows accepted: spend a one-time consent, count a window's message. */
  afterAccepted?(manager: EntityManager, accepted: { row: OutboxRow; msgid: string | null }[]): Promise<void>;
}
