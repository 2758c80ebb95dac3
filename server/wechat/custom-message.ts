/**
 * Official Account customer-service messages (客服消息, message/custom/send): the window they may be
 * sent in, and the body of a send, checked before any request (pure; read it beside the platform's
 * documentation).
 *
 * - "当用户和公众号产生特定动作的交互时 ... 开发者可以在一段时间内（目前修改为48小时）调用客服接口":
 *   the window opens (or opens again) on the follower's message, a click-type or scan-type menu
 *   button ("仅有点击推事件、扫码推事件、扫码推事件且弹出'消息接收中'提示框这3种菜单类型是会触发客服接口的"),
 *   a follow, a QR-code scan (and a payment or a rights claim, which are not Official Account
 *   interactions here). Opening a link menu, a mini-program, the photo or location pickers does not.
 * - Past the window the platform answers 45015 ("response out of time limit or subscription is
 *   canceled"); past its count of messages per window, 45047 ("out of response count limit").
 * - "图文消息条数限制在1条以内": a news message carries one article.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
 */

/** The window: 48 hours after the follower's last interaction of the kinds below. */
export const CUSTOM_WINDOW_MS = 48 * 3_600_000;

/** The platform's answers that concern the window (Global_Return_Code). */
export const CUSTOM_ERRCODES = Object.freeze({
  /** "回复时间超过限制": outside the 48-hour window (or the follower unfollowed). */
  outsideWindow: 45015,
  /** "客服接口下行条数超过上限": the window's count is spent. */
  countSpent: 45047,
  /** "消息内容超过限制". */
  contentTooLong: 45002,
  /** "图文消息超过限制". */
  articlesTooMany: 45008,
  /** "不合法的消息类型". */
  badMessageType: 40008,
});

/**
 * Whether a callback opens the window, by its own fields: any message (MsgType other than
 * `event`), and the events CLICK, scancode_push, scancode_waitmsg, subscribe and SCAN. The sandbox,
 * which plays the follower, keeps its windows by it; Flywheel keeps its own by the same list of
 * interaction types (modules/outbox/custom-window.ts).
 */
export function opensCustomWindow(msgType: string, event: string | undefined): boolean {
  if (msgType.toLowerCase() !== 'event') return true;
  return ['click', 'scancode_push', 'scancode_waitmsg', 'subscribe', 'scan'].includes((event ?? '').toLowerCase());
}

/** Whether a window opened at `openedAt` still lets a message leave at `at` (`marginMs` kept for the request's way). */
export function customWindowOpen(openedAt: Date, at: Date, marginMs = 0): boolean {
  return at.getTime() + marginMs < openedAt.getTime() + CUSTOM_WINDOW_MS;
}

export interface CustomArticle {
  title: string;
  description?: string;
  url: string;
  picurl?: string;
}

/** What an outbox row carries (journey-engine.ts payloadOf 'oa_custom'); the recipient is added at send time. */
export type CustomMessageDraft = { msgtype: 'text'; text: { content: string } } | { msgtype: 'news'; news: { articles: CustomArticle[] } };

export type CustomRuleCode = 'bad_payload' | 'bad_msgtype' | 'empty_content' | 'too_long' | 'articles' | 'bad_url';

export interface CustomRuleViolation {
  field: string;
  code: CustomRuleCode;
  max?: number;
}

/**
 * A text message's content in bytes. The platform answers 45002 past its limit; Flywheel refuses
 * earlier, at 2,048 UTF-8 bytes (a journey's text is at most 1,000 characters plus a tracked link).
 */
export const CUSTOM_TEXT_MAX_BYTES = 2048;
const TITLE_MAX = 64;
const DESCRIPTION_MAX = 120;
const HTTP_URL = /^https?:\/\/\S+$/;

/** The draft of a payload, or what is wrong with it. */
export function customDraftFromPayload(payload: unknown): { draft: CustomMessageDraft } | { violations: CustomRuleViolation[] } {
  if (typeof payload !== 'object' || payload === null) return { violations: [{ field: 'payload', code: 'bad_payload' }] };
  const p = payload as Record<string, unknown>;
  if (p.msgtype === 'text') {
    const text = p.text as Record<string, unknown> | undefined;
    const content = typeof text?.content === 'string' ? text.content : null;
    if (content === null || content.trim() === '') return { violations: [{ field: 'text.content', code: 'empty_content' }] };
    if (Buffer.byteLength(content, 'utf8') > CUSTOM_TEXT_MAX_BYTES)
      return { violations: [{ field: 'text.content', code: 'too_long', max: CUSTOM_TEXT_MAX_BYTES }] };
    return { draft: { msgtype: 'text', text: { content } } };
  }
  if (p.msgtype === 'news') {
    const news = p.news as Record<string, unknown> | undefined;
    const articles = Array.isArray(news?.articles) ? (news.articles as unknown[]) : [];
    if (articles.length !== 1) return { violations: [{ field: 'news.articles', code: 'articles', max: 1 }] };
    const a = (typeof articles[0] === 'object' && articles[0] !== null ? articles[0] : {}) as Record<string, unknown>;
    const violations: CustomRuleViolation[] = [];
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
    const title = str(a.title);
    const url = str(a.url);
    const description = str(a.description);
    const picurl = str(a.picurl);
    if (!title) violations.push({ field: 'news.articles.0.title', code: 'empty_content' });
    else if ([...title].length > TITLE_MAX) violations.push({ field: 'news.articles.0.title', code: 'too_long', max: TITLE_MAX });
    if (description && [...description].length > DESCRIPTION_MAX)
      violations.push({ field: 'news.articles.0.description', code: 'too_long', max: DESCRIPTION_MAX });
    if (!url || !HTTP_URL.test(url)) violations.push({ field: 'news.articles.0.url', code: 'bad_url' });
    if (picurl && !HTTP_URL.test(picurl)) violations.push({ field: 'news.articles.0.picurl', code: 'bad_url' });
    if (violations.length > 0 || !title || !url) return { violations };
    return {
      draft: {
        msgtype: 'news',
        news: { articles: [{ title, url, ...(description ? { description } : {}), ...(picurl ? { picurl } : {}) }] },
      },
    };
  }
  return { violations: [{ field: 'msgtype', code: 'bad_msgtype' }] };
}

/** message/custom/send's body. */
export function buildCustomSendBody(touser: string, draft: CustomMessageDraft): Record<string, unknown> {
  return { touser, ...draft };
}

export function describeCustomViolations(violations: CustomRuleViolation[]): string {
  return violations.map((v) => `${v.field} ${v.code}${v.max === undefined ? '' : ` (max ${v.max})`}`).join(', ');
}
