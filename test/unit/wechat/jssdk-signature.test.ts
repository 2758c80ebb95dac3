import { createHash } from 'node:crypto';
import { signJsapiTicket } from '../../../server/wechat/jssdk-signature';

/**
 * The sample of "附录1-JS-SDK使用权限签名算法" (WeChat JS-SDK), repeated unchanged in WeCom's
 * "JS-SDK 签名算法" (developer.work.weixin.qq.com/document/path/96909).
 */
const SAMPLE = {
  ticket: 'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg',
  nonceStr: 'Wm3WZYTPz0wzccnW',
  timestamp: 1414587457,
  url: 'http://mp.weixin.qq.com?params=value',
  signature: '0f9de62fce790f9a083d5c99e95740ceb90c27ed',
};

describe('signJsapiTicket', () => {
  it('reproduces the signature of the published JS-SDK sample', () => {
    expect(signJsapiTicket(SAMPLE)).toBe(SAMPLE.signature);
  });

  it('signs the string1 of the sample, in the documented field order', () => {
    const string1 =
      'jsapi_ticket=sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg' +
      '&noncestr=Wm3WZYTPz0wzccnW&timestamp=1414587457&url=http://mp.weixin.qq.com?params=value';
    expect(createHash('sha1').update(string1).digest('hex')).toBe(SAMPLE.signature);
  });

  it('leaves out the #fragment of the URL', () => {
    expect(signJsapiTicket({ ...SAMPLE, url: `${SAMPLE.url}#/sidebar?tab=1` })).toBe(SAMPLE.signature);
    expect(signJsapiTicket({ ...SAMPLE, url: `${SAMPLE.url}#` })).toBe(SAMPLE.signature);
  });

  it('does not URL-encode the values', () => {
    const url = 'https://scrm.example.com/sidebar?a=1&b=中文 x';
    const expected = createHash('sha1')
      .update(`jsapi_ticket=${SAMPLE.ticket}&noncestr=${SAMPLE.nonceStr}&timestamp=${SAMPLE.timestamp}&url=${url}`, 'utf8')
      .digest('hex');
    expect(signJsapiTicket({ ...SAMPLE, url })).toBe(expected);
  });

  it('changes with every signed field', () => {
    for (const changed of [
      { ticket: `${SAMPLE.ticket}x` },
      { nonceStr: 'Wm3WZYTPz0wzccnX' },
      { timestamp: 1414587458 },
      { url: `${SAMPLE.url}2` },
    ]) {
      expect(signJsapiTicket({ ...SAMPLE, ...changed })).not.toBe(SAMPLE.signature);
    }
  });

  it('refuses a timestamp that is not whole seconds', () => {
    expect(() => signJsapiTicket({ ...SAMPLE, timestamp: 1414587457.5 })).toThrow(/whole seconds/);
    expect(() => signJsapiTicket({ ...SAMPLE, timestamp: -1 })).toThrow(/whole seconds/);
    expect(() => signJsapiTicket({ ...SAMPLE, timestamp: Number.NaN })).toThrow(/whole seconds/);
  });
});
