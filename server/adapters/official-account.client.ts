import { z } from 'zod';
import type { Logger } from './logger';
import { createPlatformHttp, WECHAT_API_BASE_DEFAULT, type AccessTokenSource, type PlatformHttp } from './platform-http';
import type { RateLimiter } from './rate-limiter';
import type { TokenStore } from './token-store';

export interface OfficialAccountClientParams {
  /** WECHAT_API_BASE or WECHAT_API_BASE_DEFAULT. */
  baseUrl: string;
  appId: string;
  secret: string;
  tokenStore: TokenStore;
  rateLimiter: RateLimiter;
  logger: Logger;
  timeoutMs?: number;
}

export interface OfficialAccountUser {
  openid: string;
  subscribed: boolean;
  unionid: string | null;
  /** The platform stopped returning nickname and avatar on 2021-12-27; kept for the sandbox and old data. */
  nickname: string | null;
  avatarUrl: string | null;
  /** e.g. ADD_SCENE_QR_CODE, ADD_SCENE_SEARCH. */
  subscribeScene: string | null;
  /** qr_scene_str, or the numeric qr_scene as text, of the QR code the user followed through. */
  qrScene: string | null;
}

export interface OfficialAccountTag {
  id: number;
  name: string;
}

/**
 * "每次传入的openid列表个数不能超过50个" (batchtagging / batchuntagging).
 * @link https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
 */
export const MAX_OPENIDS_PER_BATCH = 50;

const stableTokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().int().positive() });
const okSchema = z.object({});
const userInfoSchema = z.object({
  subscribe: z.number(),
  openid: z.string(),
  unionid: z.string().optional(),
  nickname: z.string().optional(),
  headimgurl: z.string().optional(),
  subscribe_scene: z.string().optional(),
  qr_scene: z.number().optional(),
  qr_scene_str: z.string().optional(),
});
const batchUserInfoSchema = z.object({ user_info_list: z.array(userInfoSchema) });
/** "最多支持一次拉取100条" (user/info/batchget). */
export const MAX_OPENIDS_PER_USER_INFO_BATCH = 100;
const tagSchema = z.object({ id: z.number().int(), name: z.string() });
const createTagSchema = z.object({ tag: tagSchema });
const listTagsSchema = z.object({ tags: z.array(tagSchema.extend({ count: z.number().int() })) });
const ipListSchema = z.object({ ip_list: z.array(z.string()) });
const qrCodeSchema = z.object({ ticket: z.string().min(1), url: z.string(), expire_seconds: z.number().int().optional() });
const ticketSchema = z.object({ ticket: z.string().min(1), expires_in: z.number().int().positive() });
const templateSendSchema = z.object({ msgid: z.union([z.number(), z.string()]) });
/** bizsend documents `{errcode, errmsg}` only; a msgid is kept when the answer has one. */
const subscribeSendSchema = z.object({ msgid: z.union([z.number(), z.string()]).optional() });
/** message/custom/send answers `{errcode: 0, errmsg: "ok"}`; a msgid when there is one (the sandbox gives one). */
const customSendSchema = z.object({ msgid: z.union([z.number(), z.string()]).optional() });
/** "相同 clientmsgid 已存在群发记录，返回数据中带有已存在的群发任务的 msg_id". */
export const MASS_CLIENTMSGID_EXISTS = 45065;
const massSendSchema = z.object({
  errcode: z.number().optional(),
  msg_id: z.union([z.number(), z.string()]),
  msg_data_id: z.union([z.number(), z.string()]).optional(),
});
const privateTemplatesSchema = z.object({
  template_list: z.array(
    z.object({
      template_id: z.string(),
      title: z.string(),
      content: z.string(),
      example: z.string().optional(),
      primary_industry: z.string().optional(),
      deputy_industry: z.string().optional(),
    }),
  ),
});

/**
 * sns/oauth2/access_token's answer. The web access_token and refresh_token are for sns/userinfo
 * (snsapi_userinfo); Flywheel asks only snsapi_base and keeps neither. `is_snapshotuser` is 1 for a
 * visitor on a page's "快照页" (a preview shared from a Moments post), whose openid is a virtual one.
 */
const webOauthTokenSchema = z.object({
  openid: z.string().min(1),
  scope: z.string().optional(),
  unionid: z.string().optional(),
  is_snapshotuser: z.number().int().optional(),
});

export interface WebOauthIdentity {
  openid: string;
  unionid: string | null;
  scope: string | null;
  /** A snapshot-page visitor (is_snapshotuser = 1): the openid is not a real person's. */
  snapshotUser: boolean;
}

export type PrivateTemplate = z.infer<typeof privateTemplatesSchema>['template_list'][number];

/**
 * Official Account (公众号) server API: user info, user tags and the JS-SDK ticket.
 * @link https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
 * @link https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
 */
export class OfficialAccountClient {
  private readonly http: PlatformHttp;
  private readonly accessToken: AccessTokenSource;
  private readonly tokenStore: TokenStore;
  private readonly jsapiTicketKey: string;
  private readonly showQrCodeBase: string;
  private readonly appId: string;
  private readonly secret: string;

  constructor(params: OfficialAccountClientParams) {
    const { appId, secret } = params;
    this.appId = appId;
    this.secret = secret;
    // showqrcode lives on mp.weixin.qq.com; the sandbox (any other API base) serves it itself.
    const apiBase = params.baseUrl.replace(/\/+$/, '');
    this.showQrCodeBase = apiBase === WECHAT_API_BASE_DEFAULT ? 'https://mp.weixin.qq.com' : apiBase;
    this.tokenStore = params.tokenStore;
    this.jsapiTicketKey = `oa:${appId}:jsapi_ticket`;
    this.http = createPlatformHttp(params);
    this.accessToken = {
      key: `oa:${appId}:access_token`,
      // The Stable Access Token API: "普通模式，access_token 有效期内重复调用该接口不会更新
      // access_token"; force_refresh invalidates the previous token for everyone, so it is only
      // used after the platform itself rejected the stored one.
      // @link https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html
      fetch: async ({ forceRefresh }) => {
        const answer = await this.http.call('stable_token', {
          method: 'POST',
          path: '/cgi-bin/stable_token',
          body: { grant_type: 'client_credential', appid: appId, secret, force_refresh: forceRefresh },
          schema: stableTokenSchema,
        });
        return { value: answer.access_token, expiresInSeconds: answer.expires_in };
      },
    };
  }

  /**
   * The jsapi_ticket that signs wx.config (see signJsapiTicket), shared by every instance through
   * the token store: "由于获取jsapi_ticket的api调用次数非常有限，频繁刷新jsapi_ticket会导致api调用受限，
   * 影响自身业务，开发者必须在自己的服务全局缓存jsapi_ticket". A rejected access token on this call
   * gets platform-http's one refresh and retry, inside the ticket's refresh lease.
   * @link https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html (附录1)
   */
  async getJsapiTicket(): Promise<string> {
    return this.tokenStore.getToken(this.jsapiTicketKey, async () => {
      const answer = await this.http.call('ticket/getticket', {
        method: 'GET',
        path: '/cgi-bin/ticket/getticket',
        query: { type: 'jsapi' },
        accessToken: this.accessToken,
        schema: ticketSchema,
      });
      return { value: answer.ticket, expiresInSeconds: answer.expires_in };
    });
  }

  /** Where the shared access_token lives in the token store. */
  get accessTokenKey(): string {
    return this.accessToken.key;
  }

  /**
   * WeChat's callback server addresses: the cheapest call that needs a valid access_token, so it
   * proves the credentials and that the platform answers (the admin's setup check).
   * @link https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_the_WeChat_server_IP_address.html
   */
  async getCallbackIp(): Promise<string[]> {
    const answer = await this.http.call('getcallbackip', {
      method: 'GET',
      path: '/cgi-bin/getcallbackip',
      accessToken: this.accessToken,
      schema: ipListSchema,
    });
    return answer.ip_list;
  }

  async getUserInfo(openid: string): Promise<OfficialAccountUser> {
    const answer = await this.http.call('user/info', {
      method: 'GET',
      path: '/cgi-bin/user/info',
      query: { openid, lang: 'zh_CN' },
      accessToken: this.accessToken,
      schema: userInfoSchema,
    });
    return toUser(answer);
  }

  /**
   * Profiles of up to 100 followers in one call (the backfill of unionids for followers who
   * predate Flywheel). Unfollowed users come back with `subscribe: 0` and their unionid if bound.
   * @link https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
   */
  async batchGetUserInfo(openids: string[]): Promise<OfficialAccountUser[]> {
    if (openids.length === 0) return [];
    if (openids.length > MAX_OPENIDS_PER_USER_INFO_BATCH)
      throw new Error(`user/info/batchget takes at most ${MAX_OPENIDS_PER_USER_INFO_BATCH} openids`);
    const answer = await this.http.call('user/info/batchget', {
      method: 'POST',
      path: '/cgi-bin/user/info/batchget',
      body: { user_list: openids.map((openid) => ({ openid, lang: 'zh_CN' })) },
      accessToken: this.accessToken,
      schema: batchUserInfoSchema,
    });
    return answer.user_info_list.map(toUser);
  }

  /**
   * message/template/send. `body` is built by server/wechat/template-message.ts (touser,
   * template_id, data, url or miniprogram, client_msg_id); answers the platform's msgid, which
   * TEMPLATESENDJOBFINISH carries back.
   * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
   */
  async sendTemplateMessage(body: Record<string, unknown>): Promise<{ msgid: string }> {
    const answer = await this.http.call('template/send', {
      method: 'POST',
      path: '/cgi-bin/message/template/send',
      body,
      accessToken: this.accessToken,
      schema: templateSendSchema,
    });
    return { msgid: String(answer.msgid) };
  }

  /**
   * message/subscribe/bizsend: a subscribe message (订阅通知) to a follower who accepted the
   * template in a popup. `body` is touser, template_id, page (a web URL) or miniprogram {appid,
   * pagepath}, data {keyword: {value}}. The API takes no client_msg_id, so a re-sent request is a
   * second message; 43101 means the user has no grant left. The msgid, when the answer carries
   * one, is what subscribe_msg_sent_event reports on.
   * @link https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
   */
  async sendSubscribeMessage(body: Record<string, unknown>): Promise<{ msgid: string | null }> {
    const answer = await this.http.call('subscribe/bizsend', {
      method: 'POST',
      path: '/cgi-bin/message/subscribe/bizsend',
      body,
      accessToken: this.accessToken,
      schema: subscribeSendSchema,
    });
    return { msgid: answer.msgid === undefined ? null : String(answer.msgid) };
  }

  /**
   * message/custom/send: a customer-service message, accepted only inside the follower's 48-hour
   * window (45015 outside it, 45047 past its count). `body` is built by
   * server/wechat/custom-message.ts (touser, msgtype and its content). The request carries no key:
   * the platform cannot tell a re-sent one from a new one.
   * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
   */
  async sendCustomMessage(body: Record<string, unknown>): Promise<{ msgid: string | null }> {
    const answer = await this.http.call('custom/send', {
      method: 'POST',
      path: '/cgi-bin/message/custom/send',
      body,
      accessToken: this.accessToken,
      schema: customSendSchema,
    });
    return { msgid: answer.msgid === undefined ? null : String(answer.msgid) };
  }

  /**
   * message/mass/sendall ("根据标签进行群发"): `body` has filter {is_to_all, tag_id}, msgtype and its
   * content, and the send's `clientmsgid` (at most 64 bytes). Answers the job's msg_id (which
   * MASSSENDJOBFINISH carries back) and, for mpnews, msg_data_id. A clientmsgid already used in
   * the last 24 hours sends nothing and answers 45065 with the earlier send's msg_id: that is
   * returned as `{ reused: true, msgId }`, so a send whose answer was lost may be made again with
   * the same clientmsgid and learn its msg_id without a second mass send.
   * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
   */
  async massSendAll(body: Record<string, unknown>): Promise<{ msgId: string; msgDataId: string | null; reused: boolean }> {
    const answer = await this.http.call('mass/sendall', {
      method: 'POST',
      path: '/cgi-bin/message/mass/sendall',
      body,
      accessToken: this.accessToken,
      schema: massSendSchema,
      answeredErrcodes: [MASS_CLIENTMSGID_EXISTS],
    });
    return {
      msgId: String(answer.msg_id),
      msgDataId: answer.msg_data_id === undefined ? null : String(answer.msg_data_id),
      reused: answer.errcode === MASS_CLIENTMSGID_EXISTS,
    };
  }

  /**
   * Web OAuth (网页授权) step two: the code from the authorize redirect → the visitor's openid.
   * Authenticated by appid + secret, not the access_token; "这里通过code换取的是一个特殊的网页授权
   * access_token，与基础支持中的access_token不同". A code works once (40163 "code been used") and
   * for 5 minutes (40029 "invalid code" after, as for a code that was never issued): both are
   * thrown as PlatformApiError, for the caller to map.
   * @link https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
   */
  async exchangeWebOauthCode(code: string): Promise<WebOauthIdentity> {
    const answer = await this.http.call('sns/oauth2/access_token', {
      method: 'GET',
      path: '/sns/oauth2/access_token',
      query: { appid: this.appId, secret: this.secret, code, grant_type: 'authorization_code' },
      schema: webOauthTokenSchema,
    });
    return {
      openid: answer.openid,
      unionid: nonEmpty(answer.unionid),
      scope: nonEmpty(answer.scope),
      snapshotUser: answer.is_snapshotuser === 1,
    };
  }

  /** The account's template library ("获取已添加至帐号下所有模板列表"). */
  async getAllPrivateTemplates(): Promise<PrivateTemplate[]> {
    const answer = await this.http.call('template/get_all_private_template', {
      method: 'GET',
      path: '/cgi-bin/template/get_all_private_template',
      accessToken: this.accessToken,
      schema: privateTemplatesSchema,
    });
    return answer.template_list;
  }

  async createTag(name: string): Promise<OfficialAccountTag> {
    const answer = await this.http.call('tags/create', {
      method: 'POST',
      path: '/cgi-bin/tags/create',
      body: { tag: { name } },
      accessToken: this.accessToken,
      schema: createTagSchema,
    });
    return { id: answer.tag.id, name: answer.tag.name };
  }

  async listTags(): Promise<(OfficialAccountTag & { count: number })[]> {
    const answer = await this.http.call('tags/get', {
      method: 'GET',
      path: '/cgi-bin/tags/get',
      accessToken: this.accessToken,
      schema: listTagsSchema,
    });
    return answer.tags.map((tag) => ({ id: tag.id, name: tag.name, count: tag.count }));
  }

  /** 45157: another tag has the name; 45058: the system tags 0/1/2 cannot be changed. */
  async renameTag(tagId: number, name: string): Promise<void> {
    await this.http.call('tags/update', {
      method: 'POST',
      path: '/cgi-bin/tags/update',
      body: { tag: { id: tagId, name } },
      accessToken: this.accessToken,
      schema: okSchema,
    });
  }

  /** Takes the tag off its followers too. 45057: over 100,000 followers carry it (untag them first). */
  async deleteTag(tagId: number): Promise<void> {
    await this.http.call('tags/delete', {
      method: 'POST',
      path: '/cgi-bin/tags/delete',
      body: { tag: { id: tagId } },
      accessToken: this.accessToken,
      schema: okSchema,
    });
  }

  async batchTag(tagId: number, openids: string[]): Promise<void> {
    await this.changeTagMembers('tags/members/batchtagging', tagId, openids);
  }

  async batchUntag(tagId: number, openids: string[]): Promise<void> {
    await this.changeTagMembers('tags/members/batchuntagging', tagId, openids);
  }

  /**
   * A parametric QR code with a string scene: temporary (QR_STR_SCENE, expire_seconds at most
   * 2592000 = 30 days) or permanent (QR_LIMIT_STR_SCENE, at most 100,000 per account); scene_str
   * is 1 to 64 characters.
   * @link https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
   */
  async createQrCode(p: { scene: string; expireSeconds?: number }): Promise<{ ticket: string; url: string; expireSeconds: number | null }> {
    const answer = await this.http.call('qrcode/create', {
      method: 'POST',
      path: '/cgi-bin/qrcode/create',
      body:
        p.expireSeconds === undefined
          ? { action_name: 'QR_LIMIT_STR_SCENE', action_info: { scene: { scene_str: p.scene } } }
          : { expire_seconds: p.expireSeconds, action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: p.scene } } },
      accessToken: this.accessToken,
      schema: qrCodeSchema,
    });
    return { ticket: answer.ticket, url: answer.url, expireSeconds: answer.expire_seconds ?? null };
  }

  /**
   * The code's image: "HTTP GET请求（请使用https协议）https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=TICKET
   * 提醒：TICKET记得进行UrlEncode" — on mp.weixin.qq.com, not the API host, and without a token.
   */
  async showQrCode(ticket: string): Promise<Buffer> {
    const { bytes } = await this.http.fetchBytes('showqrcode', {
      method: 'GET',
      url: `${this.showQrCodeBase}/cgi-bin/showqrcode`,
      query: { ticket },
    });
    return bytes;
  }

  private async changeTagMembers(
    api: 'tags/members/batchtagging' | 'tags/members/batchuntagging',
    tagId: number,
    openids: string[],
  ): Promise<void> {
    if (openids.length > MAX_OPENIDS_PER_BATCH) {
      throw new Error(`${api} takes at most ${MAX_OPENIDS_PER_BATCH} openids per call; got ${openids.length} (chunk them)`);
    }
    if (openids.length === 0) return;
    await this.http.call(api, {
      method: 'POST',
      path: `/cgi-bin/${api}`,
      body: { openid_list: openids, tagid: tagId },
      accessToken: this.accessToken,
      schema: okSchema,
    });
  }
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

function toUser(answer: z.infer<typeof userInfoSchema>): OfficialAccountUser {
  const qrScene = nonEmpty(answer.qr_scene_str) ?? (answer.qr_scene ? String(answer.qr_scene) : null);
  return {
    openid: answer.openid,
    subscribed: answer.subscribe === 1,
    unionid: nonEmpty(answer.unionid),
    nickname: nonEmpty(answer.nickname),
    avatarUrl: nonEmpty(answer.headimgurl),
    subscribeScene: nonEmpty(answer.subscribe_scene),
    qrScene,
  };
}
