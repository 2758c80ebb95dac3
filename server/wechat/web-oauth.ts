/**
 * Official Account web OAuth (网页授权), the protocol half: the authorize URL a page inside WeChat
 * is sent to, and who is inside WeChat. The code exchange is the adapter's
 * (OfficialAccountClient.exchangeWebOauthCode).
 *
 * "scope 为 snsapi_base：用来获取进入页面的用户的 openid 的，并且是静默授权并自动跳转到回调页的。
 * 用户感知的就是直接进入了回调页". After the redirect the page is at `redirect_uri?code=CODE&state=STATE`;
 * "code作为换取access_token的票据，每次用户授权带上的code将不一样，code只能使用一次，5分钟未被使用自动过期".
 * @link https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
 */

/** The real host; WECHAT_OAUTH_BASE replaces it for the sandbox (config/visitor.config.ts). */
export const WECHAT_OAUTH_BASE_DEFAULT = 'https://open.weixin.qq.com';

export type WebOauthScope = 'snsapi_base' | 'snsapi_userinfo';

/** "重定向后会带上state参数，开发者可以填写a-zA-Z0-9的参数值，最多128字节". */
export const WEB_OAUTH_STATE_PATTERN = /^[A-Za-z0-9]{1,128}$/;

export interface BuildAuthorizeUrlParams {
  /** open.weixin.qq.com, or the sandbox's stand-in (`<origin>/sandbox/open`). */
  base: string;
  appId: string;
  /** Absolute, on the account's 网页授权域名; URL-encoded here ("请使用 urlEncode 对链接进行处理"). */
  redirectUri: string;
  state: string;
  scope?: WebOauthScope;
  /**
   * WeCom's OAuth2 (the sidebar's reps): the same page and parameters with `appid` the corpId and
   * `agentid` last: "appid 企业的CorpID ... agentid 应用agentid，建议填上该参数（对于第三方应用和代开发自建应用，在
   * 填写该参数的情况下或者在工作台、聊天工具栏、应用会话内发起oauth2请求的场景中，会触发接口许可的自动激活）".
   * @link https://developer.work.weixin.qq.com/document/path/91022 (构造网页授权链接)
   */
  agentId?: string;
}

/**
 * `https://open.weixin.qq.com/connect/oauth2/authorize?appid=APPID&redirect_uri=REDIRECT_URI
 * &response_type=code&scope=SCOPE&state=STATE#wechat_redirect` (WeCom: `&agentid=AGENTID` before the
 * fragment), parameters in the documented
 * order ("微信会对授权链接做正则强匹配校验，如果链接的参数顺序不对，授权页面将无法正常访问") and the
 * fragment kept ("无论直接打开还是做页面302重定向时候，必须带此参数").
 */
export function buildAuthorizeUrl(p: BuildAuthorizeUrlParams): string {
  if (!WEB_OAUTH_STATE_PATTERN.test(p.state)) throw new Error('web OAuth state must be 1 to 128 characters of a-z, A-Z, 0-9');
  if (!/^https?:\/\//.test(p.redirectUri)) throw new Error('web OAuth redirect_uri must be an absolute http(s) URL');
  const query = [
    `appid=${encodeURIComponent(p.appId)}`,
    `redirect_uri=${encodeURIComponent(p.redirectUri)}`,
    'response_type=code',
    `scope=${p.scope ?? 'snsapi_base'}`,
    `state=${p.state}`,
    ...(p.agentId === undefined ? [] : [`agentid=${encodeURIComponent(p.agentId)}`]),
  ].join('&');
  return `${p.base.replace(/\/+$/, '')}/connect/oauth2/authorize?${query}#wechat_redirect`;
}

/**
 * WeChat's in-app browser says `MicroMessenger` in its User-Agent. WeCom's says it too, with
 * `wxwork`: an Official Account's web OAuth does not work there (WeCom has its own), so a WeCom
 * browser counts as outside WeChat.
 */
export function isWechatBrowser(userAgent: string | undefined): boolean {
  if (!userAgent) return false;
  return /MicroMessenger/i.test(userAgent) && !/wxwork/i.test(userAgent);
}
