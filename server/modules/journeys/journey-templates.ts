import { SANDBOX_TEMPLATES } from '../../adapters/sandbox/sandbox-templates';
import type { JourneyDefinition } from './journey-definition';

/** The journey a `reactivation` run hands a contact over to when nothing was opened. */
export const LOGIN_BOOST_JOURNEY = '登录促活';
const TAG_GROUP = '旅程';
const DAY = 86_400;
/** The offer the pushes lead to (the operator changes it in a new version; the sandbox follows any URL). */
const OFFER_URL = 'https://example.com/offer/welcome-back';

const coupon = SANDBOX_TEMPLATES[0];
const offerData = { thing1: '老朋友回归礼', amount2: '20元', time3: '7天内有效', thing4: '点击领取，限时有效' };

/**
 * seed 004's re-activation: "Push an offer. If it is not opened in 2 days, push again. Still not
 * opened: try SMS and WeCom. Opened on WeChat: tag 微信习惯用户, and next time prefer WeChat.
 * Nothing opened: tag 流失用户 and enter the 登录促活 journey." Its template messages use the
 * sandbox library's coupon template, so in sandbox mode it runs as instantiated.
 */
export function reactivationDefinition(): JourneyDefinition {
  return {
    entry: { kind: 'manual' },
    reentry: 'after_exit',
    start: 'push1',
    goal: null,
    nodes: [
      {
        id: 'push1',
        type: 'send',
        channel: 'oa_template',
        templateId: coupon.template_id,
        data: offerData,
        url: OFFER_URL,
        purpose: 'marketing',
        next: 'wait1',
        position: { x: 0, y: 0 },
      },
      {
        id: 'wait1',
        type: 'wait',
        mode: 'until_opened',
        node: 'push1',
        timeoutSeconds: 2 * DAY,
        opened: 'wechat_habit',
        timeout: 'push2',
        position: { x: 0, y: 120 },
      },
      {
        id: 'push2',
        type: 'send',
        channel: 'oa_template',
        templateId: coupon.template_id,
        data: offerData,
        url: OFFER_URL,
        purpose: 'marketing',
        next: 'wait2',
        position: { x: 0, y: 240 },
      },
      {
        id: 'wait2',
        type: 'wait',
        mode: 'until_opened',
        node: 'push2',
        timeoutSeconds: 2 * DAY,
        opened: 'wechat_habit',
        timeout: 'sms',
        position: { x: 0, y: 360 },
      },
      {
        id: 'sms',
        type: 'send',
        channel: 'sms',
        templateId: 'SMS_REACTIVATION_001',
        data: { name: '老朋友回归礼' },
        url: OFFER_URL,
        purpose: 'marketing',
        next: 'wecom',
        position: { x: 0, y: 480 },
      },
      {
        id: 'wecom',
        type: 'send',
        channel: 'wecom_group_msg',
        text: '好久不见！为您准备了老朋友回归礼，点击领取。',
        url: OFFER_URL,
        purpose: 'marketing',
        next: 'wait3',
        position: { x: 0, y: 600 },
      },
      { id: 'wait3', type: 'wait', mode: 'duration', seconds: 2 * DAY, next: 'opened_elsewhere', position: { x: 0, y: 720 } },
      {
        id: 'opened_elsewhere',
        type: 'condition',
        condition: {
          kind: 'any',
          of: [
            { kind: 'opened', node: 'sms' },
            { kind: 'opened', node: 'wecom' },
          ],
        },
        then: 'done',
        else: 'churned',
        position: { x: 0, y: 840 },
      },
      {
        id: 'wechat_habit',
        type: 'action',
        actions: [
          { kind: 'add_tags', tags: [{ group: TAG_GROUP, name: '微信习惯用户' }] },
          { kind: 'set_preferred_channel', channel: 'oa_template' },
        ],
        next: 'done',
        position: { x: 300, y: 240 },
      },
      {
        id: 'churned',
        type: 'action',
        actions: [
          { kind: 'add_tags', tags: [{ group: TAG_GROUP, name: '流失用户' }] },
          { kind: 'enter_journey', journey: LOGIN_BOOST_JOURNEY },
        ],
        next: 'done',
        position: { x: 0, y: 960 },
      },
      { id: 'done', type: 'exit', position: { x: 300, y: 960 } },
    ],
  };
}

/** 登录促活: one push (on the channel the contact last opened) inviting them to log in again. */
export function loginBoostDefinition(): JourneyDefinition {
  return {
    entry: { kind: 'manual' },
    reentry: 'after_exit',
    start: 'invite',
    goal: null,
    nodes: [
      {
        id: 'invite',
        type: 'send',
        channel: 'preferred',
        fallback: 'oa_template',
        templateId: SANDBOX_TEMPLATES[1].template_id,
        data: { thing1: '登录领积分', time2: '本周内', thing3: '线上活动' },
        url: 'https://example.com/login',
        purpose: 'marketing',
        next: 'done',
        position: { x: 0, y: 0 },
      },
      { id: 'done', type: 'exit', position: { x: 0, y: 120 } },
    ],
  };
}

export interface JourneyTemplate {
  key: string;
  name: string;
  definition: () => JourneyDefinition;
  /** Journeys it hands contacts over to, created with it when missing. */
  companions?: { name: string; template: string }[];
}

export const JOURNEY_TEMPLATES: readonly JourneyTemplate[] = [
  {
    key: 'reactivation',
    name: '沉默用户唤醒',
    definition: reactivationDefinition,
    companions: [{ name: LOGIN_BOOST_JOURNEY, template: 'login_boost' }],
  },
  { key: 'login_boost', name: LOGIN_BOOST_JOURNEY, definition: loginBoostDefinition },
];
