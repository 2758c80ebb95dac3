import { checkTemplateMessage, type TemplateRuleViolation } from './template-message';

/**
 * Subscribe messages (订阅消息 / 订阅通知): the Official Account's bizsend and the mini-program's
 * subscribe/send. Their values follow the same field rules as category template messages (thing ≤
 * 20 characters, number ≤ 32, phrase ≤ 5 Chinese characters ...), checked by template-message.ts,
 * so a bad draft fails with a reason and no request (the platform would answer 47003). Pure.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
 * @link https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
 */

export type SubscribeApi = 'oa' | 'mp';

export interface SubscribeMessageDraft {
  templateId: string;
  data: Record<string, string>;
  /** bizsend: a web URL opened on tap; subscribe/send: a mini-program page path (`pages/index?x=1`). */
  page: string | null;
  /** bizsend only: a mini-program opened on tap ("跳小程序所需数据，不需跳小程序可不用传该数据"). */
  miniprogram: { appid: string; pagepath: string } | null;
  /** subscribe/send only: "developer为开发版；trial为体验版；formal为正式版；默认为正式版". */
  miniprogramState: 'developer' | 'trial' | 'formal' | null;
  /** subscribe/send only: "支持zh_CN(简体中文)、en_US(英文)、zh_HK(繁体中文)、zh_TW(繁体中文)，默认为zh_CN". */
  lang: 'zh_CN' | 'en_US' | 'zh_HK' | 'zh_TW' | null;
}

const STATES = new Set(['developer', 'trial', 'formal']);
const LANGS = new Set(['zh_CN', 'en_US', 'zh_HK', 'zh_TW']);

/**
 * The outbox's payload for a subscribe message: `{template_id, data: {k: {value}}, page?,
 * miniprogram?, miniprogram_state?, lang?}`. For the Official Account `page` is a web URL (`url`
 * is read as well); for the mini-program it is a page path, and a web URL there is left out (a
 * mini-program cannot open one; journeys refuse a `url` on an mp_subscribe node). null when it is
 * not that shape.
 */
export function subscribeDraftFromPayload(api: SubscribeApi, payload: unknown): SubscribeMessageDraft | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  if (typeof p.template_id !== 'string' || typeof p.data !== 'object' || p.data === null) return null;
  const data: Record<string, string> = {};
  for (const [keyword, entry] of Object.entries(p.data as Record<string, unknown>)) {
    const value = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>).value : entry;
    if (typeof value !== 'string') return null;
    data[keyword] = value;
  }
  const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  let page: string | null;
  if (api === 'oa') page = text(p.page) ?? text(p.url);
  else {
    const given = text(p.page);
    page = given !== null && !/^https?:\/\//i.test(given) ? given : null;
  }
  const mp =
    api === 'oa' && typeof p.miniprogram === 'object' && p.miniprogram !== null ? (p.miniprogram as Record<string, unknown>) : null;
  const pagepath = mp ? (mp.pagepath ?? mp.pagePath) : undefined;
  const state = text(p.miniprogram_state);
  const lang = text(p.lang);
  return {
    templateId: p.template_id,
    data,
    page,
    miniprogram: mp && typeof mp.appid === 'string' ? { appid: mp.appid, pagepath: typeof pagepath === 'string' ? pagepath : '' } : null,
    miniprogramState: api === 'mp' && state !== null ? (state as SubscribeMessageDraft['miniprogramState']) : null,
    lang: api === 'mp' && lang !== null ? (lang as SubscribeMessageDraft['lang']) : null,
  };
}

/** Every rule the draft breaks: the template field rules, the Official Account's page URL, the mini-program's state and language. */
export function checkSubscribeMessage(api: SubscribeApi, draft: SubscribeMessageDraft): TemplateRuleViolation[] {
  const violations = checkTemplateMessage({ templateId: draft.templateId, data: draft.data, url: api === 'oa' ? draft.page : null });
  if (draft.miniprogramState !== null && !STATES.has(draft.miniprogramState))
    violations.push({ field: 'miniprogram_state', code: 'bad_chars' });
  if (draft.lang !== null && !LANGS.has(draft.lang)) violations.push({ field: 'lang', code: 'bad_chars' });
  return violations;
}

/** The body of bizsend (api `oa`) or subscribe/send (api `mp`) for one recipient. */
export function buildSubscribeSendBody(api: SubscribeApi, touser: string, draft: SubscribeMessageDraft): Record<string, unknown> {
  const body: Record<string, unknown> = {
    touser,
    template_id: draft.templateId,
    data: Object.fromEntries(Object.entries(draft.data).map(([k, value]) => [k, { value }])),
  };
  if (draft.page !== null) body.page = draft.page;
  if (api === 'oa') {
    if (draft.miniprogram) body.miniprogram = { appid: draft.miniprogram.appid, pagepath: draft.miniprogram.pagepath };
  } else {
    if (draft.miniprogramState !== null) body.miniprogram_state = draft.miniprogramState;
    if (draft.lang !== null) body.lang = draft.lang;
  }
  return body;
}
