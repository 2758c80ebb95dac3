import { SANDBOX_CREDENTIALS } from '../../../config/config.schema';
import type { Clock } from '../../../server/adapters/clock';
import { createLogger, type Logger } from '../../../server/adapters/logger';

/** The sandbox credentials the server uses by default, shaped for createSandboxPlatform. */
export function sandboxAccounts() {
  const s = SANDBOX_CREDENTIALS;
  return {
    officialAccount: { appId: s.wechatAppId, secret: s.wechatSecret, token: s.wechatToken, aesKey: s.wechatAesKey },
    wecom: {
      corpId: s.wecomCorpId,
      secret: s.wecomSecret,
      agentId: s.wecomAgentId,
      agentSecret: s.wecomAgentSecret,
      token: s.wecomToken,
      aesKey: s.wecomAesKey,
    },
    miniprogram: { appId: s.miniprogramAppId, secret: s.miniprogramSecret },
  };
}

/** A logger that keeps every line, so tests can check what was (not) logged. */
export function createRecordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger('debug', (line) => lines.push(line)), lines };
}

export type { Clock };
