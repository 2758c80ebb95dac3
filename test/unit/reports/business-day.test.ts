import { getUtcOffsetMinutes, lastDays } from '../../../server/modules/reports/business-day';

describe('business day', () => {
  it('puts a UTC instant on the Shanghai day it falls on (UTC+8)', () => {
    expect(lastDays(new Date('2026-03-01T15:59:59.999Z'), 1, 480).days).toEqual(['2026-03-01']);
    expect(lastDays(new Date('2026-03-01T16:00:00.000Z'), 1, 480).days).toEqual(['2026-03-02']);
    // New Year's Eve in UTC is already 1 January in Shanghai.
    expect(lastDays(new Date('2025-12-31T20:00:00Z'), 1, 480).days).toEqual(['2026-01-01']);
    expect(lastDays(new Date('2026-03-01T16:00:00Z'), 1, 0).days).toEqual(['2026-03-01']);
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

  it('spans the last days up to today, each Shanghai day from 16:00 UTC the day before', () => {
    const range = lastDays(new Date('2026-03-02T08:00:00.000Z'), 2, 480);
    expect(range.days).toEqual(['2026-03-01', '2026-03-02']);
    expect(range.fromUtc.toISOString()).toBe('2026-02-28T16:00:00.000Z');
    expect(range.toUtc.toISOString()).toBe('2026-03-02T16:00:00.000Z');
    expect(
      lastDays(
        new Date('2026-03-02T12:00:00Z'),
        1,
        getUtcOffsetMinutes('America/New_York', new Date('2026-03-02T12:00:00Z')),
      ).fromUtc.toISOString(),
    ).toBe('2026-03-02T05:00:00.000Z');
  });
});
