/**
 * The one registry of interaction types: what each type is (its direction), what it is called on
 * the timeline in both languages, where its words are, and which matchers rules, segments and
 * journey conditions may use on it. The server (recordInteraction, tag-rule validation, the
 * rule matcher) and the admin page (the rule editor's list, the timeline, the i18n messages)
 * read it; adding a type is one entry here, plus whatever produces it.
 *
 * Shared by server and page like field-rules.ts: no imports, plain data.
 */

/** A matcher a rule, segment condition or journey trigger can put on an interaction's detail. */
export const MATCHER_KINDS = [
  'keyword_exact',
  'keyword_contains',
  'scene',
  'menu_key',
  'event_id',
  'content_id',
  'satisfaction_at_most',
  'satisfaction_at_least',
] as const;
export type MatcherKind = (typeof MATCHER_KINDS)[number];

/** The detail field each matcher reads. */
export const MATCHER_FIELDS: Readonly<Record<MatcherKind, string>> = {
  keyword_exact: 'content',
  keyword_contains: 'content',
  scene: 'scene',
  menu_key: 'menuKey',
  event_id: 'eventId',
  content_id: 'contentId',
  satisfaction_at_most: 'satisfaction',
  satisfaction_at_least: 'satisfaction',
};

/** The matchers that compare a number (their value is a whole number 1 to 5: a survey's rating). */
export const NUMERIC_MATCHERS: ReadonlySet<MatcherKind> = new Set(['satisfaction_at_most', 'satisfaction_at_least']);

export interface InteractionTypeDef {
  /**
   * `in`: the contact did it, a sign of life; `out`: sent to them or about them (a send, its
   * delivery, a segment entered), on the timeline but never counted as activity.
   */
  direction: 'in' | 'out';
  label: { zh: string; en: string };
  /** The detail keys that hold what the customer said or chose; the first present one is shown. */
  words?: readonly string[];
  /** The matchers that make sense on it, beyond `any`. */
  matchers?: readonly MatcherKind[];
  /** Offered when an operator picks the interaction a tag or score rule fires on. */
  ruleTrigger?: boolean;
}

const MENU: Pick<InteractionTypeDef, 'matchers' | 'ruleTrigger'> = { matchers: ['menu_key'], ruleTrigger: true };

export const INTERACTION_TYPES = {
  // Official Account: follow, messages, menu, QR codes.
  subscribe: { direction: 'in', label: { zh: '关注', en: 'Followed' }, words: ['scene'], matchers: ['scene'], ruleTrigger: true },
  unsubscribe: { direction: 'in', label: { zh: '取消关注', en: 'Unfollowed' }, ruleTrigger: true },
  text: {
    direction: 'in',
    label: { zh: '发来消息', en: 'Sent a message' },
    words: ['content'],
    matchers: ['keyword_exact', 'keyword_contains'],
    ruleTrigger: true,
  },
  image: { direction: 'in', label: { zh: '发来图片', en: 'Sent an image' } },
  voice: { direction: 'in', label: { zh: '发来语音', en: 'Sent a voice message' }, words: ['recognition'] },
  video: { direction: 'in', label: { zh: '发来视频', en: 'Sent a video' } },
  shortvideo: { direction: 'in', label: { zh: '发来小视频', en: 'Sent a short video' } },
  location: { direction: 'in', label: { zh: '发来位置', en: 'Sent a location' }, words: ['label'] },
  link: { direction: 'in', label: { zh: '发来链接', en: 'Sent a link' }, words: ['title'] },
  click: { direction: 'in', label: { zh: '点击菜单', en: 'Clicked a menu' }, words: ['menuKey'], ...MENU },
  view: { direction: 'in', label: { zh: '点击菜单链接', en: 'Opened a menu link' }, words: ['url'], ...MENU },
  menu_scan: { direction: 'in', label: { zh: '菜单扫一扫', en: 'Scanned from the menu' }, words: ['scanResult'], ...MENU },
  menu_pics: { direction: 'in', label: { zh: '菜单发图', en: 'Sent pictures from the menu' }, ...MENU },
  menu_location: {
    direction: 'in',
    label: { zh: '菜单发送位置', en: 'Sent a location from the menu' },
    words: ['poiname', 'label'],
    ...MENU,
  },
  view_miniprogram: {
    direction: 'in',
    label: { zh: '从菜单打开小程序', en: 'Opened the mini-program from the menu' },
    words: ['pagePath'],
    ...MENU,
  },
  scan: { direction: 'in', label: { zh: '扫码', en: 'Scanned a QR code' }, words: ['scene'], matchers: ['scene'], ruleTrigger: true },
  location_report: { direction: 'in', label: { zh: '上报位置', en: 'Reported a location' } },
  subscribe_msg_popup: { direction: 'in', label: { zh: '订阅消息弹窗', en: 'Subscription prompt' } },
  subscribe_msg_change: { direction: 'in', label: { zh: '订阅消息变更', en: 'Subscription changed' } },
  // The platform reporting on our sends (TEMPLATESENDJOBFINISH, MASSSENDJOBFINISH,
  // subscribe_msg_sent_event): about a message we sent, not something the customer did.
  template_delivered: { direction: 'out', label: { zh: '模板消息送达', en: 'Template message delivered' } },
  mass_send_finished: { direction: 'out', label: { zh: '群发完成', en: 'Broadcast finished' } },
  subscribe_msg_sent: { direction: 'out', label: { zh: '订阅消息发送', en: 'Subscription message sent' } },
  // WeCom customer contact.
  add_external_contact: {
    direction: 'in',
    label: { zh: '添加企业微信', en: 'Added on WeCom' },
    words: ['state'],
    matchers: ['scene'],
    ruleTrigger: true,
  },
  add_half_external_contact: { direction: 'in', label: { zh: '添加企业微信（待通过）', en: 'Added on WeCom (pending)' }, words: ['state'] },
  edit_external_contact: { direction: 'in', label: { zh: '企业微信资料变更', en: 'WeCom profile changed' } },
  del_external_contact: { direction: 'in', label: { zh: '删除企业微信', en: 'Deleted on WeCom' } },
  del_follow_user: { direction: 'in', label: { zh: '被客户删除', en: 'Removed the rep' } },
  transfer_fail: { direction: 'in', label: { zh: '客户接替失败', en: 'Hand-over failed' } },
  // Journeys and delivery: what Flywheel sent, and what the customer did with it.
  message_sent: { direction: 'out', label: { zh: '推送已发出', en: 'Message sent' } },
  message_delivered: { direction: 'out', label: { zh: '推送已送达', en: 'Message delivered' } },
  message_failed: { direction: 'out', label: { zh: '推送失败', en: 'Message failed' } },
  link_clicked: { direction: 'in', label: { zh: '打开推送链接', en: 'Opened a pushed link' }, words: ['target'] },
  segment_entered: { direction: 'out', label: { zh: '进入分群', en: 'Entered a segment' }, words: ['segmentName'] },
  segment_exited: { direction: 'out', label: { zh: '离开分群', en: 'Left a segment' }, words: ['segmentName'] },
  // Lead scoring: a hot lead handed to a rep.
  sales_assigned: { direction: 'out', label: { zh: '分配给销售', en: 'Assigned to sales' } },
  // Payments and referrals (exhibitions, the mini-program): stage rules move contacts on them.
  payment: { direction: 'in', label: { zh: '支付', en: 'Payment' }, words: ['description'] },
  referral: { direction: 'in', label: { zh: '推荐好友', en: 'Referral' } },
  // A visit through a channel's code (server/modules/channels/channel-scene.ts): the mini-program opened by its code.
  channel_visit: { direction: 'in', label: { zh: '通过渠道码访问', en: 'Visited through a channel code' }, matchers: ['scene'] },
  // Exhibitions (server/modules/exhibitions): ref_type 'event', ref_id the event; detail.eventId for the matcher.
  event_visit: { direction: 'in', label: { zh: '访问活动页', en: 'Visited an event page' }, matchers: ['event_id'] },
  registration: {
    direction: 'in',
    label: { zh: '活动报名', en: 'Registered for an event' },
    words: ['status'],
    matchers: ['event_id'],
    ruleTrigger: true,
  },
  registration_cancelled: { direction: 'in', label: { zh: '取消活动报名', en: 'Cancelled a registration' }, matchers: ['event_id'] },
  checkin: {
    direction: 'in',
    label: { zh: '活动签到', en: 'Checked in at an event' },
    words: ['gate'],
    matchers: ['event_id'],
    ruleTrigger: true,
  },
  // The content centre: a known visitor opened a material's tracked link (/c/<code>?ch=). Opened
  // from an event's cloud exhibition (`&ev=`), its detail carries the eventId too.
  // After the event (issue 15 §5): a survey answered through its signed link; a sales follow-up closed.
  survey_answer: {
    direction: 'in',
    label: { zh: '提交满意度调查', en: 'Answered a survey' },
    words: ['satisfaction'],
    // "Rated 2 or less" tags the unhappy for a call; "4 or more" the ones to ask for a referral.
    matchers: ['event_id', 'satisfaction_at_most', 'satisfaction_at_least'],
    ruleTrigger: true,
  },
  followup_done: { direction: 'out', label: { zh: '销售跟进完成', en: 'Sales follow-up done' } },
  // The WeCom sidebar (issue 16): a rep's note on the customer, and what the rep sent into the chat
  // (a business card, an event invitation). `out`: done about the customer, not by them.
  sales_note: { direction: 'out', label: { zh: '销售备注', en: 'Sales note' }, words: ['text'] },
  sidebar_share: { direction: 'out', label: { zh: '销售发送到聊天', en: 'Sent into the chat by the rep' }, words: ['title'] },
  // The content centre: a known visitor opened a material's tracked link (/c/<code>?ch=).
  content_view: {
    direction: 'in',
    label: { zh: '阅读内容', en: 'Read content' },
    words: ['title'],
    matchers: ['content_id', 'event_id'],
    ruleTrigger: true,
  },
  // The cloud exhibition (/e/<event>/cloud): a known visitor's visit (once a day), and an online consult.
  event_cloud_visit: { direction: 'in', label: { zh: '访问云展厅', en: 'Visited the cloud exhibition' }, matchers: ['event_id'] },
  event_consult: {
    direction: 'in',
    label: { zh: '在线咨询', en: 'Sent an online enquiry' },
    words: ['message'],
    matchers: ['event_id'],
    ruleTrigger: true,
  },
  // The mini-program (/api/mp, issue 17): a login (wx.login → code2Session), a phone number shared
  // through the getPhoneNumber button, and a wx.requestSubscribeMessage answer.
  mp_login: { direction: 'in', label: { zh: '登录小程序', en: 'Opened the mini-program' }, ruleTrigger: true },
  mp_phone: { direction: 'in', label: { zh: '小程序授权手机号', en: 'Shared a phone number in the mini-program' }, ruleTrigger: true },
  mp_subscribe_consent: { direction: 'in', label: { zh: '小程序订阅消息授权', en: 'Answered a mini-program subscription prompt' } },
  // The business card (/api/mp/cards, issue 17 §1): ref_type 'card', ref_id the rep's operator id.
  // A view (one per 30 minutes) with the share chain it came through; a share that brought someone
  // new, on the sharer's timeline; an action that made the viewer the rep's contact.
  card_view: { direction: 'in', label: { zh: '查看名片', en: 'Viewed a business card' }, words: ['repName'] },
  card_share: { direction: 'in', label: { zh: '转发名片', en: 'Forwarded a business card' }, words: ['repName'] },
  card_action: { direction: 'in', label: { zh: '通过名片联系销售', en: 'Reached a rep through their card' }, words: ['action'] },
  // Lead imports: an operator's list put the contact here (ref_type 'import'). `out`: something
  // done about them, not by them, so it neither makes them active nor fires the reactions.
  imported: { direction: 'out', label: { zh: '导入线索', en: 'Imported as a lead' }, words: ['fileName'] },
} as const satisfies Record<string, InteractionTypeDef>;

export type InteractionTypeName = keyof typeof INTERACTION_TYPES;

/** The registry's entry for a type; undefined for a type it does not know (a platform push no parser knows). */
export function interactionTypeOf(type: string): InteractionTypeDef | undefined {
  return Object.hasOwn(INTERACTION_TYPES, type) ? (INTERACTION_TYPES as Record<string, InteractionTypeDef>)[type] : undefined;
}

/** The types an operator can choose as a rule's trigger, in the registry's order. */
export const RULE_TRIGGER_TYPES: readonly string[] = Object.entries(INTERACTION_TYPES as Record<string, InteractionTypeDef>)
  .filter(([, def]) => def.ruleTrigger === true)
  .map(([type]) => type);

/** Whether a matcher applies to a type (`any` applies to every type). */
export function matcherFits(type: string, kind: MatcherKind | 'any'): boolean {
  return kind === 'any' || (interactionTypeOf(type)?.matchers ?? []).includes(kind);
}

/** The types' labels in one language, for the i18n messages (`interactionTypes.<type>`). */
export function interactionTypeLabels(language: 'zh' | 'en'): Record<string, string> {
  return Object.fromEntries(
    Object.entries(INTERACTION_TYPES as Record<string, InteractionTypeDef>).map(([type, def]) => [type, def.label[language]]),
  );
}
