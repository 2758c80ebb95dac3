import { translatorOf } from '../../support/translator';
import enMessages from '../../../web/shared/i18n/en';
import zhMessages from '../../../web/shared/i18n/zh-CN';
import {
  auditActionLabel,
  auditActionOptions,
  auditDetailLines,
  auditRange,
  auditTargetLabel,
  dayStartIso,
} from '../../../web/admin/audit';
import { csvHrefOf, emptyContactFilters, filterBodyOf } from '../../../web/admin/contacts-filter';
import { dryRunBodyOf, dryRunFieldOf } from '../../../web/admin/rules';

/** The page's own catalogue, looked up by dotted key as vue-i18n does, `{name}` filled in. */
const zh = translatorOf(zhMessages);
const en = translatorOf(enMessages);

describe('audit log screen logic', () => {
  it("shows an update's fields as labelled before → after lines, other detail keys labelled, values as words", () => {
    const lines = auditDetailLines(
      {
        changed: ['role', 'displayName'],
        'before.role': 'sales',
        'after.role': 'operator',
        'before.displayName': null,
        'after.displayName': '李运营',
        rulesUpdated: 2,
      },
      zh,
    );
    expect(lines).toEqual([
      { field: '角色', text: '销售 → 运营' },
      { field: '显示名', text: '空 → 李运营' },
      { field: '随之更新的规则数', text: '2' },
    ]);
    expect(auditDetailLines({ username: 'mkt-li', added: ['a', 'b'], mustChangePassword: true }, zh)).toEqual([
      { field: '用户名', text: 'mkt-li' },
      { field: '添加的标签', text: 'a、b' },
      { field: '须修改密码', text: '是' },
    ]);
    // The contact page's older before/after pairs, and JSON text (a filter) as labelled pairs, never raw JSON.
    expect(auditDetailLines({ remarkBefore: null, remarkAfter: '老客户', filter: '{"stage":"acquired","search":"王"}' }, zh)).toEqual([
      { field: '备注', text: '空 → 老客户' },
      { field: '筛选条件', text: '阶段: 获客；搜索: 王' },
    ]);
    expect(auditDetailLines({ contactIds: [1, 2, 3] }, en)).toEqual([{ field: 'Customers', text: '3 customers' }]);
    // Codes inside values: a setup check's platforms, a retried queue, a rule's match kind.
    expect(auditDetailLines({ ok: ['oa', 'wecom'], failed: [] }, zh)).toEqual([
      { field: '通过', text: '公众号、企业微信' },
      { field: '未通过', text: '空' },
    ]);
    expect(auditDetailLines({ kind: 'tasks', matchKind: 'keyword_exact' }, zh)).toEqual([
      { field: '类型', text: '同步任务' },
      { field: '匹配方式', text: '关键词（完全匹配）' },
    ]);
    expect(auditDetailLines(null, zh)).toEqual([]);
  });

  it('names actions and targets in words, falling back to the code or the id only when nothing is known', () => {
    expect(auditActionLabel('operator.change_password', zh)).toBe('修改密码');
    expect(auditActionLabel('operator.change_password', en)).toBe('Password changed');
    expect(auditActionLabel('login_failed', zh)).toBe('登录失败');
    expect(auditActionLabel('future.thing', zh)).toBe('future.thing');
    for (const option of auditActionOptions(zh)) expect(option.label).not.toMatch(/[a-z]{3}/);
    expect(auditActionOptions(zh)).toContainEqual({ value: 'tag.', label: '标签（全部）' });
    expect(auditTargetLabel({ targetType: 'tag', targetId: '35', target: { name: '购买意向/需要发票' } }, zh)).toBe(
      '标签 购买意向/需要发票',
    );
    expect(auditTargetLabel({ targetType: 'operator', targetId: '2', target: { name: 'lisi' } }, zh)).toBe('操作员 lisi');
    const display = { kind: 'oa_follower' as const, text: 'A1b2', firstSource: null, followedAt: '2026-01-01T00:00:00.000Z' };
    expect(auditTargetLabel({ targetType: 'contact', targetId: '7', target: { name: null, contact: display } }, zh)).toBe(
      '客户 公众号粉丝 A1b2',
    );
    expect(auditTargetLabel({ targetType: 'tag_rule', targetId: '9', target: null }, en)).toBe('Rule #9');
    expect(auditTargetLabel({ targetType: null, targetId: null, target: null }, zh)).toBe('');
  });

  it('turns a day range into instants at midnight in the business time zone, the end day included', () => {
    // Shanghai is UTC+8: its 2026-03-01 starts at 16:00 UTC the day before.
    expect(dayStartIso('2026-03-01', 'Asia/Shanghai')).toBe('2026-02-28T16:00:00.000Z');
    expect(auditRange('2026-03-01', '2026-03-02', 'Asia/Shanghai')).toEqual({
      from: '2026-02-28T16:00:00.000Z',
      to: '2026-03-02T16:00:00.000Z',
    });
    // A zone with daylight saving: New York's 2026-07-01 starts at 04:00 UTC (EDT), 2026-01-01 at 05:00 (EST).
    expect(dayStartIso('2026-07-01', 'America/New_York')).toBe('2026-07-01T04:00:00.000Z');
    expect(dayStartIso('2026-01-01', 'America/New_York')).toBe('2026-01-01T05:00:00.000Z');
    expect(auditRange(null, null, 'Asia/Shanghai')).toEqual({});
    expect(dayStartIso('not a day', 'Asia/Shanghai')).toBeNull();
  });
});

describe('contacts filter for bulk tagging and export', () => {
  it('sends only the filters that are set, trimmed, as the API accepts them', () => {
    expect(filterBodyOf(emptyContactFilters())).toEqual({});
    expect(filterBodyOf({ q: '  张 ', tagId: 3, stage: 'activated', source: ' ', minScore: 0, maxScore: null })).toEqual({
      q: '张',
      tagId: 3,
      stage: 'activated',
      minScore: 0,
    });
  });

  it('links the CSV export to the same filter', () => {
    expect(csvHrefOf(emptyContactFilters())).toBe('/api/admin/contacts.csv');
    expect(csvHrefOf({ ...emptyContactFilters(), source: 'expo 2026', tagId: 7 })).toBe('/api/admin/contacts.csv?tagId=7&source=expo+2026');
    expect(csvHrefOf(emptyContactFilters(), 'en')).toBe('/api/admin/contacts.csv?locale=en');
  });
});

describe('rules "try it" box', () => {
  it('fills the one field the matchers read for the interaction type', () => {
    expect(dryRunFieldOf('text')).toBe('content');
    expect(dryRunFieldOf('click')).toBe('menuKey');
    for (const menu of ['view', 'menu_scan', 'menu_pics', 'menu_location', 'view_miniprogram']) expect(dryRunFieldOf(menu)).toBe('menuKey');
    expect(dryRunFieldOf('scan')).toBe('scene');
    expect(dryRunFieldOf('unsubscribe')).toBeNull();
    expect(dryRunBodyOf('text', '报名')).toEqual({ type: 'text', content: '报名' });
    expect(dryRunBodyOf('subscribe', '')).toEqual({ type: 'subscribe' });
    expect(dryRunBodyOf('unsubscribe', 'ignored')).toEqual({ type: 'unsubscribe' });
  });
});
