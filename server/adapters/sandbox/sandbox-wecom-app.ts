import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import { SandboxErrcode } from './sandbox-errcode';

/**
 * The WeCom self-built app (自建应用) behind the sidebar, as WeCom plays it: its members' OAuth2
 * codes, its settings the admin console holds (the visible range, the trusted domain, the
 * customer-contact permission and the members set up for customer contact), and the rep's
 * current chat the JS-SDK double reports (sandbox-wecom-jsbridge.ts).
 */

/** "code只能消费一次，不能重复消费。5分钟内有效". */
export const WECOM_OAUTH_CODE_TTL_MS = 5 * 60 * 1000;

/** The member the authorize page signs in when the link names none (`?userid=`). */
export const SANDBOX_DEFAULT_MEMBER = 'SandboxRep';

/** getContext's `entry` the double answers ("normal": opened from the workbench, not a chat). */
export type SandboxChatEntry = 'single_chat_tools' | 'contact_profile' | 'normal';
/** The JS-SDK failures the double can play for the chat's APIs (getContext, getCurExternalContact, sendChatMessage). */
export type SandboxChatFail = 'no permission' | 'without context of external contact' | 'invalid signature';

export interface SandboxChat {
  /** The customer the rep is chatting with (getCurExternalContact's userId); null: none. */
  externalUserId: string | null;
  entry: SandboxChatEntry;
  /** Every call of the chat's APIs fails with this; `invalid signature` fails config and agentConfig. */
  fail: SandboxChatFail | null;
}

/** A message sendChatMessage put into the chat, as the sandbox recorded it. */
export interface SandboxChatMessage {
  msgtype: string;
  /** The message's own object (`text`, `news`, `miniprogram` or `image`) as the page sent it. */
  payload: unknown;
  externalUserId: string | null;
  at: Date;
}

interface IssuedWecomCode {
  identity: { userId: string } | { openId: string };
  issuedAtMs: number;
  used: boolean;
}

export class SandboxWecomApp {
  private readonly codes = new Map<string, IssuedWecomCode>();
  /** The corp's members the sandbox has seen (named by a link, a follow user, or the control). */
  readonly members = new Set<string>([SANDBOX_DEFAULT_MEMBER]);
  /**
   * The app's name and settings as agent/get answers them. `visibleUserIds` null: every member is
   * in the visible range (the sandbox's default, so a rep named anywhere can open the sidebar).
   */
  settings: {
    name: string;
    visibleUserIds: string[] | null;
    /** The trusted domain (可信域名): Flywheel's public host unless a test says otherwise. */
    redirectDomain: string;
    /** false: get_follow_user_list answers 48002 (the app lacks the customer-contact permission). */
    customerContact: boolean;
    /** null: every member is set up for customer contact. */
    followUserIds: string[] | null;
  } = { name: 'Flywheel 侧边栏 (sandbox)', visibleUserIds: null, redirectDomain: 'localhost', customerContact: true, followUserIds: null };

  /** The rep's current chat, set by `POST /sandbox/control/wecom-chat`. */
  chat: SandboxChat = { externalUserId: null, entry: 'single_chat_tools', fail: null };
  readonly chatMessages: SandboxChatMessage[] = [];

  constructor(private readonly clock: Clock) {}

  /** Records a message sent into the current chat. */
  recordChatMessage(p: { msgtype: string; payload: unknown }): SandboxChatMessage {
    const message = { ...p, externalUserId: this.chat.externalUserId, at: this.clock.now() };
    this.chatMessages.push(message);
    return message;
  }

  /** A code for a member (a rep) or, with `openId`, for someone outside the corp. */
  issueCode(identity: { userId: string } | { openId: string }): string {
    this.forgetExpired();
    if ('userId' in identity) this.members.add(identity.userId);
    // WeCom's codes are 43 characters or so of [0-9A-Za-z_-]; any opaque text will do.
    const code = `SBXWW${randomBytes(24).toString('base64url')}`;
    this.codes.set(code, { identity, issuedAtMs: this.clock.now().getTime(), used: false });
    return code;
  }

  /**
   * auth/getuserinfo's answer. WeCom answers 40029 "invalid code" alike for an unknown, an expired
   * and a consumed code ("code只能消费一次").
   */
  redeem(code: string): { userid: string } | { openid: string } {
    const issued = this.codes.get(code);
    if (!issued || issued.used || this.clock.now().getTime() - issued.issuedAtMs > WECOM_OAUTH_CODE_TTL_MS)
      throw new SandboxErrcode(40029, 'invalid code');
    issued.used = true;
    return 'userId' in issued.identity ? { userid: issued.identity.userId } : { openid: issued.identity.openId };
  }

  private forgetExpired(): void {
    const cutoff = this.clock.now().getTime() - 2 * WECOM_OAUTH_CODE_TTL_MS;
    for (const [code, issued] of this.codes) if (issued.issuedAtMs < cutoff) this.codes.delete(code);
  }
}
