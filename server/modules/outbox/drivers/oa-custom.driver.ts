import type { EntityManager } from 'typeorm';
import type { Clock } from '../../../adapters/clock';
import { PlatformApiError } from '../../../adapters/platform-error';
import {
  buildCustomSendBody,
  CUSTOM_ERRCODES,
  customDraftFromPayload,
  customWindowOpen,
  describeCustomViolations,
} from '../../../wechat/custom-message';
import type { ChannelDriver, OutboxRow, Refusal, SendPlan } from '../channel-driver';
import { countCustomSends, readCustomWindows } from '../custom-window';
import { openidsOf } from './oa-template.driver';

/** The Official Account's message/custom/send, as the driver needs it (OfficialAccountClient). */
export interface CustomSendPort {
  sendCustomMessage(body: Record<string, unknown>): Promise<{ msgid: string | null }>;
}

export interface OaCustomDriverDeps {
  appId: string;
  client: CustomSendPort;
  clock: Clock;
  /** Messages per window (OUTBOX_CUSTOM_PER_WINDOW); read at each plan. */
  perWindow: () => number;
}

/**
 * The window must still be open this long after the plan: the request leaves within the claim,
 * and the platform's clock is not ours. A window closing sooner is treated as closed (no request).
 */
const WINDOW_MARGIN_MS = 60_000;
/** Plans kept for afterAccepted at most; past it the oldest go (their sends count against the current window). */
const MAX_REMEMBERED_PLANS = 20_000;

/** The refusals of message/custom/send, all known to come before the platform took the message. */
const REFUSALS: ReadonlyMap<number, Refusal> = new Map<number, Refusal>([
  [CUSTOM_ERRCODES.outsideWindow, { outcome: 'skip', errcode: CUSTOM_ERRCODES.outsideWindow, reason: 'outside_window' }],
  [CUSTOM_ERRCODES.countSpent, { outcome: 'skip', errcode: CUSTOM_ERRCODES.countSpent, reason: 'window_count' }],
  [43004, { outcome: 'skip', errcode: 43004, reason: 'not_following' }],
  [40003, { outcome: 'skip', errcode: 40003, reason: 'invalid_openid' }],
  [CUSTOM_ERRCODES.contentTooLong, { outcome: 'fail', errcode: CUSTOM_ERRCODES.contentTooLong, reason: 'content_too_long' }],
  [CUSTOM_ERRCODES.articlesTooMany, { outcome: 'fail', errcode: CUSTOM_ERRCODES.articlesTooMany, reason: 'too_many_articles' }],
  [CUSTOM_ERRCODES.badMessageType, { outcome: 'fail', errcode: CUSTOM_ERRCODES.badMessageType, reason: 'bad_msgtype' }],
]);

/**
 * Customer-service messages (oa_custom, message/custom/send): only inside the follower's 48-hour
 * window, and at most `perWindow` of them in it (server/wechat/custom-message.ts). The window is
 * kept by the window reaction (custom-window.ts); this driver reads it for the whole batch at
 * once, skips a row whose window is closed (`outside_window`) or spent (`window_count`) without a
 * request, and counts each accepted message in the outcome's transaction. The platform takes no
 * key for this API, so a send whose outcome is uncertain stays `unknown` for good.
 */
export class OaCustomDriver implements ChannelDriver {
  readonly channel = 'oa_custom' as const;
  readonly interactionChannel = 'oa' as const;
  readonly idempotencyWindowMs = null;
  /** The window each planned send was counted against, until its outcome is written. */
  private readonly planned = new Map<number, { contactId: number; openedAt: Date }>();

  constructor(private readonly deps: OaCustomDriverDeps) {}

  get account(): string {
    return this.deps.appId;
  }

  async plan(rows: OutboxRow[], manager: EntityManager): Promise<Map<number, SendPlan>> {
    const plans = new Map<number, SendPlan>();
    const contactIds = [...new Set(rows.map((r) => r.contactId))];
    const openids = await openidsOf(manager, 'oa_openid', this.deps.appId, rows);
    const windows = await readCustomWindows(manager, this.deps.appId, contactIds);
    const now = this.deps.clock.now();
    const perWindow = this.deps.perWindow();
    // Sends this batch already planned per contact: two rows for one follower share the count.
    const planning = new Map<number, number>();
    for (const row of rows) {
      const parsed = customDraftFromPayload(row.payload);
      if ('violations' in parsed) {
        plans.set(row.id, { kind: 'fail', reason: `custom_payload: ${describeCustomViolations(parsed.violations)}` });
        continue;
      }
      const openid = openids.get(row.contactId);
      if (openid === undefined) {
        plans.set(row.id, { kind: 'skip', reason: 'no_openid' });
        continue;
      }
      const window = windows.get(row.contactId);
      if (!window || !customWindowOpen(window.openedAt, now, WINDOW_MARGIN_MS)) {
        plans.set(row.id, { kind: 'skip', reason: 'outside_window' });
        continue;
      }
      const used = window.sentCount + (planning.get(row.contactId) ?? 0);
      if (used >= perWindow) {
        plans.set(row.id, { kind: 'skip', reason: 'window_count' });
        continue;
      }
      planning.set(row.contactId, (planning.get(row.contactId) ?? 0) + 1);
      this.remember(row.id, { contactId: row.contactId, openedAt: window.openedAt });
      const body = buildCustomSendBody(openid, parsed.draft);
      plans.set(row.id, { kind: 'send', request: () => this.deps.client.sendCustomMessage(body) });
    }
    return plans;
  }

  classify(error: unknown): Refusal | null {
    if (!(error instanceof PlatformApiError)) return null;
    return REFUSALS.get(error.errcode) ?? null;
  }

  /** Counts each accepted message against the window it was planned in (custom-window.ts countCustomSends). */
  async afterAccepted(manager: EntityManager, accepted: { row: OutboxRow; msgid: string | null }[]): Promise<void> {
    const sends: { contactId: number; appId: string; openedAt: Date }[] = [];
    const unplanned: number[] = [];
    for (const { row } of accepted) {
      const planned = this.planned.get(row.id);
      if (planned) sends.push({ contactId: planned.contactId, appId: this.deps.appId, openedAt: planned.openedAt });
      else unplanned.push(row.contactId);
    }
    // A send this instance no longer remembers planning counts against the window it finds.
    if (unplanned.length > 0) {
      const windows = await readCustomWindows(manager, this.deps.appId, unplanned);
      for (const contactId of unplanned) {
        const window = windows.get(contactId);
        if (window) sends.push({ contactId, appId: this.deps.appId, openedAt: window.openedAt });
      }
    }
    // The plans are not forgotten here: a retried transaction calls this again with the same rows.
    await countCustomSends(manager, sends, this.deps.clock.now());
  }

  private remember(rowId: number, plan: { contactId: number; openedAt: Date }): void {
    // A row is planned again only in a later claim; the oldest plans (their outcomes long written) go first.
    this.planned.delete(rowId);
    this.planned.set(rowId, plan);
    while (this.planned.size > MAX_REMEMBERED_PLANS) {
      const oldest = this.planned.keys().next().value;
      if (oldest === undefined) break;
      this.planned.delete(oldest);
    }
  }
}
