import type { EventField } from '../../../entities/event.entity';
import { normalizeChineseMobile, validateAnswers, withRequiredFields } from '../../../server/modules/exhibitions/registration-form';

const FIELDS: EventField[] = withRequiredFields([
  { key: 'company', label: '公司', type: 'text', required: true, maxLength: 5 },
  { key: 'title', label: '职位', type: 'text', required: false },
  { key: 'bio', label: '简介', type: 'textarea', required: false },
  { key: 'email', label: '邮箱', type: 'email', required: false },
  { key: 'industry', label: '行业', type: 'select', required: true, options: ['制造', '零售'] },
  { key: 'staff', label: '员工数', type: 'number', required: false },
]);

describe('registration form rules', () => {
  it('adds name and phone when the operator left them out, and makes them required when present', () => {
    expect(withRequiredFields([]).map((f) => [f.key, f.type, f.required])).toEqual([
      ['name', 'text', true],
      ['phone', 'phone', true],
    ]);
    const kept = withRequiredFields([
      { key: 'company', label: '公司', type: 'text', required: false },
      { key: 'phone', label: '电话', type: 'phone', required: false },
    ]);
    expect(kept.map((f) => [f.key, f.label, f.required])).toEqual([
      ['name', '姓名', true],
      ['company', '公司', false],
      ['phone', '电话', true],
    ]);
  });

  it.each([
    ['13812345678', '+8613812345678'],
    ['138 1234 5678', '+8613812345678'],
    ['138-1234-5678', '+8613812345678'],
    ['+86 138 1234 5678', '+8613812345678'],
    ['008613812345678', '+8613812345678'],
    ['8613812345678', '+8613812345678'],
    ['19912345678', '+8619912345678'],
  ])('normalises the mobile %s to %s', (typed, e164) => {
    expect(normalizeChineseMobile(typed)).toBe(e164);
  });

  it.each(['12812345678', '1381234567', '138123456789', '010-12345678', '+14155552671', '+85291234567', 'abc'])(
    'refuses %s (not a mainland mobile)',
    (typed) => {
      expect(normalizeChineseMobile(typed)).toBeNull();
    },
  );

  it('accepts good answers, trimmed, numbers as numbers, the phone in E.164', () => {
    expect(
      validateAnswers(FIELDS, {
        name: ' 李雷 ',
        phone: '138 1234 5678',
        company: '飞轮',
        industry: '制造',
        staff: '120',
        email: ' a@b.cn ',
      }),
    ).toEqual({
      ok: true,
      name: '李雷',
      phone: '+8613812345678',
      answers: { name: '李雷', phone: '+8613812345678', company: '飞轮', industry: '制造', staff: 120, email: 'a@b.cn' },
    });
  });

  it('says what is wrong with each field at once, in Chinese', () => {
    expect(
      validateAnswers(FIELDS, {
        name: '  ',
        phone: '12345',
        company: '一家很长的公司名',
        email: 'a@b',
        industry: '金融',
        staff: '12x',
        title: { x: 1 },
        extra: 'y',
      }),
    ).toEqual({
      ok: false,
      fields: {
        name: '请填写姓名',
        phone: '请填写正确的手机号',
        company: '公司最多5个字',
        email: '请填写正确的邮箱地址',
        industry: '请从选项中选择行业',
        staff: '员工数须为数字',
        title: '职位格式不正确',
        extra: '表单没有这一项',
      },
    });
  });

  it('counts length by character (a Chinese character or an emoji is one), with defaults for text and textarea', () => {
    expect(validateAnswers(FIELDS, { name: '李', phone: '13812345678', company: '😀😀😀😀😀', industry: '零售' }).ok).toBe(true);
    const long = validateAnswers(FIELDS, {
      name: '李'.repeat(65),
      phone: '13812345678',
      company: 'a',
      industry: '零售',
      bio: 'x'.repeat(1001),
    });
    expect(long).toEqual({ ok: false, fields: { name: '姓名最多64个字', bio: '简介最多1000个字' } });
    expect(validateAnswers(FIELDS, { name: 'x', phone: '13812345678', company: 'a', industry: '零售', title: 't'.repeat(101) })).toEqual({
      ok: false,
      fields: { title: '职位最多100个字' },
    });
  });

  it('refuses answers that are not an object, and leaves optional fields out when empty', () => {
    expect(validateAnswers(FIELDS, null)).toEqual({ ok: false, fields: { answers: '请填写报名信息' } });
    expect(validateAnswers(FIELDS, ['a'])).toEqual({ ok: false, fields: { answers: '请填写报名信息' } });
    const ok = validateAnswers(FIELDS, { name: 'x', phone: '13812345678', company: 'a', industry: '零售', email: '', staff: null });
    expect(ok).toEqual(
      expect.objectContaining({ ok: true, answers: { name: 'x', phone: '+8613812345678', company: 'a', industry: '零售' } }),
    );
  });
});
