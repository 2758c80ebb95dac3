import { translateError, translateFieldErrors, type Translator } from '../../../web/shared/errors';
import { formatDateTime, zoneLabel } from '../../../web/shared/time';
import { ruleBodyOf, emptyRuleForm, parseTagLines } from '../../../web/admin/rules';
import { replyTextOf, sandboxActionBody } from '../../../web/admin/sandbox';
import { seriesByDay } from '../../../web/admin/dashboard';

const catalogue: Record<string, string> = {
  'errors.login_throttled': 'wait {seconds}s',
  'errors.invalid_credentials': '用户名或密码错误',
  'errors.unknown': 'unknown',
  'forms.rules.custom': '输入有误',
  'fieldErrors.matchValue': '需要匹配值',
  'fieldErrors.addTags.name': '标签名必填',
};
const tr: Translator = {
  has: (key) => key in catalogue,
  t: (key, params) => (catalogue[key] ?? key).replace(/\{(\w+)\}/g, (_, name: string) => String(params?.[name])),
};

describe('error translation', () => {
  it('translates by code, with the seconds to wait when throttled, else a general sentence (never the API message)', () => {
    expect(translateError({ code: 'login_throttled', message: 'x', details: { retryAfterSeconds: 41.2 } }, tr)).toBe('wait 42s');
    expect(translateError({ code: 'invalid_credentials', message: 'Wrong username or password' }, tr)).toBe('用户名或密码错误');
    expect(translateError({ code: 'brand_new_code', message: 'Server words' }, tr)).toBe('unknown');
    expect(translateError({ code: 'brand_new_code', message: '' }, tr)).toBe('unknown');
  });

  it('puts each validation issue next to its field, translated by path when known', () => {
    const errors = translateFieldErrors(
      {
        code: 'bad_request',
        message: 'Invalid input',
        details: [
          { path: 'matchValue', message: "matchValue is required when matchKind is 'keyword_exact'" },
          { path: 'addTags.2.name', message: 'Too small' },
          { path: 'priority', message: 'Too big: expected number to be <=100000' },
          'junk',
        ],
      },
      tr,
    );
    expect(errors).toEqual({
      matchValue: '需要匹配值',
      'addTags.2.name': '标签名必填',
      addTags: '标签名必填',
      priority: '输入有误',
    });
  });
});

describe('times in the business time zone', () => {
  it("shows the zone's wall clock, not the browser's, and the day it falls on", () => {
    expect(formatDateTime('2026-03-01T16:30:05Z', 'Asia/Shanghai')).toBe('2026-03-02 00:30:05');
    expect(formatDateTime('2026-03-01T16:30:05Z', 'UTC')).toBe('2026-03-01 16:30:05');
    expect(formatDateTime(null, 'Asia/Shanghai')).toBe('');
    expect(formatDateTime('not a time', 'Asia/Shanghai')).toBe('');
  });

  it('names the zone in the page language, not by its IANA code', () => {
    expect(zoneLabel('Asia/Shanghai', 'zh-CN')).toBe('中国标准时间');
    expect(zoneLabel('Asia/Shanghai', 'en')).toBe('China Standard Time');
    expect(zoneLabel('Not/AZone', 'zh-CN')).toBe('Not/AZone');
  });
});

describe('screen helpers', () => {
  it('reads tag lines as group/name and builds the rule body the API takes', () => {
    expect(parseTagLines('展会/expo2026\n\n  意向 / 高 \n无分组')).toEqual([
      { group: '展会', name: 'expo2026' },
      { group: '意向', name: '高' },
      { group: '默认', name: '无分组' },
    ]);
    const body = ruleBodyOf({ ...emptyRuleForm(), name: 'r', matchKind: 'any', matchValue: 'ignored', replyText: '' });
    expect(body).toMatchObject({ matchValue: null, replyText: null, addTags: [] });
  });

  it('sends only the fields an action uses', () => {
    const inputs = { openid: 'o1', scene: 'expo2026', content: ' hi ', key: 'K', scanResult: 'booth-42', state: '' };
    expect(sandboxActionBody('subscribe', { ...inputs, openid: null })).toEqual({ action: 'subscribe', scene: 'expo2026' });
    expect(sandboxActionBody('text', inputs)).toEqual({ action: 'text', openid: 'o1', content: 'hi' });
    expect(sandboxActionBody('add_external_contact', inputs)).toEqual({ action: 'add_external_contact' });
    expect(sandboxActionBody('menu_scan', inputs)).toEqual({ action: 'menu_scan', openid: 'o1', key: 'K', scanResult: 'booth-42' });
  });

  it('reads the words of a passive reply', () => {
    expect(replyTextOf('<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[价格表 <见附件>]]></Content></xml>')).toBe(
      '价格表 <见附件>',
    );
    expect(replyTextOf('<xml><Articles><item><Title><![CDATA[A]]></Title></item><item><Title>B</Title></item></Articles></xml>')).toBe(
      'A\nB',
    );
  });

  it('spreads per-day rows over every day, zero where nothing happened', () => {
    expect(
      seriesByDay(
        ['03-01', '03-02', '03-03'],
        [
          { day: '03-01', source: 'a', count: 2 },
          { day: '03-03', source: 'a', count: 1 },
          { day: '03-02', source: 'b', count: 5 },
          { day: '02-01', source: 'a', count: 9 },
        ],
        (r) => r.source,
      ),
    ).toEqual([
      { name: 'a', data: [2, 0, 1] },
      { name: 'b', data: [0, 5, 0] },
    ]);
  });
});
