import type { DataSource } from 'typeorm';
import { Setting } from '../../../entities/setting.entity';
import type { Clock, OffsetClock } from '../../adapters/clock';

const OFFSET_SETTING = 'sandbox.clock_offset_ms';

export interface SandboxClockStoreDeps {
  dataSource: DataSource;
  /** The real clock (not the skipped one): when the offset was last written. */
  clock: Clock;
}

/**
 * How far the sandbox clock has been skipped ahead, kept in the database: a demo that skipped two
 * days and then restarted Flywheel must not find its journeys' waits and token expiries back where
 * they were, and the rows written in the skipped future must not lie ahead of the clock.
 */
export class SandboxClockStore {
  constructor(private readonly deps: SandboxClockStoreDeps) {}

  /** The stored offset, 0 when the clock was never skipped (or the value is unreadable). */
  async readOffsetMs(): Promise<number> {
    const row = await this.deps.dataSource.manager.findOneBy(Setting, { name: OFFSET_SETTING });
    const value = row ? Number(row.value) : 0;
    return Number.isSafeInteger(value) && value > 0 ? value : 0;
  }

  /** Records the offset; the clock only moves forward, so a smaller value (an older instance's) never replaces a larger one. */
  async saveOffsetMs(offsetMs: number): Promise<void> {
    if (!Number.isSafeInteger(offsetMs) || offsetMs < 0) throw new RangeError('the clock offset is a whole, non-negative number of ms');
    const current = await this.readOffsetMs();
    if (offsetMs <= current) return;
    await this.deps.dataSource.manager.upsert(
      Setting,
      { name: OFFSET_SETTING, value: String(offsetMs), updatedAt: this.deps.clock.now() },
      ['name'],
    );
  }

  /** At start-up: moves a fresh sandbox clock to where the last run left it; returns the offset applied. */
  async restoreInto(clock: OffsetClock): Promise<number> {
    const saved = await this.readOffsetMs();
    const missing = saved - clock.offset;
    if (missing > 0) clock.advance(missing);
    return Math.max(0, missing);
  }

  /** After a skip: stores how far ahead the clock now runs. */
  async remember(clock: OffsetClock): Promise<void> {
    await this.saveOffsetMs(clock.offset);
  }
}
