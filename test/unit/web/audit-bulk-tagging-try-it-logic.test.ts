import { auditDetailLines, auditRange, dayStartIso } from '../../../web/admin/audit';
import { csvHrefOf, emptyContactFilters, filterBodyOf } from '../../../web/admin/contacts-filter';
import { dryRunBodyOf, dryRunFieldOf } from '../../../web/admin/rules';

describe('audit log screen logic', () => {
  it("shows an update's fields as before → after, and other detail keys as they are", () => {
    const lines = auditDetailLines({
      changed: ['role', 'displayName'],
      'before.role': 'sales',
      'after.role': 'operator',
      'before.displayName': null,
      'after.displayName': '李运营',
      ip: '1.2.3.4',
    });
    expect(lines).toEqual([
      { field: 'role', text: 'sales → operator' },
      { field: 'displayName', text: '∅ → 李运营' },
      { field: 'ip', text: '1.2.3.4' },
    ]);
    expect(auditDetailLines({ username: 'mkt-li', tags: ['a', 'b'] })).toEqual([
      { field: 'username', text: 'mkt-li' },
      { field: 'tags', text: 'a, b' },
    ]);
    expect(auditDetailLines(null)).toEqual([]);
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
