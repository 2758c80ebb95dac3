import { ManualClock, OffsetClock } from '../../../server/adapters/clock';

describe('OffsetClock (the sandbox clock)', () => {
  it('follows its base clock plus what it was moved forward, and never moves back', () => {
    const base = new ManualClock(new Date('2026-12-01T00:00:00.000Z'));
    const clock = new OffsetClock(base);
    expect(clock.now().toISOString()).toBe('2026-12-01T00:00:00.000Z');
    clock.advance(2 * 86_400_000);
    base.advance(1_000);
    expect(clock.now().toISOString()).toBe('2026-12-03T00:00:01.000Z');
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
    expect(clock.now().toISOString()).toBe('2026-12-03T00:00:01.000Z');
  });
});
