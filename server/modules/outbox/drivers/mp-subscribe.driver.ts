import type { SubscribeConsentService } from '../../subscribe-consent/subscribe-consent.service';
import type { ChannelDriver } from '../channel-driver';
import { createSubscribeDriver, type SubscribeSendPort } from './subscribe-message.driver';

/**
 * `mp_subscribe`: the mini-program's subscribe messages (message/subscribe/send) to its users'
 * mini-program openids, one per grant the mini-program reported from wx.requestSubscribeMessage
 * (SubscribeConsentService.recordMiniProgramConsent). See subscribe-message.driver.ts.
 */
export function createMpSubscribeDriver(p: { appId: string; client: SubscribeSendPort; consents: SubscribeConsentService }): ChannelDriver {
  return createSubscribeDriver({ channel: 'mp_subscribe', ...p });
}
