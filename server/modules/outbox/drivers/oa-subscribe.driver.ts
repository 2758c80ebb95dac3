import type { SubscribeConsentService } from '../../subscribe-consent/subscribe-consent.service';
import type { ChannelDriver } from '../channel-driver';
import { createSubscribeDriver, type SubscribeSendPort } from './subscribe-message.driver';

/**
 * `oa_subscribe`: the Official Account's subscribe messages (订阅通知, message/subscribe/bizsend),
 * one per grant a follower gave in a popup (subscribe_msg_popup_event). See subscribe-message.driver.ts.
 */
export function createOaSubscribeDriver(p: { appId: string; client: SubscribeSendPort; consents: SubscribeConsentService }): ChannelDriver {
  return createSubscribeDriver({ channel: 'oa_subscribe', ...p });
}
