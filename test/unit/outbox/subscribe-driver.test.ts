import { PlatformApiError, PlatformTransportError } from '../../../server/adapters/platform-error';
import { deliveryStatusOf, subscribeDeliveryStatusOf } from '../../../server/modules/outbox/delivery.reaction';
import { createMpSubscribeDriver } from '../../../server/modules/outbox/drivers/mp-subscribe.driver';
import { createOaSubscribeDriver } from '../../../server/modules/outbox/drivers/oa-subscribe.driver';
import type { SubscribeConsentService } from '../../../server/modules/subscribe-consent/subscribe-consent.service';

const consents = {} as SubscribeConsentService;
const client = { sendSubscribeMessage: () => Promise.resolve({ msgid: '1' }) };

describe('subscribe drivers', () => {
  it('are keyless: an uncertain send is unknown for good; their interactions are on the right channel', () => {
    const oa = createOaSubscribeDriver({ appId: 'wxoa', client, consents });
    const mp = createMpSubscribeDriver({ appId: 'wxmp', client, consents });
    expect([oa.channel, oa.account, oa.interactionChannel, oa.idempotencyWindowMs]).toEqual(['oa_subscribe', 'wxoa', 'oa', null]);
    expect([mp.channel, mp.account, mp.interactionChannel, mp.idempotencyWindowMs]).toEqual(['mp_subscribe', 'wxmp', 'mp', null]);
  });

  it('classify: 43101 and 40003 skip the person, 40037 and 47003 fail the message, the rest is the sender’s', () => {
    const driver = createOaSubscribeDriver({ appId: 'wxoa', client, consents });
    const refusal = (errcode: number) => driver.classify?.(new PlatformApiError('subscribe/bizsend', errcode, 'x'));
    expect(refusal(43101)).toEqual({ outcome: 'skip', errcode: 43101, reason: 'refused_by_user' });
    expect(refusal(40003)).toEqual({ outcome: 'skip', errcode: 40003, reason: 'invalid_openid' });
    expect(refusal(40037)).toEqual({ outcome: 'fail', errcode: 40037, reason: 'invalid_template_id' });
    expect(refusal(47003)).toEqual({ outcome: 'fail', errcode: 47003, reason: 'template_params' });
    expect(refusal(45009)).toBeNull();
    expect(driver.classify?.(new PlatformTransportError('subscribe/bizsend', 'timeout', 'no answer'))).toBeNull();
  });

  it('reads subscribe_msg_sent_event per message as TEMPLATESENDJOBFINISH is read', () => {
    expect(subscribeDeliveryStatusOf('0', 'success')).toBe('delivered');
    expect(subscribeDeliveryStatusOf('43101', 'failed:user block')).toBe('user_block');
    expect(subscribeDeliveryStatusOf('', 'failed:user block')).toBe('user_block');
    expect(subscribeDeliveryStatusOf('43107', 'failed:system failed')).toBe('system_failed');
    expect(deliveryStatusOf('failed:user block')).toBe('user_block');
  });
});
