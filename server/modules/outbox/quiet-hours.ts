import { getUtcOffsetMinutes } from '../reports/business-day';

/** A local-time window, minutes after midnight; it wraps past midnight when start > end (22:00-08:00). */
export interface QuietHours {
  startMinute: number;
  endMinute: number;
}

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;

/**
 * When the quiet window that `at` falls in ends (a marketing push is rescheduled to it), or null
 * when `at` is outside the window. Local time is the zone's wall clock at `at`: the contact's
 * zone through contactQuietHoursEnd below, else BUSINESS_TIMEZONE. The end is `at`'s offset plus
 * the minutes left, so on a night when the zone's clocks change it is an hour early or late.
 */
export function quietHoursEnd(at: Date, timeZone: string, window: QuietHours): Date | null {
  const offset = getUtcOffsetMinutes(timeZone, at);
  const localMinute = Math.floor((((at.getTime() / MINUTE_MS + offset) % DAY_MINUTES) + DAY_MINUTES) % DAY_MINUTES);
  const { startMinute: start, endMinute: end } = window;
  const inside = start <= end ? localMinute >= start && localMinute < end : localMinute >= start || localMinute < end;
  if (!inside || start === end) return null;
  const minutesLeft = (end - localMinute + DAY_MINUTES) % DAY_MINUTES;
  // From the start of the current minute, so the end falls on the window's boundary exactly.
  const minuteStart = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
  return new Date(minuteStart + minutesLeft * MINUTE_MS);
}

/**
 * The quiet window's end for one contact: in its own time zone (contacts.time_zone) when it has
 * one, else in the business zone. A zone the runtime no longer knows (stored before an ICU
 * update removed it; the API accepts only known ones) falls back to the business zone.
 */
export function contactQuietHoursEnd(
  at: Date,
  contactTimeZone: string | null | undefined,
  businessTimeZone: string,
  window: QuietHours,
): Date | null {
  if (contactTimeZone) {
    try {
      return quietHoursEnd(at, contactTimeZone, window);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
  }
  return quietHoursEnd(at, businessTimeZone, window);
}

/** The next midnight in Asia/Shanghai after `at`: WeChat's daily quotas (45009) reset then. */
export function nextShanghaiMidnight(at: Date): Date {
  const offsetMs = 8 * 3_600_000;
  const day = Math.floor((at.getTime() + offsetMs) / 86_400_000);
  return new Date((day + 1) * 86_400_000 - offsetMs);
}
