import { z } from 'zod';
import type { Logger } from './logger';
import { createPlatformHttp, type PlatformHttp } from './platform-http';
import type { RateLimiter } from './rate-limiter';

export interface MiniProgramClientParams {
  /** WECHAT_API_BASE or WECHAT_API_BASE_DEFAULT (the mini-program API shares the host). */
  baseUrl: string;
  appId: string;
  secret: string;
  rateLimiter: RateLimiter;
  logger: Logger;
  timeoutMs?: number;
}

export interface MiniProgramSession {
  openid: string;
  unionid: string | null;
  /**
   * Decrypts wx.getPhoneNumber-style payloads. "会话密钥 session_key 是对用户数据进行加密签名的密钥。
   * 为了应用自身的数据安全，开发者服务器不应该把会话密钥下发到小程序，也不应该对外提供这个密钥" —
   * never logged, never sent to the client.
   */
  sessionKey: string;
}

const sessionSchema = z.object({ openid: z.string().min(1), session_key: z.string().min(1), unionid: z.string().optional() });

/**
 * Mini-program login: code2Session exchanges the wx.login code for the user's identity.
 * It authenticates with appid + secret in the query, not an access_token.
 * @link https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
 */
export class MiniProgramClient {
  private readonly http: PlatformHttp;

  constructor(private readonly params: MiniProgramClientParams) {
    this.http = createPlatformHttp(params);
  }

  async code2Session(jsCode: string): Promise<MiniProgramSession> {
    const answer = await this.http.call('jscode2session', {
      method: 'GET',
      path: '/sns/jscode2session',
      query: { appid: this.params.appId, secret: this.params.secret, js_code: jsCode, grant_type: 'authorization_code' },
      schema: sessionSchema,
    });
    return {
      openid: answer.openid,
      unionid: answer.unionid === undefined || answer.unionid === '' ? null : answer.unionid,
      sessionKey: answer.session_key,
    };
  }
}
