import { CUSTOM_ERRCODES, CUSTOM_WINDOW_MS, opensCustomWindow } from '../../wechat/custom-message';
import type { Clock } from '../clock';
import { SandboxErrcode } from './sandbox-errcode';

/** A customer-service message the platform accepted. */
export interface SandboxCustomMessage {
  msgid: number;
  openid: string;
  msgtype: string;
  /** The message's content object (`{content}` of a text, `{articles}` of a news message). */
  content: unknown;
  at: Date;
}

/** WeChat's count of messages per window, as the sandbox plays it (Flywheel's default is the same). */
export const SANDBOX_CUSTOM_PER_WINDOW = 5;

const MSGTYPES = new Set([
  'text',
  'image',
  'voice',
  'video',
  'music',
  'news',
  'mpnews',
  'mpnewsarticle',
  'msgmenu',
  'wxcard',
  'miniprogrampage',
]);

/**
 * Customer-service messages on the fake platform (message/custom/send): each follower's window,
 * opened by what the sandbox saw them do (the player tells it, with the callback's CreateTime),
 * the count of messages sent in it, and the record of every accepted message (what a test counts).
 * Outside the window 45015, past the count 45047, an openid it does not know 40003, a follower
 * who left 43004.
 */
export class SandboxCustomMessages {
  readonly accepted: SandboxCustomMessage[] = [];
  /** Messages per window; a test may lower it. */
  perWindow = SANDBOX_CUSTOM_PER_WINDOW;
  private nextMsgid = 3_000_000_001;
  private readonly windows = new Map<string, { openedAt: number; count: number }>();

  constructor(private readonly clock: Clock) {}

  /** A callback the player sent: opens or renews the follower's window when its kind does (a later one only). */
  noteCallback(openid: string, msgType: string, event: string | undefined, createTimeSeconds: number): void {
    if (!opensCustomWindow(msgType, event)) return;
    this.openWindow(openid, new Date(createTimeSeconds * 1000));
  }

  openWindow(openid: string, at: Date): void {
    const held = this.windows.get(openid);
    if (held && held.openedAt >= at.getTime()) return;
    this.windows.set(openid, { openedAt: at.getTime(), count: 0 });
  }

  windowOf(openid: string): { openedAt: Date; count: number } | null {
    const held = this.windows.get(openid);
    return held ? { openedAt: new Date(held.openedAt), count: held.count } : null;
  }

  /** message/custom/send. `follower` is the account's follower lookup (unknown: 40003, unfollowed: 43004). */
  send(body: Record<string, unknown>, follower: (openid: string) => { subscribed: boolean } | undefined): { msgid: number } {
    const openid = typeof body.touser === 'string' ? body.touser : '';
    const msgtype = typeof body.msgtype === 'string' ? body.msgtype : '';
    if (openid === '') throw new SandboxErrcode(40003);
    if (!MSGTYPES.has(msgtype)) throw new SandboxErrcode(CUSTOM_ERRCODES.badMessageType);
    const content = body[msgtype];
    if (typeof content !== 'object' || content === null) throw new SandboxErrcode(47001);
    if (msgtype === 'news') {
      const articles = (content as { articles?: unknown }).articles;
      if (!Array.isArray(articles) || articles.length === 0) throw new SandboxErrcode(47001);
      if (articles.length > 1) throw new SandboxErrcode(CUSTOM_ERRCODES.articlesTooMany);
    }
    const who = follower(openid);
    if (!who) throw new SandboxErrcode(40003);
    if (!who.subscribed) throw new SandboxErrcode(43004);
    const now = this.clock.now().getTime();
    const window = this.windows.get(openid);
    if (!window || now >= window.openedAt + CUSTOM_WINDOW_MS) throw new SandboxErrcode(CUSTOM_ERRCODES.outsideWindow);
    if (window.count >= this.perWindow) throw new SandboxErrcode(CUSTOM_ERRCODES.countSpent);
    window.count += 1;
    const msgid = this.nextMsgid;
    this.nextMsgid += 1;
    this.accepted.push({ msgid, openid, msgtype, content, at: new Date(now) });
    return { msgid };
  }

  /** Accepted messages per openid: a test's "exactly once". */
  countByOpenid(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.accepted) counts.set(m.openid, (counts.get(m.openid) ?? 0) + 1);
    return counts;
  }
}
