import { z } from 'zod';
import type { Logger } from './logger';
import { createPlatformHttp, type AccessTokenSource, type PlatformHttp } from './platform-http';
import type { RateLimiter } from './rate-limiter';
import type { TokenStore } from './token-store';

export interface MiniProgramClientParams {
  /** WECHAT_API_BASE or WECHAT_API_BASE_DEFAULT (the mini-program API shares the host). */
  baseUrl: string;
  appId: string;
  secret: string;
  rateLimiter: RateLimiter;
  logger: Logger;
  timeoutMs?: number;
  /** Needed by the calls with an access_token (subscribe/send, getwxacodeunlimit); code2Session authenticates with the secret. */
  tokenStore?: TokenStore;
}

/** getuserphonenumber's phone_info: the number with its country code, the national number, and the code alone. */
export interface MiniProgramPhone {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
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

/** "最大32个可见字符，只支持数字，大小写英文以及部分特殊字符：!#$&'()*+,/:;=?@-._~". */
export const MP_CODE_SCENE_MAX = 32;

const sessionSchema = z.object({ openid: z.string().min(1), session_key: z.string().min(1), unionid: z.string().optional() });
const stableTokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().int().positive() });
const phoneSchema = z.object({
  phone_info: z.object({ phoneNumber: z.string().min(1), purePhoneNumber: z.string().min(1), countryCode: z.string() }),
});
/** subscribe/send documents `{errcode, errmsg}`; a msgid is kept when the answer has one. */
const subscribeSendSchema = z.object({ msgid: z.union([z.number(), z.string()]).optional() });

/**
 * Mini-program login: code2Session exchanges the wx.login code for the user's identity.
 * It authenticates with appid + secret in the query, not an access_token.
 * @link https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
 */
export class MiniProgramClient {
  private readonly http: PlatformHttp;
  private readonly accessToken: AccessTokenSource;

  constructor(private readonly params: MiniProgramClientParams) {
    this.http = createPlatformHttp(params);
    const { appId, secret } = params;
    // The mini-program's access_token, from the same stable_token API as the Official Account's
    // with the mini-program's own appid and secret, shared by every instance through the token store.
    // @link https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
    this.accessToken = {
      key: `mp:${appId}:access_token`,
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
   * subscribe/send: a subscribe message to a mini-program user who accepted the template in
   * wx.requestSubscribeMessage. `body` is touser (the mini-program openid), template_id, page (a
   * mini-program path), miniprogram_state (developer | trial | formal), lang, data {keyword:
   * {value}}. No client_msg_id: a re-sent request is a second message; 43101 means no grant left.
   * @link https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
   */
  async sendSubscribeMessage(body: Record<string, unknown>): Promise<{ msgid: string | null }> {
    const answer = await this.http.call('subscribe/send', {
      method: 'POST',
      path: '/cgi-bin/message/subscribe/send',
      body,
      accessToken: this.accessToken,
      schema: subscribeSendSchema,
    });
    return { msgid: answer.msgid === undefined ? null : String(answer.msgid) };
  }

  /**
   * An unlimited mini-program code (wxacode.getUnlimited): a PNG on success, JSON on failure
   * (41030: the page is not in the published mini-program; 40169: the scene is too long). The
   * scene reaches the page's `onLoad(options)` as `options.scene`, URL-encoded
   * ("scene 字段的值会作为 query 参数传递给小程序/小游戏 ... 需要使用 decodeURIComponent 才能获取到生成二维码时传入的 scene").
   * @link https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/qrcode-link/qr-code/getUnlimitedQRCode.html
   */
  async getUnlimitedCode(p: { scene: string; page?: string; width?: number }): Promise<Buffer> {
    const { bytes } = await this.http.fetchBytes('wxa/getwxacodeunlimit', {
      method: 'POST',
      path: '/wxa/getwxacodeunlimit',
      body: { scene: p.scene, ...(p.page ? { page: p.page, check_path: true } : {}), width: p.width ?? 430 },
      accessToken: this.accessToken,
    });
    return bytes;
  }

  /**
   * The phone number behind a getPhoneNumber button's `code` (valid 5 minutes, once): exchanged on
   * the server with the access_token, so the mini-program never holds anything it could forge.
   * 40029 is an invalid (or used, or expired) code.
   * @link https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html
   */
  async getPhoneNumber(code: string): Promise<MiniProgramPhone> {
    const answer = await this.http.call('wxa/business/getuserphonenumber', {
      method: 'POST',
      path: '/wxa/business/getuserphonenumber',
      body: { code },
      accessToken: this.accessToken,
      schema: phoneSchema,
    });
    const { phoneNumber, purePhoneNumber, countryCode } = answer.phone_info;
    return { phoneNumber, purePhoneNumber, countryCode };
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
