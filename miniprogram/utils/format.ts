/**
 * Dates and the countdown as the pages show them, in China time (UTC+8, no daylight saving): the
 * server sends ISO instants, and a phone set to another zone must still show the venue's clock.
 */
const CHINA_OFFSET_MS = 8 * 3600 * 1000;
const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `2026-12-24 14:30` in China time. */
export function formatDateTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  const d = new Date(ms + CHINA_OFFSET_MS);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** `距开始 2 天 03:04:05`, `活动进行中` or `活动已结束`. */
export function countdownText(startsAt: string, endsAt: string, nowMs: number): string {
  const start = Date.parse(startsAt);
  const end = Date.parse(endsAt);
  if (nowMs >= end) return '活动已结束';
  if (nowMs >= start) return '活动进行中';
  const total = Math.floor((start - nowMs) / 1000);
  const days = Math.floor(total / 86400);
  const clock = `${pad(Math.floor((total % 86400) / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return days > 0 ? `距开始 ${days} 天 ${clock}` : `距开始 ${clock}`;
}

export const EVENT_STATUS_TEXT: Record<string, string> = {
  open: '报名中',
  full: '名额已满',
  closed: '报名已截止',
  ended: '已结束',
};

export const TICKET_STATUS_TEXT: Record<string, string> = {
  valid: '有效',
  checked_in: '已签到',
  revoked: '已取消',
  waitlisted: '候补中',
  unpaid: '待支付',
};
