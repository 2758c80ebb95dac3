import { randomBytes } from 'node:crypto';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { signJsapiTicket } from '../../wechat/jssdk-signature';

export interface SidebarJssdkDeps {
  /** Real time: the page passes this timestamp on to the client. */
  clock: Clock;
  logger: Logger;
  /** PUBLIC_BASE_URL: only the sidebar's pages on this origin are signed. */
  publicBaseUrl: string;
  /** null: WeCom or its self-built app is not configured. */
  wecom: {
    corpId: string;
    agentId: string;
    /** The corp jsapi_ticket (wx.config), from the shared token store (WecomAgentClient). */
    corpTicket: () => Promise<string>;
    /** The app's ticket (wx.agentConfig), from the shared token store. */
    agentTicket: () => Promise<string>;
  } | null;
  /** The nonceStr (tests fix it); 16 random letters and digits by default. */
  nonce?: () => string;
}

/** What the page hands to ww.register's getConfigSignature and getAgentConfigSignature. */
export interface SidebarJssdkConfig {
  corpId: string;
  agentId: string;
  timestamp: number;
  nonceStr: string;
  /** wx.config's, with the corp jsapi_ticket. */
  signature: string;
  /** wx.agentConfig's, with the app's ticket. */
  agentSignature: string;
}

export type SignSidebarPageResult = { ok: true; config: SidebarJssdkConfig } | { ok: false; reason: 'url_not_ours' | 'wecom_disabled' };

/**
 * Signs the sidebar page for the WeCom JS-SDK, both ways @wecom/jssdk asks (config with the corp
 * ticket, agentConfig with the app's), with one timestamp and nonceStr. Only this site's /sidebar
 * pages are signed: a signature is a credential for the app's identity on whatever page presents it.
 * What was signed is logged (never the tickets), since "invalid signature" is always a question of
 * which URL, which ticket, which time.
 * @link https://developer.work.weixin.qq.com/document/path/96909 (JS-SDK 签名算法)
 */
export class SidebarJssdkService {
  constructor(private readonly deps: SidebarJssdkDeps) {}

  async signPage(p: { url: string }): Promise<SignSidebarPageResult> {
    const { wecom } = this.deps;
    if (wecom === null) return { ok: false, reason: 'wecom_disabled' };
    if (!isSidebarPageUrl(p.url, this.deps.publicBaseUrl)) {
      this.deps.logger.info('sidebar JS-SDK signature refused: not a sidebar page of this site', { url: p.url.slice(0, 300) });
      return { ok: false, reason: 'url_not_ours' };
    }
    // "url（当前网页的URL，不包含#及其后面部分）": the signer drops it too; a page that sends one has a bug worth seeing.
    const hash = p.url.indexOf('#');
    const url = hash === -1 ? p.url : p.url.slice(0, hash);
    if (hash !== -1) this.deps.logger.info('sidebar JS-SDK url had a # part; signed without it', { url });
    const [corpTicket, agentTicket] = await Promise.all([wecom.corpTicket(), wecom.agentTicket()]);
    const timestamp = Math.floor(this.deps.clock.now().getTime() / 1000);
    const nonceStr = this.deps.nonce ? this.deps.nonce() : randomNonce();
    const config: SidebarJssdkConfig = {
      corpId: wecom.corpId,
      agentId: wecom.agentId,
      timestamp,
      nonceStr,
      signature: signJsapiTicket({ ticket: corpTicket, nonceStr, timestamp, url }),
      agentSignature: signJsapiTicket({ ticket: agentTicket, nonceStr, timestamp, url }),
    };
    this.deps.logger.info('sidebar JS-SDK page signed', {
      url,
      timestamp,
      nonceStr,
      tickets: ['corp jsapi_ticket (signature)', 'agent_config ticket (agentSignature)'],
    });
    return { ok: true, config };
  }
}

/** An absolute URL on PUBLIC_BASE_URL's origin whose path is /sidebar or under it. */
export function isSidebarPageUrl(url: string, publicBaseUrl: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  if (parsed.origin !== new URL(publicBaseUrl).origin) return false;
  return parsed.pathname === '/sidebar' || parsed.pathname.startsWith('/sidebar/');
}

function randomNonce(): string {
  return randomBytes(12).toString('base64url').replace(/[-_]/g, '0').slice(0, 16);
}
