/**
 * Days as the business sees them. Times are stored in UTC on both databases, and neither can
 * convert to a named zone here (MariaDB has no time-zone tables, SQLite no zones at all; see
 * FACTS.md), so a report computes the zone's offset in the application and groups by
 * `instant + offset` in SQL. Asia/Shanghai has had no daylight saving since 1991, so one offset
 * is right for any period a report covers; for a zone with DST, take the offset per day.
 * Pure: the zone is a parameter, never the process zone.
 */

const dayFormats = new Map<string, Intl.DateTimeFormat>();

function dayFormat(timeZone: string): Intl.DateTimeFormat {
  let format = dayFormats.get(timeZone);
  if (!format) {
    // hourCycle h23: some ICU versions print midnight as 24 with hour12: false.
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    dayFormats.set(timeZone, format);
  }
  return format;
}

function wallClock(
  instant: Date,
  timeZone: string,
): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {};
  for (const part of dayFormat(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const field = (name: string): number => {
    const value = parts[name];
    if (value === undefined || Number.isNaN(value)) throw new Error(`Intl gave no ${name} for ${timeZone}`);
    return value;
  };
  return {
    year: field('year'),
    month: field('month'),
    day: field('day'),
    hour: field('hour'),
    minute: field('minute'),
    second: field('second'),
  };
}

/** The zone's offset from UTC at that instant, in minutes (Asia/Shanghai: 480). */
export function getUtcOffsetMinutes(timeZone: string, at: Date = new Date()): number {
  const wall = wallClock(at, timeZone);
  const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const instant = Math.floor(at.getTime() / 1000) * 1000;
  return Math.round((wallAsUtc - instant) / 60_000);
}

export interface DayRange {
  /** 'YYYY-MM-DD' in the business zone, oldest first, ending today. */
  days: string[];
  /** The first day's midnight in the business zone, as an instant. */
  fromUtc: Date;
  /** The midnight after the last day, as an instant. */
  toUtc: Date;
}

const DAY_MS = 86_400_000;

/** The last `count` days up to and including today in a zone `offsetMinutes` from UTC. */
export function lastDays(now: Date, count: number, offsetMinutes: number): DayRange {
  const offsetMs = offsetMinutes * 60_000;
  const localToday = Math.floor((now.getTime() + offsetMs) / DAY_MS) * DAY_MS;
  const first = localToday - (count - 1) * DAY_MS;
  const days = Array.from({ length: count }, (_, i) => new Date(first + i * DAY_MS).toISOString().slice(0, 10));
  return { days, fromUtc: new Date(first - offsetMs), toUtc: new Date(localToday + DAY_MS - offsetMs) };
}
