/** Time comes in through this so tests can move it; nothing else calls `new Date()` for logic. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that can be moved forward: the sandbox's `POST /sandbox/control/clock`, and tests. */
export interface AdvancingClock extends Clock {
  advance(ms: number): void;
}

/**
 * Real time plus an offset that only grows: in sandbox mode, Flywheel and its fake platform run
 * on this, so a demo can skip ahead two days and see what fell due (token expiry, retries,
 * timers) exactly as it would happen two days later.
 */
export class OffsetClock implements AdvancingClock {
  private offsetMs = 0;
  constructor(private readonly base: Clock = systemClock) {}
  now(): Date {
    return new Date(this.base.now().getTime() + this.offsetMs);
  }
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
  }
  /** How far ahead of the base clock it runs (stored so that a restart keeps it: SandboxClockStore). */
  get offset(): number {
    return this.offsetMs;
  }
}

/** A clock tests set and advance by hand. */
export class ManualClock implements AdvancingClock {
  constructor(private current: Date = new Date('2026-11-23T08:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  set(to: Date): void {
    this.current = new Date(to.getTime());
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
