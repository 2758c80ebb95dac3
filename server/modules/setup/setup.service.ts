import { SANDBOX_CREDENTIALS, type Config } from '../../../config/config.schema';
import type { Clock } from '../../adapters/clock';
import type { OfficialAccountClient } from '../../adapters/official-account.client';
import { PlatformApiError } from '../../adapters/platform-error';
import type { TokenStore } from '../../adapters/token-store';
import type { WecomClient } from '../../adapters/wecom.client';
import type { AuditActor, AuditService } from '../audit/audit.service';

export type PlatformKey = 'oa' | 'wecom' | 'miniprogram';
export type PlatformMode = 'live' | 'sandbox' | 'disabled';

/** One platform as the setup screen shows it: whether each credential is set, never its value. */
export interface PlatformSetup {
  key: PlatformKey;
  mode: PlatformMode;
  /** The URL to paste into the platform's console; null when the platform sends no callbacks here. */
  callbackUrl: string | null;
  appId?: string;
  corpId?: string;
  tokenSet: boolean;
  aesKeySet: boolean;
  secretSet: boolean;
}

export interface SetupView {
  publicBaseUrl: string;
  sandbox: boolean;
  platforms: PlatformSetup[];
}

export interface PlatformCheck {
  key: PlatformKey;
  ok: boolean;
  /** The stored access_token is valid for a while yet. */
  tokenFresh: boolean;
  expiresAt: string | null;
  errcode?: number;
  meaning?: string;
  error?: string;
}

export interface SetupServiceDeps {
  config: Pick<Readonly<Config>, 'publicBaseUrl' | 'sandbox' | 'officialAccount' | 'wecom' | 'miniprogram'>;
  officialAccount: OfficialAccountClient | null;
  wecom: WecomClient | null;
  tokenStore: TokenStore;
  audit: AuditService;
  clock: Clock;
}

/** The admin's setup screen: what is configured, and a live check that each platform answers. */
export class SetupService {
  constructor(private readonly deps: SetupServiceDeps) {}

  describeSetup(): SetupView {
    const { config } = this.deps;
    const mode = (configured: boolean): PlatformMode => (!configured ? 'disabled' : config.sandbox ? 'sandbox' : 'live');
    const oa = config.officialAccount;
    const wc = config.wecom;
    // The mini-program always has values (the sandbox's when unset); outside sandbox mode those are not real.
    const mpConfigured = config.sandbox || config.miniprogram.appId !== SANDBOX_CREDENTIALS.miniprogramAppId;
    return {
      publicBaseUrl: config.publicBaseUrl,
      sandbox: config.sandbox,
      platforms: [
        {
          key: 'oa',
          mode: mode(oa !== null),
          callbackUrl: `${config.publicBaseUrl}/wechat/callback`,
          appId: oa?.appId,
          tokenSet: Boolean(oa?.token),
          aesKeySet: Boolean(oa?.aesKey),
          secretSet: Boolean(oa?.secret),
        },
        {
          key: 'wecom',
          mode: mode(wc !== null),
          callbackUrl: `${config.publicBaseUrl}/wecom/callback`,
          corpId: wc?.corpId,
          tokenSet: Boolean(wc?.token),
          aesKeySet: Boolean(wc?.aesKey),
          secretSet: Boolean(wc?.secret),
        },
        {
          key: 'miniprogram',
          mode: mode(mpConfigured),
          callbackUrl: null,
          appId: mpConfigured ? config.miniprogram.appId : undefined,
          tokenSet: false,
          aesKeySet: false,
          secretSet: mpConfigured && Boolean(config.miniprogram.secret),
        },
      ],
    };
  }

  /**
   * Calls each enabled platform once with its access_token (getcallbackip, get_api_domain_ip): the
   * token store fetches a token first when the stored one is stale, so a pass proves the secret,
   * the IP whitelist and the network. The mini-program has no server call yet and is not checked.
   */
  async checkSetup(actor: AuditActor): Promise<{ results: PlatformCheck[] }> {
    const results: PlatformCheck[] = [];
    const { officialAccount, wecom } = this.deps;
    if (officialAccount) results.push(await this.check('oa', officialAccount.accessTokenKey, () => officialAccount.getCallbackIp()));
    if (wecom) results.push(await this.check('wecom', wecom.accessTokenKey, () => wecom.getApiDomainIp()));
    await this.deps.audit.record({
      operatorId: actor.operatorId,
      ip: actor.ip,
      action: 'setup.check',
      detail: { ok: results.filter((r) => r.ok).map((r) => r.key), failed: results.filter((r) => !r.ok).map((r) => r.key) },
    });
    return { results };
  }

  private async check(key: PlatformKey, tokenKey: string, call: () => Promise<unknown>): Promise<PlatformCheck> {
    let failure: Pick<PlatformCheck, 'errcode' | 'meaning' | 'error'> | null = null;
    try {
      await call();
    } catch (error) {
      failure =
        error instanceof PlatformApiError
          ? { errcode: error.errcode, meaning: error.meaning, error: error.message }
          : { error: error instanceof Error ? error.message : String(error) };
    }
    const { expiresAt } = await this.deps.tokenStore.readExpiry(tokenKey);
    const tokenFresh = expiresAt !== null && expiresAt.getTime() > this.deps.clock.now().getTime();
    return { key, ok: failure === null, tokenFresh, expiresAt: expiresAt?.toISOString() ?? null, ...failure };
  }
}
