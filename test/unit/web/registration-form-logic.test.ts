import {
  answersToSend,
  fieldProblemOf,
  hasProblems,
  normalizePhone,
  registrationProblemsOf,
  type RegistrationField,
} from '../../../web/shared/registration-form';
import { validateAnswers } from '../../../server/modules/exhibitions/registration-form';
import { mapLinksOf } from '../../../web/mobile/map-links';
import { apiErrorMessage, CATALOGUES, fieldProblemMessage, localeOf, translatorFor } from '../../../web/mobile/messages';
import { channelIdOf, cloudPath, routeOf, ticketPath } from '../../../web/mobile/route';

const FIELDS: RegistrationField[] = [
  { key: 'name', label: '姓名', type: 'text', required: true, maxLength: 20 },
  { key: 'phone', label: '手机号', type: 'phone', required: true },
  { key: 'email', label: '邮箱', type: 'email', required: false },
  { key: 'headcount', label: '同行人数', type: 'number', required: false },
  { key: 'industry', label: '行业', type: 'select', required: true, options: ['制造', '零售'] },
  { key: 'note', label: '备注', type: 'textarea', required: false },
];
const field = (key: string): RegistrationField => {
  const found = FIELDS.find((f) => f.key === key);
  if (!found) throw new Error(key);
  return found;
};
const zh = translatorFor('zh-CN');

describe('the invitation page: registration form checks (web/shared/registration-form.ts)', () => {
  it('passes a filled form and sends trimmed answers, the phone normalised, empty optional answers left out', () => {
    const answers = { name: ' 张三 ', phone: '+86 138-0013-8000', email: '', headcount: '2', industry: '制造', note: '  ', extra: 'x' };
    const problems = registrationProblemsOf({ fields: FIELDS, answers, consent: true, smsVerification: false });
    expect(hasProblems(problems)).toBe(false);
    expect(answersToSend(FIELDS, answers)).toEqual({ name: '张三', phone: '13800138000', headcount: '2', industry: '制造' });
  });

  it('refuses each bad answer with its own reason, all at once, and names a missing consent', () => {
    const problems = registrationProblemsOf({
      fields: FIELDS,
      answers: { name: '   ', phone: '12345', email: 'a@b', headcount: '2人', industry: '金融' },
      consent: false,
      smsVerification: false,
    });
    expect(problems).toEqual({
      fields: {
        name: { code: 'required' },
        phone: { code: 'phone_invalid' },
        email: { code: 'email_invalid' },
        headcount: { code: 'number_invalid' },
        industry: { code: 'option_invalid' },
      },
      consentMissing: true,
      smsCodeMissing: false,
    });
    expect(hasProblems(problems)).toBe(true);
  });

  it('counts length in characters as a person does (an astral character is one) and applies the default cap', () => {
    expect(fieldProblemOf(field('name'), '𠀀'.repeat(20))).toBeNull();
    expect(fieldProblemOf(field('name'), '𠀀'.repeat(21))).toEqual({ code: 'too_long', max: 20 });
    expect(fieldProblemOf(field('note'), '字'.repeat(1000))).toBeNull();
    expect(fieldProblemOf(field('note'), '字'.repeat(1001))).toEqual({ code: 'too_long', max: 1000 });
    expect(fieldProblemOf({ key: 'company', label: '公司', type: 'text', required: false }, 'a'.repeat(101))).toEqual({
      code: 'too_long',
      max: 100,
    });
  });

  it('accepts mainland mobile numbers as typed with prefixes and separators, and refuses others', () => {
    expect(normalizePhone('0086 13912345678')).toBe('13912345678');
    expect(normalizePhone('86-139-1234-5678')).toBe('13912345678');
    expect(normalizePhone('(139) 1234 5678')).toBe('13912345678');
    expect(fieldProblemOf(field('phone'), '19912345678')).toBeNull();
    for (const bad of ['12912345678', '1391234567', '139123456789', '+1 4155550100', '１３９１２３４５６７８'])
      expect(fieldProblemOf(field('phone'), bad)).toEqual({ code: 'phone_invalid' });
  });

  it('asks for a six-digit SMS code only when the event verifies phones', () => {
    const base = { fields: FIELDS, answers: { name: '李四', phone: '13800138000', industry: '零售' }, consent: true };
    expect(registrationProblemsOf({ ...base, smsVerification: false }).smsCodeMissing).toBe(false);
    expect(registrationProblemsOf({ ...base, smsVerification: true, smsCode: '12345' }).smsCodeMissing).toBe(true);
    expect(registrationProblemsOf({ ...base, smsVerification: true, smsCode: ' 123456 ' }).smsCodeMissing).toBe(false);
  });

  it('words every problem in Chinese, naming the field', () => {
    expect(fieldProblemMessage(field('name'), { code: 'required' }, zh)).toBe('请填写姓名');
    expect(fieldProblemMessage(field('name'), { code: 'too_long', max: 20 }, zh)).toBe('姓名最多20个字');
    expect(fieldProblemMessage(field('phone'), { code: 'phone_invalid' }, zh)).toBe('请填写正确的手机号');
    expect(fieldProblemMessage(field('headcount'), { code: 'number_invalid' }, zh)).toBe('同行人数须为数字');
  });

  it("refuses exactly what the server's registration API refuses, with the server's words", () => {
    // Each answer alone in an otherwise valid form, through the page's check and the server's.
    const valid: Record<string, string> = { name: '张三', phone: '13800138000', industry: '制造' };
    const tries: [key: string, value: string][] = [
      ['name', ''],
      ['name', '  '],
      ['name', '𠀀'.repeat(20)],
      ['name', '𠀀'.repeat(21)],
      ['phone', '138 0013 8000'],
      ['phone', '+86(138)0013-8000'],
      ['phone', '008613800138000'],
      ['phone', '02112345678'],
      ['phone', '1380013800'],
      ['phone', '１３８００１３８０００'],
      ['email', 'li@example.com'],
      ['email', 'li@example'],
      ['email', 'li @example.com'],
      ['email', `${'a'.repeat(250)}@b.cn`],
      ['headcount', '3'],
      ['headcount', '-1.5'],
      ['headcount', '1e3'],
      ['headcount', '３'],
      ['industry', '零售'],
      ['industry', ' 零售'],
      ['industry', '金融'],
      ['industry', ''],
      ['note', '字'.repeat(1000)],
      ['note', '字'.repeat(1001)],
    ];
    for (const [key, value] of tries) {
      const answers = { ...valid, [key]: value };
      const page = registrationProblemsOf({ fields: FIELDS, answers, consent: true, smsVerification: false });
      const server = validateAnswers(FIELDS, answersToSend(FIELDS, answers));
      const pageMessages = Object.fromEntries(
        Object.entries(page.fields).map(([k, problem]) => [k, fieldProblemMessage(field(k), problem, zh)]),
      );
      expect({ key, value, refused: server.ok ? {} : server.fields }).toEqual({ key, value, refused: pageMessages });
    }
  });
});

describe('the invitation page: API refusals, routes, map links', () => {
  it("shows each refusal code's Chinese sentence, a waitlisted full event with its position", () => {
    expect(apiErrorMessage('already_registered', { registrationId: 7 }, zh)).toBe('您已报名过本活动，无需重复报名');
    expect(apiErrorMessage('event_full', { waitlisted: true, position: 3 }, zh)).toBe('名额已满，您已进入候补名单，排在第 3 位');
    expect(apiErrorMessage('event_full', undefined, zh)).toBe('很抱歉，名额已满');
    expect(apiErrorMessage('registration_closed', undefined, zh)).toBe('报名已截止');
    expect(apiErrorMessage('rate_limited', undefined, zh)).toBe('操作太频繁，请稍后再试');
    expect(apiErrorMessage('http_502', undefined, zh)).toBe('报名失败，请稍后重试');
  });

  it('has the same keys in English and Chinese, and picks Chinese unless English is asked for', () => {
    expect(Object.keys(CATALOGUES.en).sort()).toEqual(Object.keys(CATALOGUES['zh-CN']).sort());
    expect(localeOf('?ch=3', ['zh-CN', 'en'])).toBe('zh-CN');
    expect(localeOf('', [])).toBe('zh-CN');
    expect(localeOf('', ['en-US'])).toBe('en');
    expect(localeOf('?lang=zh-CN', ['en-US'])).toBe('zh-CN');
  });

  it('routes /e/:eventId and /e/:eventId/ticket/:token; anything else is not found', () => {
    expect(routeOf('/e/42')).toEqual({ name: 'event', eventId: '42' });
    expect(routeOf('/e/42/')).toEqual({ name: 'event', eventId: '42' });
    expect(routeOf(ticketPath('42', '42.7.abc_-.sig'))).toEqual({ name: 'ticket', eventId: '42', token: '42.7.abc_-.sig' });
    expect(routeOf(cloudPath('42'))).toEqual({ name: 'cloud', eventId: '42' });
    expect(cloudPath('42')).toBe('/e/42/cloud');
    for (const path of ['/', '/e/', '/e/42/ticket', '/e/42/other/x', '/e/42/cloud/x', '/e/%E0%A4%A/'])
      expect(routeOf(path)).toEqual({ name: 'not_found' });
    expect(channelIdOf('?ch=12')).toBe(12);
    expect(channelIdOf('?ch=abc')).toBeUndefined();
    expect(channelIdOf('?ch=0')).toBeUndefined();
  });

  it('links the venue to Tencent Maps and AMap by coordinates (AMap longitude first), else by address', () => {
    const links = mapLinksOf({ name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 });
    expect(links.tencent).toBe(
      `https://apis.map.qq.com/uri/v1/marker?marker=${encodeURIComponent('coord:31.19,121.3;title:国家会展中心;addr:上海市青浦区崧泽大道333号')}&referer=flywheel`,
    );
    expect(links.amap).toBe(
      `https://uri.amap.com/marker?position=121.3,31.19&name=${encodeURIComponent('国家会展中心')}&coordinate=gaode&callnative=1`,
    );
    expect(mapLinksOf({ address: '北京 798' }).amap).toBe(
      `https://uri.amap.com/search?keyword=${encodeURIComponent('北京 798')}&callnative=1`,
    );
  });
});
