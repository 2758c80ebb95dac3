import { createHash } from 'node:crypto';

export interface SignJsapiTicketParams {
  /** The jsapi_ticket: OA `ticket/getticket?type=jsapi`, WeCom `get_jsapi_ticket` (wx.config) or `ticket/get?type=agent_config` (wx.agentConfig). */
  ticket: string;
  /** The same nonceStr the page passes to wx.config / wx.agentConfig. */
  nonceStr: string;
  /** Seconds since the epoch; the same timestamp the page passes to wx.config / wx.agentConfig. */
  timestamp: number;
  /** The page's full URL; anything from `#` on is dropped here. */
  url: string;
}

/**
 * The JS-SDK permission signature: "参与签名的字段包括noncestr（随机字符串）, 有效的jsapi_ticket,
 * timestamp（时间戳）, url（当前网页的URL，不包含#及其后面部分）... 字段名和字段值都采用原始值，不进行URL
 * 转义" — `sha1("jsapi_ticket=…&noncestr=…&timestamp=…&url=…")`, hex. WeCom uses the same string for
 * wx.config and wx.agentConfig: "只需按上述规则进行拼接，不要改变参数顺序，不要进行 URL encode".
 * The fixed order is also the dictionary order of the field names the WeChat doc asks for.
 * @link https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html (附录1-JS-SDK使用权限签名算法)
 * @link https://developer.work.weixin.qq.com/document/path/96909
 */
export function signJsapiTicket(p: SignJsapiTicketParams): string {
  // A fractional or negative timestamp would be signed as written and never match what the client sends.
  if (!Number.isSafeInteger(p.timestamp) || p.timestamp < 0) {
    throw new Error('the JS-SDK timestamp must be whole seconds since the epoch');
  }
  const hash = p.url.indexOf('#');
  const url = hash === -1 ? p.url : p.url.slice(0, hash);
  const string1 = `jsapi_ticket=${p.ticket}&noncestr=${p.nonceStr}&timestamp=${p.timestamp}&url=${url}`;
  return createHash('sha1').update(string1, 'utf8').digest('hex');
}
