/**
 * Days in the business time zone, computed in the application: MariaDB here has no time-zone
 * tables (CONVERT_TZ answers NULL) and SQLite knows no zones, so the SQL groups by a fixed UTC
 * offset. Exact for zones without daylight saving, such as Asia/Shanghai; for others the offset
 * in force now is used for the whole range.
 */

/** The zone's offset from UTC in minutes at `at` (480 for Asia/Shanghai). Throws on an unknown zone. */
export function utcOffsetMinutes(timezone: string, at: Date): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' }).formatToParts(at).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /^GMT(?:([+-])(\d{1,2})(?::(\d{2}))?)?$/.exec(name);
  if (!match) throw new Error(`cannot read the UTC offset of ${timezone} from "${name}"`);
  if (!match[1]) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  return match[1] === '-' ? -minutes : minutes;
}

/** True when Intl knows the IANA zone name. */
export function isKnownTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
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
