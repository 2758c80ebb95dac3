import { buildAuthorizeUrl, isWechatBrowser, WECHAT_OAUTH_BASE_DEFAULT } from '../../../server/wechat/web-oauth';

/**
 * The snsapi_base sample of "网页授权" (Official Account web OAuth), redirect_uri encoded as the
 * document shows it.
 * @link https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
 */
const SAMPLE =
  'https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx520c15f417810387' +
  '&redirect_uri=https%3A%2F%2Fchong.qq.com%2Fphp%2Findex.php%3Fd%3D%26c%3DwxAdapter%26m%3DmobileDeal%26showwxpaytitle%3D1%26vb2ctag%3D4_2030_5_1194_60' +
  '&response_type=code&scope=snsapi_base&state=123#wechat_redirect';

describe('buildAuthorizeUrl', () => {
  it('reproduces the published snsapi_base link: parameters in order, redirect_uri encoded, #wechat_redirect kept', () => {
    const url = buildAuthorizeUrl({
      base: WECHAT_OAUTH_BASE_DEFAULT,
      appId: 'wx520c15f417810387',
      redirectUri: 'https://chong.qq.com/php/index.php?d=&c=wxAdapter&m=mobileDeal&showwxpaytitle=1&vb2ctag=4_2030_5_1194_60',
      state: '123',
    });
    expect(url).toBe(SAMPLE);
  });

  it("builds WeCom's OAuth2 link: the corpId as appid and agentid last, before #wechat_redirect", () => {
    // "https://open.weixin.qq.com/connect/oauth2/authorize?appid=CORPID&redirect_uri=REDIRECT_URI
    // &response_type=code&scope=snsapi_base&state=STATE&agentid=AGENTID#wechat_redirect"
    // (https://developer.work.weixin.qq.com/document/path/91022).
    const url = buildAuthorizeUrl({
      base: WECHAT_OAUTH_BASE_DEFAULT,
      appId: 'wxCorpId',
      redirectUri: 'http://api.3dept.com/cgi-bin/query?action=get',
      state: 'STATE',
      agentId: '1000002',
    });
    expect(url).toBe(
      'https://open.weixin.qq.com/connect/oauth2/authorize?appid=wxCorpId&redirect_uri=http%3A%2F%2Fapi.3dept.com%2Fcgi-bin%2Fquery%3Faction%3Dget' +
        '&response_type=code&scope=snsapi_base&state=STATE&agentid=1000002#wechat_redirect',
    );
  });

  it('goes to a configured base (the sandbox), trailing slashes dropped', () => {
    const url = buildAuthorizeUrl({ base: 'http://127.0.0.1:9/sandbox/open/', appId: 'wxa', redirectUri: 'http://x/e/1', state: 'abc' });
    expect(url).toBe(
      'http://127.0.0.1:9/sandbox/open/connect/oauth2/authorize?appid=wxa&redirect_uri=http%3A%2F%2Fx%2Fe%2F1&response_type=code&scope=snsapi_base&state=abc#wechat_redirect',
    );
  });

  it('refuses a state WeChat would not carry back (a-zA-Z0-9, at most 128) and a relative redirect_uri', () => {
    const base = { base: WECHAT_OAUTH_BASE_DEFAULT, appId: 'wxa', redirectUri: 'https://x/e/1' };
    expect(() => buildAuthorizeUrl({ ...base, state: 'a-b' })).toThrow(/state/);
    expect(() => buildAuthorizeUrl({ ...base, state: 'a'.repeat(129) })).toThrow(/state/);
    expect(() => buildAuthorizeUrl({ ...base, state: '' })).toThrow(/state/);
    expect(buildAuthorizeUrl({ ...base, state: 'a'.repeat(128) })).toContain(`state=${'a'.repeat(128)}#`);
    expect(() => buildAuthorizeUrl({ ...base, redirectUri: '/e/1', state: 'a' })).toThrow(/redirect_uri/);
  });
});

describe('isWechatBrowser', () => {
  it('is WeChat for MicroMessenger, not for WeCom (wxwork), a desktop browser or no User-Agent', () => {
    const wechat =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN';
    const wecom =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.20 MicroMessenger/7.0.1 Language/zh';
    expect(isWechatBrowser(wechat)).toBe(true);
    expect(isWechatBrowser(wecom)).toBe(false);
    expect(isWechatBrowser('Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0')).toBe(false);
    expect(isWechatBrowser(undefined)).toBe(false);
  });
});
