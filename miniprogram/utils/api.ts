/**
 * The mini-program's one road to Flywheel's /api/mp/* routes.
 *
 * Login: wx.login gives a one-time code; POST /api/mp/login {code} exchanges it on the server
 * (code2Session, whose session_key never leaves the server) for Flywheel's own session token, which
 * is kept in storage and sent as `Authorization: Bearer <token>`. A 401 means the token expired or
 * was revoked: the client logs in again once and repeats the call; a second 401 is an error.
 * Concurrent calls share one login.
 *
 * Errors arrive as `{error: {code, message, details?}}`. The page shows `ApiError.message`, always a
 * zh-CN sentence: the code's own sentence when known, else one for the HTTP status; `request:fail`
 * (no network, DNS, TLS) and timeouts get their own.
 */
import { apiBase } from '../config';

export const TOKEN_KEY = 'fw:mpToken';
const TIMEOUT_MS = 10000;

/** The sentences for the codes the mini-program's routes answer with (as web/shared/i18n/zh-CN-core.ts). */
const MESSAGES: Record<string, string> = {
  network: '网络连接失败，请检查网络后重试',
  timeout: '请求超时，请稍后重试',
  login_failed: '微信登录失败，请稍后重试',
  unauthorized: '登录已失效，请重新进入小程序',
  mp_session_required: '登录已失效，请重新进入小程序',
  mp_session_expired: '登录已过期，请重新进入小程序',
  mp_code_invalid: '微信登录凭证无效或已过期，请重试',
  mp_code_used: '微信登录凭证已使用，请重试',
  mp_user_blocked: '该微信用户暂时无法使用本服务',
  mp_phone_code_invalid: '手机号授权已失效，请重新授权',
  mp_binding_code_invalid: '绑定码错误、已使用或已过期',
  forbidden: '没有权限执行此操作',
  mp_staff_only: '仅工作人员可使用签到功能',
  not_found: '找不到该内容',
  bad_request: '输入有误，请检查后重试',
  rate_limited: '操作过于频繁，请稍后再试',
  internal: '服务器开小差了，请稍后重试',
  event_not_found: '活动不存在',
  validation_failed: '请检查标红的项目',
  consent_required: '请先阅读并同意隐私政策',
  already_registered: '您已报名本活动',
  event_full: '活动名额已满',
  registration_closed: '报名已截止',
  invalid_ticket: '无效的门票',
  already_checked_in: '该门票已签到',
  ticket_revoked: '该门票已取消',
  ticket_waitlisted: '该报名仍在候补中',
  ticket_unpaid: '该门票尚未支付',
  already_purchased: '该门票已支付',
  registration_not_found: '您尚未报名本活动',
  pay_not_configured: '暂不支持在线支付',
  pay_order_failed: '暂时无法发起支付，请稍后重试',
  wrong_event: '该门票不属于本活动',
  ticket_expired: '活动已结束，门票已过期',
  not_registered: '您未报名本活动',
  survey_not_found: '本活动没有调查问卷',
  already_answered: '您已提交过本问卷',
  platform_refused: '微信暂时无法处理请求，请稍后重试',
  card_not_found: '名片不存在或已停用',
  mp_phone_required: '请先授权手机号',
};

function messageOfStatus(status: number): string {
  if (status >= 500) return '服务暂时不可用，请稍后重试';
  if (status === 429) return MESSAGES.rate_limited;
  if (status === 404) return MESSAGES.not_found;
  if (status === 403) return MESSAGES.forbidden;
  return `请求失败（${status}），请稍后重试`;
}

export class ApiError extends Error {
  /** The server's `error.code`, or `network` / `timeout` / `login_failed` / `http_<status>`. */
  readonly code: string;
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, status: number, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** The zh-CN sentence for any failure a page catches. */
export function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : MESSAGES.internal;
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

function errorOf(status: number, body: unknown): ApiError {
  const error = typeof body === 'object' && body !== null ? (body as ErrorBody).error : undefined;
  const code = typeof error?.code === 'string' ? error.code : `http_${status}`;
  const details = typeof error?.details === 'object' && error.details !== null ? (error.details as Record<string, unknown>) : undefined;
  // 5xx gets the generic sentence even for a known code: the reader can only retry.
  const message = status >= 500 ? messageOfStatus(status) : (MESSAGES[code] ?? messageOfStatus(status));
  return new ApiError(code, status, message, details);
}

/** `request:fail timeout`, `request:fail -101:net::ERR_INTERNET_DISCONNECTED`, `request:fail ssl hand shake error`... */
function failureOf(errMsg: string): ApiError {
  const code = /timeout/i.test(errMsg) ? 'timeout' : 'network';
  return new ApiError(code, 0, MESSAGES[code]);
}

type Method = 'GET' | 'POST';

interface Answer {
  status: number;
  body: unknown;
}

function send(method: Method, path: string, data: WechatMiniprogram.IAnyObject | undefined, token: string | null): Promise<Answer> {
  const header: Record<string, string> = { 'content-type': 'application/json' };
  if (token) header.Authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    wx.request({
      url: `${apiBase()}${path}`,
      method,
      data,
      header,
      timeout: TIMEOUT_MS,
      dataType: 'json',
      success: (res) => resolve({ status: res.statusCode, body: res.data }),
      fail: (err) => reject(failureOf(err.errMsg)),
    });
  });
}

function wxLoginCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res.code ? resolve(res.code) : reject(new ApiError('login_failed', 0, MESSAGES.login_failed))),
      fail: () => reject(new ApiError('login_failed', 0, MESSAGES.login_failed)),
    });
  });
}

let loggingIn: Promise<string> | null = null;

/** wx.login → POST /api/mp/login; one login at a time however many calls wait for it. */
export function login(): Promise<string> {
  if (!loggingIn) {
    loggingIn = (async () => {
      const code = await wxLoginCode();
      const answer = await send('POST', '/api/mp/login', { code }, null);
      if (answer.status !== 200) throw errorOf(answer.status, answer.body);
      const token = (answer.body as { token?: unknown }).token;
      if (typeof token !== 'string' || token === '') throw new ApiError('login_failed', answer.status, MESSAGES.login_failed);
      wx.setStorageSync(TOKEN_KEY, token);
      return token;
    })().finally(() => {
      loggingIn = null;
    });
  }
  return loggingIn;
}

function storedToken(): string | null {
  const token: unknown = wx.getStorageSync(TOKEN_KEY);
  return typeof token === 'string' && token !== '' ? token : null;
}

/** One authenticated call; the body of a 2xx as T. */
export async function request<T>(method: Method, path: string, data?: WechatMiniprogram.IAnyObject): Promise<T> {
  let answer = await send(method, path, data, storedToken() ?? (await login()));
  if (answer.status === 401) {
    wx.removeStorageSync(TOKEN_KEY);
    answer = await send(method, path, data, await login());
  }
  if (answer.status >= 200 && answer.status < 300) return answer.body as T;
  throw errorOf(answer.status, answer.body);
}

/** A path the server answered with (a ticket's QR image), made absolute for <image src>. */
export function absoluteUrl(pathOrUrl: string): string {
  return /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${apiBase()}${pathOrUrl}`;
}

const seg = encodeURIComponent;

// ---- Shapes (the mp-api branch's answers) ----

export interface Venue {
  name?: string | null;
  address: string;
  lat?: number | null;
  lng?: number | null;
}

export type EventStatus = 'open' | 'full' | 'closed' | 'ended';

/** GET /api/mp/events's items. */
export interface EventSummary {
  id: number;
  name: string;
  startsAt: string;
  endsAt: string;
  venue: Venue;
  status: EventStatus;
  registrationDeadline?: string;
  capacity?: number;
  registered?: number;
  seatsLeft?: number;
}

export type FieldType = 'text' | 'phone' | 'email' | 'number' | 'select' | 'textarea';

export interface RegistrationField {
  key: string;
  label: string;
  type: FieldType;
  required: boolean;
  options?: string[];
  maxLength?: number;
}

/** GET /api/mp/events/:id: the public event (as the H5 page's) with this user's registration. */
export interface EventDetail extends EventSummary {
  registrationDeadline: string;
  capacity: number;
  registered: number;
  fields: RegistrationField[];
  agenda: { time: string; title: string; speaker?: string | null }[] | null;
  /** A paid event's price (fen): its registration is unpaid until wx.requestPayment's order is paid. */
  ticketPriceFen?: number | null;
  /** This user's ticket for the event, when registered. */
  myRegistration?: Ticket | null;
}

/** GET /api/mp/config: what the server decides for the pages. */
export interface MpConfig {
  /** The subscribe-message templates to ask consent for at registration (the event reminder's; empty when not configured). */
  subscribeTemplateIds: string[];
}

export interface Benefit {
  kind: 'gift' | 'coupon';
  description: string;
}

/** One of GET /api/mp/me/tickets's items (registrations.service.ts ContactTicket). */
export interface Ticket {
  registrationId: number;
  eventId: number;
  eventName: string;
  venue: Venue;
  startsAt: string;
  endsAt: string;
  name: string;
  status: 'valid' | 'waitlisted' | 'unpaid' | 'checked_in';
  /** The check-in, with the benefit granted at it. */
  checkedIn: { gate: string; at: string; benefit: Benefit | null } | null;
  ticket: { token: string; qrImageUrl: string };
}

/** wx.requestPayment's parameters as the server signed them (appId: the mini-program's, signed over). */
export interface PayParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

/** A paid registration's order (registrations.service.ts RegistrationPayment). */
export interface Payment {
  orderId: number;
  payParams: PayParams;
}

export interface Registered {
  registrationId: number;
  status: string;
  ticket: { token: string; qrImageUrl: string };
  /** A paid event's: the registration is `unpaid` until this order is paid. */
  payment?: Payment;
}

export interface CheckinResult {
  status: 'checked_in';
  registrationId: number;
  gate: string;
  checkedInAt: string;
  benefit: Benefit | null;
}

/** wx.requestSubscribeMessage's answer per template id: accept, reject, ban or filter. */
export type SubscribeResult = Record<string, string>;

export interface MpMe {
  phoneBound: boolean;
  staff: { operatorId: number; name: string; role: string } | null;
}

/** A launch through a channel's code, as the server attributed it: the event it invites to, if any. */
export interface ChannelEntry {
  channelId: number;
  eventId: number | null;
}

/** A key for a report that may be sent again (a retry after a lost answer): the server keeps the first. */
export function reportKey(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let key = '';
  for (let i = 0; i < 20; i += 1) key += chars[Math.floor(Math.random() * chars.length)];
  return key;
}

export interface CardMaterial {
  code: string;
  title: string;
  kind: 'article' | 'image' | 'video' | 'pdf';
  cover?: string | null;
}

export interface Card {
  operatorId: number;
  name: string;
  title: string | null;
  company: string | null;
  phone: string | null;
  avatarUrl: string | null;
  intro: string | null;
  materials: CardMaterial[];
  /** The rep's contact-way QR (联系我): scanning or long-pressing it adds the rep on WeCom. */
  contactWayQrUrl: string | null;
  /** This viewer's own share token: a forward made from here extends the share chain by one link. */
  shareToken: string;
}

export interface CardSummary {
  operatorId: number;
  name: string;
  title: string | null;
  avatarUrl: string | null;
}

export type ContentKind = 'article' | 'image' | 'video' | 'pdf';

/** GET /api/mp/content/:code. */
export interface Content {
  code: string;
  title: string;
  kind: ContentKind;
  summary: string | null;
  /** An article's HTML (for <rich-text>), rendered and escaped on the server as its web page is. */
  body: string | null;
  /** The file (an image, video or PDF, or an article's cover), a path on the server. */
  fileUrl: string | null;
}

export interface CloudItem {
  code: string;
  title: string;
  kind: ContentKind;
  summary: string | null;
  /** An image material's file, a path on the server. */
  cover: string | null;
}

export type CloudSection = 'materials' | 'products' | 'cases';

/** GET /api/mp/events/:id/cloud: the event's cloud exhibition (云展厅). */
export interface Cloud {
  event: { id: number; name: string; startsAt: string; endsAt: string };
  sections: Record<CloudSection, CloudItem[]>;
}

export interface SurveyQuestion {
  key: string;
  kind: 'single' | 'multiple' | 'text';
  label: string;
  required: boolean;
  options?: string[];
}

/** GET /api/mp/events/:id/survey: the event's survey for this user (a registrant). */
export interface Survey {
  eventId: number;
  eventName: string;
  title: string;
  satisfactionLabel: string;
  questions: SurveyQuestion[];
  answered: boolean;
}

/** `satisfaction` (1–5) and each question's answer by key. */
export type SurveyAnswers = { satisfaction: number } & Record<string, string | string[] | number>;

// ---- Calls ----

export const mpApi = {
  /** The phone number behind getPhoneNumber's code, exchanged on the server (phonenumber.getPhoneNumber). */
  phone: (code: string) => request<{ phone: string }>('POST', '/api/mp/phone', { code }),
  me: () => request<MpMe>('GET', '/api/mp/me'),
  config: () => request<MpConfig>('GET', '/api/mp/config'),
  subscribeConsent: (body: { result: SubscribeResult; reportKey: string }) => request<unknown>('POST', '/api/mp/subscribe-consent', body),
  events: () => request<{ items: EventSummary[] }>('GET', '/api/mp/events'),
  event: (id: string | number) => request<EventDetail>('GET', `/api/mp/events/${seg(String(id))}`),
  /** The launch came through a channel's code: `scene` decoded, `launchId` one per launch (a retry is the same visit). */
  channelVisit: (body: { scene: string; launchId: string }) => request<ChannelEntry>('POST', '/api/mp/channel-visits', body),
  register: (id: string | number, body: { answers: Record<string, string>; consent: true; channelId?: number }) =>
    request<Registered>('POST', `/api/mp/events/${seg(String(id))}/registrations`, body),
  /** `eventId`: that event's ticket only. */
  myTickets: (eventId?: string | number) =>
    request<{ items: Ticket[] }>('GET', `/api/mp/me/tickets${eventId === undefined ? '' : `?eventId=${seg(String(eventId))}`}`),
  /** Opening the cloud exhibition is its visit. */
  cloud: (eventId: string | number) => request<Cloud>('GET', `/api/mp/events/${seg(String(eventId))}/cloud`),
  /** 在线咨询: the question goes to the user's rep. */
  consult: (eventId: string | number, question: string) =>
    request<{ consultId: string; assigned: boolean }>('POST', `/api/mp/events/${seg(String(eventId))}/cloud/consult`, { question }),
  survey: (eventId: string | number) => request<Survey>('GET', `/api/mp/events/${seg(String(eventId))}/survey`),
  answerSurvey: (eventId: string | number, answers: SurveyAnswers) =>
    request<{ status: 'answered' }>('POST', `/api/mp/events/${seg(String(eventId))}/survey/answers`, { answers }),
  /** 去支付: this user's unpaid registration of the event, its order's parameters again. */
  pay: (eventId: string | number) => request<Payment>('POST', `/api/mp/events/${seg(String(eventId))}/registrations/pay`),
  /** `nonce` names this scan: sent again after a lost answer, the server gives the first answer. */
  checkin: (body: { ticket: string; gate?: string; nonce: string }) => request<CheckinResult>('POST', '/api/mp/checkins', body),
  bindStaff: (code: string) => request<{ staff: MpMe['staff'] }>('POST', '/api/mp/staff/bind', { code }),
  /** The first report of a view: the server answers the view's key for the read-time updates. */
  contentView: (code: string, eventId?: number) =>
    request<{ viewKey: string }>('POST', `/api/mp/content/${seg(code)}/views`, eventId ? { eventId } : {}),
  /** The read time so far (seconds in all) of the view `viewKey` names. */
  contentReadTime: (code: string, viewKey: string, seconds: number) =>
    request<unknown>('POST', `/api/mp/content/${seg(code)}/views`, { viewKey, seconds }),
  /** The material's title and body or file, for the content page (no view: contentView reports it). */
  content: (code: string) => request<Content>('GET', `/api/mp/content/${seg(code)}`),

  // Business cards (server/http/mp-cards.routes.ts). A view alone makes no relationship; an action does.
  /** A rep's card; `st` is the share token the viewer arrived with (the share chain's last link). */
  card: (operatorId: string | number, st?: string) =>
    request<Card>('GET', `/api/mp/cards/${seg(String(operatorId))}${st ? `?st=${seg(st)}` : ''}`),
  /** How long the viewer looked at the card, reported when the page hides or closes. */
  cardView: (operatorId: string | number, body: { seconds: number; st?: string }) =>
    request<unknown>('POST', `/api/mp/cards/${seg(String(operatorId))}/views`, body),
  /** A company's cards. */
  companyCards: (company: string) => request<{ cards: CardSummary[] }>('GET', `/api/mp/cards?company=${seg(company)}`),
  /**
   * The actions that make a viewer a contact the rep follows (issue 17: a view alone does not):
   * saving the card to the phone's contacts, opening the rep's WeCom QR, leaving the phone bound
   * with `phone` first (409 `mp_phone_required` otherwise).
   */
  cardAction: (operatorId: string | number, body: { action: 'save_contact' | 'add_wecom' | 'leave_phone'; st?: string }) =>
    request<unknown>('POST', `/api/mp/cards/${seg(String(operatorId))}/actions`, body),
};
