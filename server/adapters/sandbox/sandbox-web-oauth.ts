import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import { SandboxErrcode } from './sandbox-errcode';

/**
 * Official Account web OAuth (网页授权) as the platform plays it: the authorize page hands out a
 * code for a visitor, and sns/oauth2/access_token redeems it once, within 5 minutes ("code只能使用
 * 一次，5分钟未被使用自动过期"). A reused code answers 40163 "code been used"; an unknown or expired
 * one 40029 "invalid code", as WeChat does.
 * @link https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
 */
export const WEB_OAUTH_CODE_TTL_MS = 5 * 60 * 1000;

interface IssuedCode {
  openid: string;
  unionid: string | null;
  scope: string;
  /** A visitor on a Moments snapshot page (快照页): the exchange says is_snapshotuser 1. */
  snapshotUser: boolean;
  issuedAtMs: number;
  used: boolean;
}

export class SandboxWebOauth {
  private readonly codes = new Map<string, IssuedCode>();

  constructor(private readonly clock: Clock) {}

  /** The code the authorize page puts on the redirect, for this visitor. */
  issueCode(p: { openid: string; unionid: string | null; scope: string; snapshotUser: boolean }): string {
    this.forgetExpired();
    // WeChat's codes are 32 characters of [0-9A-Za-z] (`071CyW000UGidO1SxY000uNATs1CyW04`).
    const code = randomBytes(24).toString('base64url').replace(/[-_]/g, '0').slice(0, 32);
    this.codes.set(code, { ...p, issuedAtMs: this.clock.now().getTime(), used: false });
    return code;
  }

  redeem(code: string): { openid: string; unionid: string | null; scope: string; snapshotUser: boolean } {
    const issued = this.codes.get(code);
    if (!issued || this.clock.now().getTime() - issued.issuedAtMs > WEB_OAUTH_CODE_TTL_MS) throw new SandboxErrcode(40029, 'invalid code');
    if (issued.used) throw new SandboxErrcode(40163, 'code been used');
    issued.used = true;
    return { openid: issued.openid, unionid: issued.unionid, scope: issued.scope, snapshotUser: issued.snapshotUser };
  }

  /** Expired codes are kept a while longer than their life (a late redeem still reads 40029, not 40163), then dropped. */
  private forgetExpired(): void {
    const cutoff = this.clock.now().getTime() - 2 * WEB_OAUTH_CODE_TTL_MS;
    for (const [code, issued] of this.codes) if (issued.issuedAtMs < cutoff) this.codes.delete(code);
  }
}
