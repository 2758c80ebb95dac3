import { SANDBOX_EVENT_RECAP_TEMPLATE_ID, SANDBOX_EVENT_REMINDER_TEMPLATE_ID } from '../../../config/config.schema';
import { checkTemplateMessage } from '../../wechat/template-message';
import { createHash } from 'node:crypto';
import type { Clock } from '../clock';
import { SandboxErrcode } from './sandbox-errcode';

/**
 * The sandbox's template message library, as get_all_private_template lists it: category
 * templates (类目模板) whose keywords follow the subscribe-message field rules. Journeys' shipped
 * `reactivation` template sends `SANDBOX_TEMPLATE_IDS.reactivationOffer`; a real account picks its
 * own from its library.
 */
export const SANDBOX_TEMPLATE_IDS = Object.freeze({
  /** 优惠券到账提醒: thing1 活动名称, thing2 优惠内容, time3 有效期至, thing4 温馨提示. */
  reactivationOffer: 'SBX_TPL_COUPON_ARRIVED_0001',
  /** 活动报名成功通知: thing1 活动名称, time2 活动时间, thing3 活动地点. */
  eventSignup: 'SBX_TPL_EVENT_SIGNUP_0002',
  /** 会员积分变动提醒: thing1 变动原因, number2 变动积分, number3 当前积分. */
  pointsChanged: 'SBX_TPL_POINTS_CHANGED_0003',
  /** 订单发货通知: character_string1 订单号, thing2 商品名称, phrase3 物流状态. */
  orderShipped: 'SBX_TPL_ORDER_SHIPPED_0004',
  /** 活动开始提醒: thing1 活动名称, time2 开始时间, thing3 活动地点, thing4 温馨提示 (the event-day reminder). */
  eventReminder: SANDBOX_EVENT_REMINDER_TEMPLATE_ID,
  /** 活动回顾通知: thing1 活动名称, thing2 标题, thing3 内容 (the recap push and the survey invitation). */
  eventRecap: SANDBOX_EVENT_RECAP_TEMPLATE_ID,
});

export interface SandboxTemplate {
  template_id: string;
  title: string;
  primary_industry: string;
  deputy_industry: string;
  content: string;
  example: string;
}

export const SANDBOX_TEMPLATE_LIBRARY: readonly SandboxTemplate[] = Object.freeze([
  {
    template_id: SANDBOX_TEMPLATE_IDS.reactivationOffer,
    title: '优惠券到账提醒',
    primary_industry: '商业服务',
    deputy_industry: '会员服务',
    content: '活动名称:{{thing1.DATA}}\n优惠内容:{{thing2.DATA}}\n有效期至:{{time3.DATA}}\n温馨提示:{{thing4.DATA}}',
    example: '活动名称:老朋友回归礼\n优惠内容:满100减30\n有效期至:2026年12月31日 23:59\n温馨提示:点击领取，限时有效',
  },
  {
    template_id: SANDBOX_TEMPLATE_IDS.eventSignup,
    title: '活动报名成功通知',
    primary_industry: '商业服务',
    deputy_industry: '会展服务',
    content: '活动名称:{{thing1.DATA}}\n活动时间:{{time2.DATA}}\n活动地点:{{thing3.DATA}}',
    example: '活动名称:2026 上海家居展\n活动时间:2026年12月12日 09:00\n活动地点:国家会展中心 7.1 馆',
  },
  {
    template_id: SANDBOX_TEMPLATE_IDS.pointsChanged,
    title: '会员积分变动提醒',
    primary_industry: '商业服务',
    deputy_industry: '会员服务',
    content: '变动原因:{{thing1.DATA}}\n变动积分:{{number2.DATA}}\n当前积分:{{number3.DATA}}',
    example: '变动原因:签到奖励\n变动积分:10\n当前积分:1280',
  },
  {
    template_id: SANDBOX_TEMPLATE_IDS.orderShipped,
    title: '订单发货通知',
    primary_industry: '零售',
    deputy_industry: '电商',
    content: '订单号:{{character_string1.DATA}}\n商品名称:{{thing2.DATA}}\n物流状态:{{phrase3.DATA}}',
    example: '订单号:FW20261207001\n商品名称:羊毛围巾（灰色）\n物流状态:已发货',
  },
  {
    template_id: SANDBOX_TEMPLATE_IDS.eventReminder,
    title: '活动开始提醒',
    primary_industry: '商业服务',
    deputy_industry: '会展服务',
    content: '活动名称:{{thing1.DATA}}\n开始时间:{{time2.DATA}}\n活动地点:{{thing3.DATA}}\n温馨提示:{{thing4.DATA}}',
    example: '活动名称:2026 上海家居展\n开始时间:2026年12月12日 09:00\n活动地点:国家会展中心 7.1 馆\n温馨提示:晴 · 地铁2号线直达',
  },
  {
    template_id: SANDBOX_TEMPLATE_IDS.eventRecap,
    title: '活动回顾通知',
    primary_industry: '商业服务',
    deputy_industry: '会展服务',
    content: '活动名称:{{thing1.DATA}}\n标题:{{thing2.DATA}}\n内容:{{thing3.DATA}}',
    example: '活动名称:2026 上海家居展\n标题:感谢您的到来\n内容:精彩回顾与资料下载',
  },
]);

/** A message the platform accepted (and, in the real world, delivered). */
export interface SandboxTemplateMessage {
  msgid: number;
  openid: string;
  templateId: string;
  clientMsgId: string | null;
  data: unknown;
  url: string | null;
  miniprogram: unknown;
  at: Date;
}

/** The two subscribe-message APIs: the Official Account's bizsend and the mini-program's subscribe/send. */
export type SandboxSubscribeApi = 'subscribe/bizsend' | 'subscribe/send';

/** A subscribe message the platform accepted: one grant of the user's spent. */
export interface SandboxSubscribeMessage {
  api: SandboxSubscribeApi;
  msgid: number;
  openid: string;
  templateId: string;
  data: unknown;
  /** bizsend's page (a web URL) or subscribe/send's page (a mini-program path). */
  page: string | null;
  miniprogram: unknown;
  /** subscribe/send only: "developer为开发版；trial为体验版；formal为正式版；默认为正式版". */
  miniprogramState: string | null;
  /** subscribe/send only: the language of "进入小程序查看" (zh_CN by default). */
  lang: string | null;
  at: Date;
}

const MP_STATES = new Set(['developer', 'trial', 'formal']);
const MP_LANGS = new Set(['zh_CN', 'en_US', 'zh_HK', 'zh_TW']);
/** subscribe/send's body: "touser, template_id, page, data, miniprogram_state, lang" and nothing else. */
const MP_SUBSCRIBE_FIELDS = new Set(['touser', 'template_id', 'page', 'data', 'miniprogram_state', 'lang']);

/**
 * A mass send (message/mass/sendall) the platform accepted: who it went to, and whether its
 * MASSSENDJOBFINISH has been pushed yet.
 */
export interface SandboxMassSend {
  msgId: number;
  /** Only for mpnews ("该字段只有在群发图文消息时，才会出现"). */
  msgDataId: number | null;
  /** As sent, or the digest of the audience and content WeChat uses when none is sent. */
  clientMsgId: string;
  isToAll: boolean;
  tagId: number | null;
  msgtype: string;
  content: unknown;
  openids: string[];
  at: Date;
}

/** mass/sendall's message types and the field each one's content needs. */
const MASS_MSGTYPES: Readonly<Record<string, string>> = Object.freeze({
  mpnews: 'media_id',
  text: 'content',
  voice: 'media_id',
  images: 'media_ids',
  mpvideo: 'media_id',
  wxcard: 'card_id',
});

/** "clientmsgid ... 长度限制64字节"; a reused one is refused for 24 hours. */
export const MAX_CLIENTMSGID_BYTES = 64;
export const CLIENTMSGID_WINDOW_MS = 24 * 3_600_000;

/** The errcode 45065 answer: "相同 clientmsgid 已存在群发记录，返回数据中带有已存在的群发任务的 msg_id". */
export class SandboxClientMsgIdExists extends SandboxErrcode {
  constructor(readonly msgId: number) {
    super(45065, 'clientmsgid exist', { msg_id: msgId });
  }
}

/** "同一个 openid + client_msg_id 在 10 分钟内只发送一次" (template/send's client_msg_id). */
export const CLIENT_MSG_ID_WINDOW_MS = 10 * 60_000;
const DAY_MS = 86_400_000;
/** Daily quotas reset at midnight Beijing time. */
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/**
 * Template messages on the fake platform: the record of every accepted message (what a fault test
 * counts), client_msg_id honoured as WeChat does, and the test controls that make a send's outcome
 * uncertain or refused: an answer lost after the message was accepted, and a daily quota (45009).
 */
export class SandboxMessages {
  readonly accepted: SandboxTemplateMessage[] = [];
  /** Subscribe messages accepted (bizsend, subscribe/send), kept apart from the template messages. */
  readonly subscribeAccepted: SandboxSubscribeMessage[] = [];
  /** One-time grants per api, openid and template: what the user accepted in popups and has not been sent yet. */
  private readonly grants = new Map<string, number>();
  private nextMsgid = 2_000_000_001;
  private readonly byClientMsgId = new Map<string, { msgid: number; at: number }>();
  private readonly quotas = new Map<string, { limit: number; day: number; used: number }>();
  private readonly lostAnswers = new Map<string, number>();

  /** Mass sends accepted, in order (what a test counts: one per clientmsgid). */
  readonly massSends: SandboxMassSend[] = [];
  private readonly massByClientMsgId = new Map<string, SandboxMassSend>();
  private readonly pendingMassFinishes: SandboxMassSend[] = [];
  private nextMassMsgId = 3_000_000_001;

  constructor(private readonly clock: Clock) {}

  /** At most `limit` accepted calls of `api` per Beijing day; past it, 45009 until midnight. */
  setDailyQuota(api: string, limit: number | null): void {
    if (limit === null) this.quotas.delete(api);
    else this.quotas.set(api, { limit, day: this.dayOf(this.clock.now().getTime()), used: 0 });
  }

  /** The next `times` accepted calls of `api` lose their answer: the message is kept, the connection drops. */
  loseAnswers(api: string, times: number): void {
    this.lostAnswers.set(api, times);
  }

  /** Used by the HTTP layer after a call was accepted: whether to drop its answer. */
  takeLostAnswer(api: string): boolean {
    const left = this.lostAnswers.get(api) ?? 0;
    if (left <= 0) return false;
    if (left === 1) this.lostAnswers.delete(api);
    else this.lostAnswers.set(api, left - 1);
    return true;
  }

  /**
   * message/template/send: 40037 for a template not in the library, 45009 past the quota; a
   * client_msg_id seen for this openid in the last 10 minutes answers the first message's msgid
   * and sends nothing more. `isFollower` is the account's follower check (43004 otherwise).
   */
  sendTemplate(body: Record<string, unknown>, isFollower: (openid: string) => boolean): { msgid: number } {
    const openid = typeof body.touser === 'string' ? body.touser : '';
    const templateId = typeof body.template_id === 'string' ? body.template_id : '';
    const clientMsgId = typeof body.client_msg_id === 'string' && body.client_msg_id !== '' ? body.client_msg_id : null;
    const now = this.clock.now().getTime();
    if (openid === '') throw new SandboxErrcode(40003);
    if (clientMsgId !== null) {
      const seen = this.byClientMsgId.get(`${openid}\n${clientMsgId}`);
      if (seen && now - seen.at < CLIENT_MSG_ID_WINDOW_MS) return { msgid: seen.msgid };
    }
    if (!SANDBOX_TEMPLATE_LIBRARY.some((t) => t.template_id === templateId)) throw new SandboxErrcode(40037);
    if (!isFollower(openid)) throw new SandboxErrcode(43004);
    this.takeQuota('template/send', now);
    const msgid = this.nextMsgid;
    this.nextMsgid += 1;
    if (clientMsgId !== null) this.byClientMsgId.set(`${openid}\n${clientMsgId}`, { msgid, at: now });
    this.accepted.push({
      msgid,
      openid,
      templateId,
      clientMsgId,
      data: body.data,
      url: typeof body.url === 'string' ? body.url : null,
      miniprogram: body.miniprogram ?? null,
      at: new Date(now),
    });
    return { msgid };
  }

  /**
   * The user answered a subscribe prompt for a template (a popup, wx.requestSubscribeMessage):
   * `accept` adds one grant (一次性订阅: one message per accept), `ban` and a turned-off
   * subscription (`off`) take every grant away, `reject` and `filter` change nothing.
   */
  answerSubscribe(
    api: SandboxSubscribeApi,
    openid: string,
    templateId: string,
    answer: 'accept' | 'reject' | 'ban' | 'filter' | 'off',
  ): void {
    const key = grantKey(api, openid, templateId);
    if (answer === 'accept') this.grants.set(key, (this.grants.get(key) ?? 0) + 1);
    else if (answer === 'ban' || answer === 'off') this.grants.delete(key);
  }

  /** Grants left for the openid and template. */
  grantsOf(api: SandboxSubscribeApi, openid: string, templateId: string): number {
    return this.grants.get(grantKey(api, openid, templateId)) ?? 0;
  }

  /**
   * bizsend / subscribe/send as WeChat answers them: 40003 for an openid the account does not
   * know, 40037 for a template not in the library, 47003 for a value that breaks the field rules
   * ("模板参数不准确，可能为空或者不满足规则"), 43101 without an unspent grant ("用户拒绝接受消息");
   * otherwise one grant is spent and the message recorded. Neither API takes a client_msg_id, so a
   * re-sent request is a second message.
   *
   * subscribe/send's `page` is a path of the mini-program ("仅限本小程序内的页面。支持带参数，（示例
   * index?foo=bar）"): a web URL there answers 41030 ("page路径不正确"). A field the API does not take
   * (`url`, bizsend's `miniprogram`) answers 47001 here: WeChat ignores it, so the message would go
   * out without the link its sender meant; the sandbox refuses it, so a test sees that. A
   * miniprogram_state or lang outside the documented values is 47001 too.
   * @link https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
   * @link https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
   */
  sendSubscribe(api: SandboxSubscribeApi, body: Record<string, unknown>, knowsOpenid: (openid: string) => boolean): { msgid: number } {
    const openid = typeof body.touser === 'string' ? body.touser : '';
    const templateId = typeof body.template_id === 'string' ? body.template_id : '';
    if (api === 'subscribe/send') checkMpSubscribeBody(body);
    if (openid === '' || !knowsOpenid(openid)) throw new SandboxErrcode(40003);
    if (!SANDBOX_TEMPLATE_LIBRARY.some((t) => t.template_id === templateId)) throw new SandboxErrcode(40037);
    const data = typeof body.data === 'object' && body.data !== null ? (body.data as Record<string, unknown>) : null;
    const values: Record<string, string> = {};
    for (const [keyword, entry] of Object.entries(data ?? {})) {
      const value = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>).value : undefined;
      if (typeof value !== 'string') throw new SandboxErrcode(47003);
      values[keyword] = value;
    }
    if (data === null || checkTemplateMessage({ templateId, data: values }).length > 0) throw new SandboxErrcode(47003);
    const key = grantKey(api, openid, templateId);
    const left = this.grants.get(key) ?? 0;
    if (left <= 0) throw new SandboxErrcode(43101);
    const quota = this.quotas.get(api);
    const now = this.clock.now().getTime();
    if (quota) {
      const day = this.dayOf(now);
      if (quota.day !== day) Object.assign(quota, { day, used: 0 });
      if (quota.used >= quota.limit) throw new SandboxErrcode(45009);
      quota.used += 1;
    }
    if (left === 1) this.grants.delete(key);
    else this.grants.set(key, left - 1);
    const msgid = this.nextMsgid;
    this.nextMsgid += 1;
    this.subscribeAccepted.push({
      api,
      msgid,
      openid,
      templateId,
      data: body.data,
      page: typeof body.page === 'string' ? body.page : null,
      miniprogram: body.miniprogram ?? null,
      miniprogramState: typeof body.miniprogram_state === 'string' ? body.miniprogram_state : null,
      lang: typeof body.lang === 'string' ? body.lang : null,
      at: new Date(now),
    });
    return { msgid };
  }

  /**
   * message/mass/sendall ("根据标签进行群发"): `filter.is_to_all` true sends to every follower,
   * false to the followers of `filter.tag_id` (45159 for a tag the account does not have). The
   * msgtype must be one the API knows (40008) with its content (44004 for an empty text, 40035
   * otherwise). `clientmsgid` ("开发者侧群发msgid，长度限制64字节，如不填，则后台默认以群发范围和群发
   * 内容的摘要值做为clientmsgid") already used in the last 24 hours throws SandboxClientMsgIdExists
   * (45065) with the first send's msg_id, and nothing is sent again. `followers` are the account's
   * subscribed followers with their tags. The job's MASSSENDJOBFINISH waits in takeMassFinishes.
   * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
   */
  massSendAll(
    body: Record<string, unknown>,
    followers: readonly { openid: string; tagIds: readonly number[] }[],
    tagExists: (tagId: number) => boolean,
  ): { msgId: number; msgDataId: number | null } {
    const now = this.clock.now().getTime();
    const given = body.clientmsgid;
    if (given !== undefined && (typeof given !== 'string' || given === '')) throw new SandboxErrcode(40035);
    if (typeof given === 'string' && Buffer.byteLength(given, 'utf8') > MAX_CLIENTMSGID_BYTES) throw new SandboxErrcode(45067);
    const filter = body.filter;
    if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw new SandboxErrcode(40035);
    const { is_to_all: isToAll, tag_id: rawTagId } = filter as Record<string, unknown>;
    if (isToAll !== undefined && typeof isToAll !== 'boolean') throw new SandboxErrcode(40035);
    let tagId: number | null = null;
    if (isToAll !== true) {
      tagId = typeof rawTagId === 'number' ? rawTagId : typeof rawTagId === 'string' && /^\d+$/.test(rawTagId) ? Number(rawTagId) : NaN;
      if (!Number.isInteger(tagId)) throw new SandboxErrcode(40035);
      if (!tagExists(tagId)) throw new SandboxErrcode(45159);
    }
    const msgtype = typeof body.msgtype === 'string' ? body.msgtype : '';
    const field = Object.hasOwn(MASS_MSGTYPES, msgtype) ? MASS_MSGTYPES[msgtype] : undefined;
    if (field === undefined) throw new SandboxErrcode(40008);
    const content = body[msgtype];
    const value = typeof content === 'object' && content !== null ? (content as Record<string, unknown>)[field] : undefined;
    const empty = value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
    if (empty) throw new SandboxErrcode(msgtype === 'text' ? 44004 : 40035);

    const clientMsgId =
      typeof given === 'string'
        ? given
        : `digest:${createHash('sha256')
            .update(JSON.stringify([isToAll === true, tagId, msgtype, content]))
            .digest('hex')}`;
    const earlier = this.massByClientMsgId.get(clientMsgId);
    if (earlier && now - earlier.at.getTime() < CLIENTMSGID_WINDOW_MS) throw new SandboxClientMsgIdExists(earlier.msgId);
    this.takeQuota('mass/sendall', now);
    const msgId = this.nextMassMsgId;
    this.nextMassMsgId += 1;
    const send: SandboxMassSend = {
      msgId,
      // WeChat's msg_data_id is another number than msg_id; the sandbox keeps them apart the same way.
      msgDataId: msgtype === 'mpnews' ? msgId + 1_000_000_000 : null,
      clientMsgId,
      isToAll: isToAll === true,
      tagId,
      msgtype,
      content,
      openids: followers.filter((f) => isToAll === true || f.tagIds.includes(tagId ?? -1)).map((f) => f.openid),
      at: new Date(now),
    };
    this.massSends.push(send);
    this.massByClientMsgId.set(clientMsgId, send);
    this.pendingMassFinishes.push(send);
    return { msgId, msgDataId: send.msgDataId };
  }

  /** The mass sends whose MASSSENDJOBFINISH has not been pushed yet; they are taken (pushed once). */
  takeMassFinishes(): SandboxMassSend[] {
    return this.pendingMassFinishes.splice(0);
  }

  /** Accepted messages per openid: a fault test's "exactly one each". */
  countByOpenid(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.accepted) counts.set(m.openid, (counts.get(m.openid) ?? 0) + 1);
    return counts;
  }

  /** One accepted call of `api` against its daily quota, if one is set: 45009 past it. */
  private takeQuota(api: string, now: number): void {
    const quota = this.quotas.get(api);
    if (!quota) return;
    const day = this.dayOf(now);
    if (quota.day !== day) Object.assign(quota, { day, used: 0 });
    if (quota.used >= quota.limit) throw new SandboxErrcode(45009);
    quota.used += 1;
  }

  private dayOf(ms: number): number {
    return Math.floor((ms + SHANGHAI_OFFSET_MS) / DAY_MS);
  }
}

function grantKey(api: SandboxSubscribeApi, openid: string, templateId: string): string {
  return `${api}\n${openid}\n${templateId}`;
}

/** subscribe/send's own fields and values (SandboxMessages.sendSubscribe). */
function checkMpSubscribeBody(body: Record<string, unknown>): void {
  const foreign = Object.keys(body).filter((field) => !MP_SUBSCRIBE_FIELDS.has(field));
  if (foreign.length > 0) throw new SandboxErrcode(47001, `data format error: subscribe/send takes no ${foreign.join(', ')}`);
  const { page, miniprogram_state: state, lang } = body;
  if (page !== undefined && (typeof page !== 'string' || page === '' || /^[a-z][a-z0-9+.-]*:/i.test(page)))
    throw new SandboxErrcode(41030, 'invalid page: a path of the mini-program, not a URL');
  if (state !== undefined && (typeof state !== 'string' || !MP_STATES.has(state)))
    throw new SandboxErrcode(47001, 'data format error: miniprogram_state is developer, trial or formal');
  if (lang !== undefined && (typeof lang !== 'string' || !MP_LANGS.has(lang)))
    throw new SandboxErrcode(47001, 'data format error: lang is zh_CN, en_US, zh_HK or zh_TW');
}
