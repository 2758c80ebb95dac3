/**
 * errcode values the platform APIs answer with. Official Account and WeCom share one number space
 * but a few numbers mean different things on each; those lines name both.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 * @link https://developer.work.weixin.qq.com/document/path/90313
 */
export const WECHAT_ERRCODES: Readonly<Record<number, string>> = Object.freeze({
  [-1]: 'system busy, retry later',
  0: 'ok',
  40001: 'invalid credential: access_token invalid or not the latest (WeCom: invalid secret)',
  40002: 'invalid grant_type',
  40003: 'invalid openid (WeCom: invalid userid)',
  40008: 'invalid message type',
  40013: 'invalid appid (WeCom: invalid corpid)',
  40014: 'invalid access_token',
  40029: 'invalid code: the OAuth or wx.login code is wrong or expired (WeCom: invalid oauth_code)',
  40032: 'invalid openid list size: batch tagging takes at most 50 openids (WeCom: invalid userid list size)',
  40037: 'invalid template_id',
  40035: 'invalid parameter',
  40056: 'invalid agentid (WeCom)',
  40058: 'invalid argument: a parameter does not meet the API requirements (WeCom)',
  40068: 'invalid tagid (WeCom)',
  40071: 'tag name already exists (WeCom)',
  40072: 'invalid tag name length (WeCom)',
  40082: 'invalid suite_access_token or provider_access_token (WeCom third-party suite)',
  40096: 'invalid external_userid (WeCom)',
  40097: 'invalid argument',
  40125: 'invalid appsecret',
  40163: 'code already used: a login code works once',
  40164: 'calling IP is not in the API IP whitelist',
  40226: 'code blocked: high-risk user refused at mini-program login',
  40169: 'invalid scene: the mini-program code scene is longer than 32 characters',
  41001: 'access_token missing',
  41002: 'appid missing (WeCom: corpid missing)',
  41043: 'external_userid missing (WeCom)',
  41030: 'invalid page: the mini-program has no such published page',
  41051: 'the customer has started chatting: the welcome code was already used (WeCom send_welcome_msg)',
  42001: 'access_token expired',
  43004: 'user has not subscribed to the account',
  43101: 'user refused to receive the subscribe message',
  44004: 'empty text message content',
  45002: 'message content too long',
  45008: 'too many articles: a news message carries one',
  45009: 'API daily quota reached',
  45011: 'API called too frequently',
  45015: 'response out of time limit: outside the 48-hour customer-service window, or the fan unfollowed',
  45047: 'out of response count limit: the customer-service window has no messages left',
  45065: 'clientmsgid exist: a mass send with this clientmsgid was made in the last 24 hours (the answer carries its msg_id)',
  45067: 'clientmsgid longer than 64 bytes',
  45056: 'too many tags: an account may create at most 100',
  45057: 'tag has more than 100,000 fans and cannot be deleted directly',
  45058: 'system tags 0/1/2 cannot be modified',
  45059: 'a fan already carries the maximum of 20 tags',
  45157: 'invalid tag name: it must not duplicate another tag',
  45158: 'tag name longer than 30 bytes',
  45159: 'invalid tag id',
  47001: 'data format error: the JSON/XML body could not be parsed',
  47003: 'template parameter invalid',
  48001: 'API unauthorized: the account lacks this permission',
  48002: 'the fan turned off receiving messages (WeCom: API forbidden for this app or IP)',
  49003: 'openid does not belong to this appid',
  50001: 'user has not authorized this API (WeCom: redirect_uri domain is not a trusted domain)',
  60020: 'calling IP is not a trusted IP of the app (WeCom)',
  60111: 'userid not found (WeCom)',
  61023: 'refresh_token invalid',
  81013: 'userid, department and tag are all invalid or out of scope (WeCom)',
  84061: 'no external contact relationship between this member and customer (WeCom)',
});

const ACCESS_TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);

export function describeErrcode(code: number): string {
  return WECHAT_ERRCODES[code] ?? `errcode ${code}`;
}

/** The codes after which a fresh access_token and one retry may succeed. */
export function isAccessTokenErrcode(code: number): boolean {
  return ACCESS_TOKEN_ERRCODES.has(code);
}
