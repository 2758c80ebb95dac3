/**
 * The rules an Official Account template message must follow, checked before a send so a bad
 * draft fails with a reason and no request (pure; read it beside the platform's documentation).
 *
 * - Since 2023-05-04 `first` and `remark` are no longer shown ("模板消息 ... 不再支持 first 和
 *   remark 字段"), so a draft carrying them is refused rather than sent without them.
 * - Category templates (类目模板) take their values under the subscribe-message field rules:
 *   thing ≤ 20 characters, number / letter / character_string ≤ 32, phrase ≤ 5 Chinese
 *   characters, name ≤ 10 Chinese characters or 20 Latin ones, amount, date/time shapes; no value
 *   may hold a line break.
 * - `url` and `miniprogram` may both be set; the mini-program wins ("url和miniprogram都是非必填
 *   字段 ... 若都传，会优先跳转至小程序").
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
 * @link https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
 */

export interface TemplateMessageDraft {
  templateId: string;
  /** keyword → value, e.g. `{ thing1: '双十一专场', time2: '2026年11月11日 10:00' }`. */
  data: Record<string, string>;
  url?: string | null;
  miniprogram?: { appid: string; pagepath?: string } | null;
}

export type TemplateRuleCode =
  'template_id_missing' | 'field_removed' | 'line_break' | 'too_long' | 'bad_chars' | 'empty_value' | 'bad_url';

export interface TemplateRuleViolation {
  /** The keyword (`thing1`), or `url` / `template_id`. */
  field: string;
  code: TemplateRuleCode;
  /** The limit a length rule checked, in characters. */
  max?: number;
}

const REMOVED_FIELDS = new Set(['first', 'remark']);
const LINE_BREAK = /[\r\n\u2028\u2029]/;
const HAN = /\p{Script=Han}/u;
const ONLY_HAN = /^\p{Script=Han}+$/u;

/** A keyword's kind is its name without the trailing number: `thing12` → `thing`. */
export function fieldKindOf(keyword: string): string {
  return keyword.replace(/\d+$/, '');
}

/** Characters as people count them (code points), as the platform counts: `'🎉'.length` is 2. */
function lengthOf(value: string): number {
  return [...value].length;
}

function checkValue(keyword: string, value: string): TemplateRuleViolation | null {
  if (value.length === 0) return { field: keyword, code: 'empty_value' };
  if (LINE_BREAK.test(value)) return { field: keyword, code: 'line_break' };
  const kind = fieldKindOf(keyword);
  const tooLong = (max: number): TemplateRuleViolation | null => (lengthOf(value) > max ? { field: keyword, code: 'too_long', max } : null);
  switch (kind) {
    case 'thing':
      return tooLong(20);
    case 'number':
      if (!/^[0-9.]+$/.test(value)) return { field: keyword, code: 'bad_chars' };
      return tooLong(32);
    case 'letter':
      if (!/^[A-Za-z]+$/.test(value)) return { field: keyword, code: 'bad_chars' };
      return tooLong(32);
    case 'character_string':
      if (!/^[0-9A-Za-z!-/:-@[-`{-~ ]+$/.test(value)) return { field: keyword, code: 'bad_chars' };
      return tooLong(32);
    case 'phrase':
      if (!ONLY_HAN.test(value)) return { field: keyword, code: 'bad_chars' };
      return tooLong(5);
    case 'name':
      // "10个以内纯汉字或20个以内纯字母或符号; 中文名10个汉字内; 纯英文名20个字母内; 中文和字母混合按中文名算".
      return tooLong(HAN.test(value) ? 10 : 20);
    case 'amount':
      // "1个币种符号+12位以内纯数字，可带小数，结尾可带“元”".
      if (!/^[¥$€£]?\d{1,12}(\.\d{1,2})?元?$/.test(value)) return { field: keyword, code: 'bad_chars' };
      return null;
    case 'phone_number':
      if (!/^[0-9+\-() ]+$/.test(value)) return { field: keyword, code: 'bad_chars' };
      return tooLong(17);
    case 'car_number':
      return tooLong(8);
    default:
      // time, date and keywords of classic templates (keyword1 ...): no documented length; 200 is
      // far above anything a phone shows on one line and keeps the body bounded.
      return tooLong(200);
  }
}

/**
 * Every rule the draft breaks (empty when it may be sent). Checks the payload only: whether the
 * template exists and the follower still follows is the platform's answer (40037, 43004).
 */
export function checkTemplateMessage(draft: TemplateMessageDraft): TemplateRuleViolation[] {
  const violations: TemplateRuleViolation[] = [];
  if (draft.templateId.trim() === '') violations.push({ field: 'template_id', code: 'template_id_missing' });
  for (const [keyword, value] of Object.entries(draft.data)) {
    if (REMOVED_FIELDS.has(keyword)) {
      violations.push({ field: keyword, code: 'field_removed' });
      continue;
    }
    const violation = checkValue(keyword, value);
    if (violation) violations.push(violation);
  }
  if (draft.url && !/^https?:\/\/\S+$/.test(draft.url)) violations.push({ field: 'url', code: 'bad_url' });
  return violations;
}

/** One line naming every violation, for outbox_messages.last_error and logs. */
export function describeViolations(violations: TemplateRuleViolation[]): string {
  return violations.map((v) => `${v.field}: ${v.code}${v.max === undefined ? '' : ` (max ${v.max})`}`).join('; ');
}

/**
 * The body of message/template/send. The mini-program wins over the url when both are set (the
 * platform's own rule), so the url is left out then: it would never be followed anyway.
 */
export function buildTemplateSendBody(p: { touser: string; clientMsgId: string; draft: TemplateMessageDraft }): Record<string, unknown> {
  const { draft } = p;
  const body: Record<string, unknown> = {
    touser: p.touser,
    template_id: draft.templateId,
    client_msg_id: p.clientMsgId,
    data: Object.fromEntries(Object.entries(draft.data).map(([k, value]) => [k, { value }])),
  };
  if (draft.miniprogram) body.miniprogram = { appid: draft.miniprogram.appid, pagepath: draft.miniprogram.pagepath ?? '' };
  else if (draft.url) body.url = draft.url;
  return body;
}

/**
 * The outbox's payload for a template message is the API's body without the recipient
 * (`{template_id, data: {k: {value}}, url?, miniprogram?}`), as journeys and broadcasts write it;
 * null when it is not that shape.
 */
export function templateDraftFromPayload(payload: unknown): TemplateMessageDraft | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  if (typeof p.template_id !== 'string' || typeof p.data !== 'object' || p.data === null) return null;
  const data: Record<string, string> = {};
  for (const [keyword, entry] of Object.entries(p.data as Record<string, unknown>)) {
    const value = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>).value : entry;
    if (typeof value !== 'string') return null;
    data[keyword] = value;
  }
  const mp = p.miniprogram;
  const miniprogram =
    typeof mp === 'object' && mp !== null && typeof (mp as Record<string, unknown>).appid === 'string'
      ? {
          appid: String((mp as Record<string, unknown>).appid),
          pagepath: String((mp as Record<string, unknown>).pagepath ?? (mp as Record<string, unknown>).pagePath ?? ''),
        }
      : null;
  return { templateId: p.template_id, data, url: typeof p.url === 'string' ? p.url : null, miniprogram };
}
