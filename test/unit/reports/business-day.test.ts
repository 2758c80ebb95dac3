import { formatBusinessDay, getBusinessDayRange, getUtcOffsetMinutes } from '../../../server/modules/reports/business-day';

describe('business day', () => {
  it('puts a UTC instant on the Shanghai day it falls on (UTC+8)', () => {
    expect(formatBusinessDay(new Date('2026-03-01T15:59:59.999Z'), 'Asia/Shanghai')).toBe('2026-03-01');
    expect(formatBusinessDay(new Date('2026-03-01T16:00:00.000Z'), 'Asia/Shanghai')).toBe('2026-03-02');
    // New Year's Eve in UTC is already 1 January in Shanghai.
    expect(formatBusinessDay(new Date('2025-12-31T20:00:00Z'), 'Asia/Shanghai')).toBe('2026-01-01');
    expect(formatBusinessDay(new Date('2026-03-01T16:00:00Z'), 'UTC')).toBe('2026-03-01');
  });

  it('gives Asia/Shanghai a fixed +480 minutes all year, and a DST zone its current offset', () => {
    for (const at of ['2026-01-15T00:00:00Z', '2026-07-15T00:00:00Z', '2026-03-29T01:30:00Z']) {
      expect(getUtcOffsetMinutes('Asia/Shanghai', new Date(at))).toBe(480);
    }
    expect(getUtcOffsetMinutes('UTC', new Date('2026-07-15T00:00:00Z'))).toBe(0);
    expect(getUtcOffsetMinutes('Europe/Berlin', new Date('2026-01-15T12:00:00Z'))).toBe(60);
    expect(getUtcOffsetMinutes('Europe/Berlin', new Date('2026-07-15T12:00:00Z'))).toBe(120);
    expect(getUtcOffsetMinutes('America/New_York', new Date('2026-01-15T12:00:00Z'))).toBe(-300);
    expect(getUtcOffsetMinutes('Asia/Kolkata', new Date('2026-01-15T12:00:00Z'))).toBe(330);
  });

  it('defaults to now', () => {
    expect(getUtcOffsetMinutes('Asia/Shanghai')).toBe(480);
  });

  it('spans a Shanghai day from 16:00 UTC the day before, 24 hours', () => {
    const { start, end } = getBusinessDayRange('2026-03-02', 'Asia/Shanghai');
    expect(start.toISOString()).toBe('2026-03-01T16:00:00.000Z');
    expect(end.toISOString()).toBe('2026-03-02T16:00:00.000Z');
    expect(formatBusinessDay(start, 'Asia/Shanghai')).toBe('2026-03-02');
    expect(formatBusinessDay(new Date(end.getTime() - 1), 'Asia/Shanghai')).toBe('2026-03-02');
    expect(getBusinessDayRange('2026-03-02', 'America/New_York').start.toISOString()).toBe('2026-03-02T05:00:00.000Z');
    expect(() => getBusinessDayRange('2026-3-2', 'Asia/Shanghai')).toThrow(/YYYY-MM-DD/);
  });
});
