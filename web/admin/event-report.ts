import { formatDateTime } from '../shared/time';

/** The event report's shape (server/modules/exhibitions/event-report.service.ts) and its charts' options, as plain data. */
export interface EventReport {
  eventId: number;
  name: string;
  visits: number;
  registrations: number;
  waitlisted: number;
  cancelled: number;
  registrationRate: number | null;
  checkins: number;
  attendanceRate: number | null;
  byChannel: {
    channelId: number | null;
    name: string | null;
    visits: number;
    newContacts: number;
    registrations: number;
    checkins: number;
    cost: number | null;
    cpa: number | null;
  }[];
  checkinsOverTime: { hour: string; count: number }[];
  conversions: { contacts: number; paidOrders: number; paidAmount: number; toRevenue: number };
  /** null when the event has no survey; `distribution` counts the answers giving 1 … 5. */
  satisfaction: { responses: number; average: number | null; distribution: number[] } | null;
}

/** A rate as the page shows it: 42.9%, or a dash when there is nothing to divide by. */
export function percent(rate: number | null): string {
  return rate === null ? '—' : `${(Math.round(rate * 1000) / 10).toString()}%`;
}

/** Visits, registrations and check-ins per channel, as grouped bars (ECharts option). */
export function channelChart(
  report: EventReport,
  names: { direct: string; visits: string; registrations: string; checkins: string },
): Record<string, unknown> {
  const rows = report.byChannel;
  return {
    legend: { data: [names.visits, names.registrations, names.checkins] },
    grid: { left: 40, right: 16, top: 36, bottom: 48 },
    xAxis: {
      type: 'category',
      data: rows.map((row) => row.name ?? names.direct),
      axisLabel: { interval: 0, rotate: rows.length > 4 ? 30 : 0 },
    },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: names.visits, type: 'bar', data: rows.map((row) => row.visits) },
      { name: names.registrations, type: 'bar', data: rows.map((row) => row.registrations) },
      { name: names.checkins, type: 'bar', data: rows.map((row) => row.checkins) },
    ],
  };
}

/** Check-ins per hour in the business time zone (the server buckets them by that zone's hours). */
export function hourChart(report: EventReport, name: string, timeZone: string): Record<string, unknown> {
  // `MM-DD HH:00` out of `YYYY-MM-DD HH:mm:ss`.
  const label = (iso: string): string => `${formatDateTime(iso, timeZone).slice(5, 13)}:00`;
  return {
    grid: { left: 40, right: 16, top: 16, bottom: 32 },
    xAxis: { type: 'category', data: report.checkinsOverTime.map((h) => label(h.hour)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ name, type: 'line', smooth: true, areaStyle: {}, data: report.checkinsOverTime.map((h) => h.count) }],
  };
}

/** How many answers gave each satisfaction score, 1 to 5, as bars (ECharts option). */
export function satisfactionChart(
  satisfaction: NonNullable<EventReport['satisfaction']>,
  scoreLabel: (score: number) => string,
): Record<string, unknown> {
  return {
    grid: { left: 40, right: 16, top: 16, bottom: 32 },
    xAxis: { type: 'category', data: [1, 2, 3, 4, 5].map(scoreLabel) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', data: satisfaction.distribution }],
  };
}
