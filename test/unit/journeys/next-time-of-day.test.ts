import { nextTimeOfDay } from '../../../server/modules/journeys/journey-engine';

describe('the next HH:MM on a time zone’s wall clock', () => {
  it('is later today or tomorrow, in the zone', () => {
    expect(nextTimeOfDay(new Date('2026-12-01T02:00:00Z'), '09:00', 'Asia/Shanghai').toISOString()).toBe('2026-12-02T01:00:00.000Z');
    expect(nextTimeOfDay(new Date('2026-12-01T00:30:00Z'), '09:00', 'Asia/Shanghai').toISOString()).toBe('2026-12-01T01:00:00.000Z');
    expect(nextTimeOfDay(new Date('2026-12-01T02:00:00Z'), '09:00', 'America/New_York').toISOString()).toBe('2026-12-01T14:00:00.000Z');
  });

  it('keeps 09:00 at 09:00 across a daylight-saving change', () => {
    // New York moves to EDT (UTC-4) at 02:00 on 8 March 2026; the evening before is still EST.
    expect(nextTimeOfDay(new Date('2026-03-07T20:00:00Z'), '09:00', 'America/New_York').toISOString()).toBe('2026-03-08T13:00:00.000Z');
    // And back to EST on 1 November 2026.
    expect(nextTimeOfDay(new Date('2026-10-31T20:00:00Z'), '09:00', 'America/New_York').toISOString()).toBe('2026-11-01T14:00:00.000Z');
  });
});
