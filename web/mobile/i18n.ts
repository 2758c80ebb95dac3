import { localeOf, translatorFor } from './messages';

/** The page's one language, chosen once at load (messages.ts says how). */
export const locale = localeOf(location.search, navigator.languages);
document.documentElement.lang = locale;
export const t = translatorFor(locale);

const dateTime = new Intl.DateTimeFormat(locale, {
  month: 'long',
  day: 'numeric',
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
});
const timeOnly = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });

/** "12月8日周二 09:00 – 17:00" (the end's date only when it differs), in the visitor's own zone. */
export function formatRange(startsAt: string, endsAt: string): string {
  const start = new Date(startsAt);
  const end = new Date(endsAt);
  const sameDay = start.toDateString() === end.toDateString();
  return `${dateTime.format(start)} – ${sameDay ? timeOnly.format(end) : dateTime.format(end)}`;
}

export const formatDateTime = (iso: string): string => dateTime.format(new Date(iso));
