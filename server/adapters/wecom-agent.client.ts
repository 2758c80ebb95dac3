import { z } from 'zod';
import type { Logger } from './logger';
import { createPlatformHttp, type AccessTokenSource, type PlatformHttp } from './platform-http';
import type { RateLimiter } from './rate-limiter';
import type { FetchedToken, TokenStore } from './token-store';

export interface WecomAgentClientParams {
  /** WECOM_API_BASE or WECOM_API_BASE_DEFAULT. */
  baseUrl: string;
  corpId: string;
  /** The self-built app (自建应用) whose pages call wx.agentConfig. */
  agentId: string;
  /** That app's secret: the customer-contact secret cannot stand in for it. */
  agentSecret: string;
  tokenStore: TokenStore;
  rateLimiter: RateLimiter;
  logger: Logger;
  timeoutMs?: number;
}

const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().int().positive() });
const ticketSchema = z.object({ ticket: z.string().min(1), expires_in: z.number().int().positive() });
const messageSendSchema = z.object({ msgid: z.string().optional(), invaliduser: z.string().optional() });
/**
 * auth/getuserinfo: "当用户为企业成员时（无论是否在应用可见范围之内）返回 userid、user_ticket（仅在 scope 为
 * snsapi_privateinfo 时返回）"; "非企业成员时返回 openid、external_userid（仅当用户是企业的客户且跟进人在应用的可见
 * 范围内时返回）".
 */
const userInfoSchema = z.union([
  z.object({ userid: z.string().min(1), user_ticket: z.string().optional() }),
  z.object({ openid: z.string().min(1), external_userid: z.string().optional() }),
]);

/** agent/get: the app's name and the settings the admin console holds ("获取指定的应用详情"). */
const agentSchema = z.object({
  name: z.string(),
  allow_userinfos: z.object({ user: z.array(z.object({ userid: z.string() })).default([]) }).optional(),
  allow_partys: z.object({ partyid: z.array(z.number().int()).default([]) }).optional(),
  allow_tags: z.object({ tagid: z.array(z.number().int()).default([]) }).optional(),
  redirect_domain: z.string().default(''),
  close: z.number().int().default(0),
});
const followUserListSchema = z.object({ follow_user: z.array(z.string()).default([]) });

/** The app as agent/get describes it: its visible range (可见范围) and trusted domain (可信域名). */
export interface WecomAgentInfo {
  name: string;
  visibleUserIds: string[];
  visiblePartyIds: number[];
  visibleTagIds: number[];
  redirectDomain: string;
  closed: boolean;
}

/** Who a WeCom OAuth2 code names: a member of the corp (a rep), or someone outside it. */
export type WecomOauthIdentity =
  { kind: 'member'; userId: string; userTicket: string | null } | { kind: 'non_member'; openId: string; externalUserId: string | null };

/**
 * WeCom self-built app (自建应用) API: its own access_token and the two JS-SDK tickets its pages
 * (the sidebar) sign with. All three live in the token store, shared by every instance:
 * "获取 jsapi_ticket 的接口有非常严格的调用频率限制（一小时内，一个企业最多可获取 400 次，且单个应用不能超过
 * 100 次），开发者必须在自己的后台服务中对 jsapi_ticket 进行缓存".
 * @link https://developer.work.weixin.qq.com/document/path/91039 (gettoken)
 * @link https://developer.work.weixin.qq.com/document/path/96909 (JS-SDK 签名算法, both tickets)
 */
export class WecomAgentClient {
  private readonly http: PlatformHttp;
  private readonly accessToken: AccessTokenSource;
  private readonly tokenStore: TokenStore;
  private readonly corpTicketKey: string;
  private readonly agentTicketKey: string;
  private readonly agentId: string;

  constructor(params: WecomAgentClientParams) {
    const { corpId, agentId, agentSecret } = params;
    this.tokenStore = params.tokenStore;
    this.agentId = agentId;
    this.http = createPlatformHttp(params);
    // Each WeCom secret has its own access_token, so the key names the app, not only the corp.
    this.accessToken = {
      key: `wecom:${corpId}:agent:${agentId}:access_token`,
      // "有效期内重复获取返回相同结果，过期后获取会返回新的access_token" — there is no force mode to use.
      fetch: async () => {
        const answer = await this.http.call('gettoken', {
          method: 'GET',
          path: '/cgi-bin/gettoken',
          query: { corpid: corpId, corpsecret: agentSecret },
          schema: tokenSchema,
        });
        return { value: answer.access_token, expiresInSeconds: answer.expires_in };
      },
    };
    // The corp ticket belongs to the corp ("企业的 jsapi_ticket"); the agent ticket to this app.
    this.corpTicketKey = `wecom:${corpId}:jsapi_ticket`;
    this.agentTicketKey = `wecom:${corpId}:agent:${agentId}:agent_ticket`;
  }

  /** The corp jsapi_ticket, which signs wx.config (see signJsapiTicket). */
  async getCorpJsapiTicket(): Promise<string> {
    return this.tokenStore.getToken(this.corpTicketKey, () => this.fetchTicket('get_jsapi_ticket', '/cgi-bin/get_jsapi_ticket', {}));
  }

  /**
   * The app's jsapi_ticket, which signs wx.agentConfig: "必须用wx.agentConfig中的agentid对应的应用去获取
   * access_token", hence this client's own token.
   */
  async getAgentJsapiTicket(): Promise<string> {
    return this.tokenStore.getToken(this.agentTicketKey, () =>
      this.fetchTicket('ticket/get', '/cgi-bin/ticket/get', { type: 'agent_config' }),
    );
  }

  /**
   * An app message (应用消息) to members of the corp, as text: how a rep hears that a lead is theirs.
   * "touser ... 多个接收者用‘|’分隔"; a userid the app cannot reach comes back in `invaliduser`
   * with errcode 0, so it is returned for the caller to record.
   * @link https://developer.work.weixin.qq.com/document/path/90236 (发送应用消息)
   */
  async sendTextMessage(p: { toUser: string; content: string }): Promise<{ msgId: string | null; invalidUser: string }> {
    const answer = await this.http.call('message/send', {
      method: 'POST',
      path: '/cgi-bin/message/send',
      body: { touser: p.toUser, msgtype: 'text', agentid: Number(this.agentId), text: { content: p.content } },
      accessToken: this.accessToken,
      schema: messageSendSchema,
    });
    return { msgId: answer.msgid ?? null, invalidUser: answer.invaliduser ?? '' };
  }

  /**
   * Exchanges a WeCom OAuth2 code (the sidebar's sign-in) for who opened the page, with this app's
   * own token: "跳转的域名须完全匹配access_token对应应用的可信域名". A code is good once, for 5 minutes
   * ("code只能消费一次，不能重复消费。5分钟内有效"); a bad, reused or old one fails with 40029.
   * @link https://developer.work.weixin.qq.com/document/path/91023 (获取访问用户身份)
   */
  async getUserInfoByCode(code: string): Promise<WecomOauthIdentity> {
    const answer = await this.http.call('auth/getuserinfo', {
      method: 'GET',
      path: '/cgi-bin/auth/getuserinfo',
      query: { code },
      accessToken: this.accessToken,
      schema: userInfoSchema,
    });
    if ('userid' in answer) return { kind: 'member', userId: answer.userid, userTicket: answer.user_ticket ?? null };
    return { kind: 'non_member', openId: answer.openid, externalUserId: answer.external_userid ?? null };
  }

  /**
   * The app's details, with its own token: the visible range ("allow_userinfos 企业应用可见范围（人员），
   * 其中包括userid"; departments and tags apart) and the trusted domain ("redirect_domain 企业应用可信域名").
   * @link https://developer.work.weixin.qq.com/document/path/90227 (获取指定的应用详情)
   */
  async getAgent(): Promise<WecomAgentInfo> {
    const answer = await this.http.call('agent/get', {
      method: 'GET',
      path: '/cgi-bin/agent/get',
      query: { agentid: this.agentId },
      accessToken: this.accessToken,
      schema: agentSchema,
    });
    return {
      name: answer.name,
      visibleUserIds: answer.allow_userinfos?.user.map((u) => u.userid) ?? [],
      visiblePartyIds: answer.allow_partys?.partyid ?? [],
      visibleTagIds: answer.allow_tags?.tagid ?? [],
      redirectDomain: answer.redirect_domain,
      closed: answer.close === 1,
    };
  }

  /**
   * The members set up for customer contact ("配置了客户联系功能的成员列表"), asked with this app's
   * token: it answers only when the app may call the customer-contact API (48002 "api forbidden"
   * otherwise), which is also what the sidebar's getCurExternalContact needs.
   * @link https://developer.work.weixin.qq.com/document/path/92571 (获取配置了客户联系功能的成员列表)
   */
  async getFollowUserList(): Promise<string[]> {
    const answer = await this.http.call('externalcontact/get_follow_user_list', {
      method: 'GET',
      path: '/cgi-bin/externalcontact/get_follow_user_list',
      accessToken: this.accessToken,
      schema: followUserListSchema,
    });
    return answer.follow_user;
  }

  private async fetchTicket(api: 'get_jsapi_ticket' | 'ticket/get', path: string, query: Record<string, string>): Promise<FetchedToken> {
    const answer = await this.http.call(api, { method: 'GET', path, query, accessToken: this.accessToken, schema: ticketSchema });
    return { value: answer.ticket, expiresInSeconds: answer.expires_in };
  }
}
