import type { DataSource } from 'typeorm';
import { fromSqlDate } from '../../db/sql';
import { CSV_BOM, formatCsvRow, type CsvLocale } from '../contacts/contacts-csv';
import { PERSON_CHECKINS_SQL } from './checkins.service';

export interface EventReportDeps {
  dataSource: DataSource;
  /** The business time zone's offset from UTC in minutes (the hours of the check-in curve). */
  offsetMinutes: (at: Date) => number;
}

export interface ChannelReportRow {
  /** null: visits and registrations that came through no channel (a shared link without ?ch). */
  channelId: number | null;
  name: string | null;
  visits: number;
  newContacts: number;
  registrations: number;
  checkins: number;
  /** Yuan, as entered on the channel; null when none was. */
  cost: number | null;
  /** Cost per registration (cost per acquisition), yuan; null without a cost or a registration. */
  cpa: number | null;
}

export interface EventReport {
  eventId: number;
  name: string;
  startsAt: string;
  endsAt: string;
  /** Distinct visitors of the invitation page. */
  visits: number;
  /** Registrations holding a seat (checked in or not); not the waitlisted nor the cancelled. */
  registrations: number;
  waitlisted: number;
  cancelled: number;
  /** registrations / visits, null without visits. */
  registrationRate: number | null;
  /** People checked in (each once, whatever gates saw them). */
  checkins: number;
  /** checkins / registrations, null without registrations. */
  attendanceRate: number | null;
  byChannel: ChannelReportRow[];
  /** Check-ins per hour of the business day, oldest first. */
  checkinsOverTime: { hour: string; count: number }[];
  /** What registrants did after the event started. */
  conversions: { contacts: number; paidOrders: number; paidAmount: number; toRevenue: number };
  /** Survey satisfaction: answers, their average (two decimals; null without answers) and how many gave 1 … 5; null when the event has no survey. */
  satisfaction: { responses: number; average: number | null; distribution: [number, number, number, number, number] } | null;
}

type Row = Record<string, unknown>;
const num = (value: unknown): number => Number(value ?? 0);
const rate = (part: number, whole: number): number | null => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null);
const yuan = (fen: unknown): number | null => (fen === null || fen === undefined ? null : Number(fen) / 100);

/**
 * The event report (issue 15 §6): every figure counted by SQL over the event's own rows (visits,
 * registrations, check-ins, the channels that point at it), one grouped query per figure, so a
 * 100,000-registration event reads in a handful of statements. Money is yuan in the answer.
 */
export class EventReportService {
  constructor(private readonly deps: EventReportDeps) {}

  async report(eventId: number): Promise<EventReport | null> {
    const q = <T extends Row>(sql: string, params: unknown[]): Promise<T[]> => this.deps.dataSource.query<T[]>(sql, params);
    const [event] = await q<Row>('SELECT id, name, starts_at, ends_at FROM events WHERE id = ?', [eventId]);
    if (!event) return null;
    const startsAt = fromSqlDate(event.starts_at);

    const [
      visitRows,
      registrationRows,
      checkinRows,
      channelRows,
      touchRows,
      hourRows,
      conversionRows,
      revenueRows,
      surveyRows,
      satisfactionRows,
    ] = await Promise.all([
      q<Row>('SELECT channel_id, COUNT(*) AS n FROM event_visits WHERE event_id = ? GROUP BY channel_id', [eventId]),
      q<Row>('SELECT channel_id, status, COUNT(*) AS n FROM event_registrations WHERE event_id = ? GROUP BY channel_id, status', [eventId]),
      // Persons, not check-ins: a person with two registrations counts once (PERSON_CHECKINS_SQL).
      q<Row>(`SELECT p.channel_id, COUNT(*) AS n FROM (${PERSON_CHECKINS_SQL}) p GROUP BY p.channel_id`, [eventId]),
      // The channels made for the event, and any other channel a visit or registration came through.
      q<Row>(
        'SELECT id, name, cost_fen FROM channels WHERE event_id = ? OR id IN (SELECT channel_id FROM event_visits WHERE event_id = ?) ' +
          'OR id IN (SELECT channel_id FROM event_registrations WHERE event_id = ?)',
        [eventId, eventId, eventId],
      ),
      q<Row>(
        'SELECT t.channel_id, COUNT(DISTINCT t.contact_id) AS n FROM channel_touches t JOIN channels ch ON ch.id = t.channel_id ' +
          'WHERE ch.event_id = ? AND t.new_contact = 1 GROUP BY t.channel_id',
        [eventId],
      ),
      q<Row>(`SELECT p.checked_in_at FROM (${PERSON_CHECKINS_SQL}) p ORDER BY p.checked_in_at`, [eventId]),
      q<Row>(
        "SELECT COUNT(DISTINCT o.contact_id) AS contacts, COUNT(*) AS orders, COALESCE(SUM(o.amount_fen), 0) AS fen FROM pay_orders o WHERE o.state = 'paid' " +
          "AND o.paid_at >= ? AND o.contact_id IN (SELECT contact_id FROM event_registrations WHERE event_id = ? AND status <> 'cancelled')",
        [event.starts_at, eventId],
      ),
      q<Row>(
        "SELECT COUNT(DISTINCT s.contact_id) AS n FROM contact_stage_changes s WHERE s.to_stage = 'revenue' AND s.at >= ? " +
          "AND s.contact_id IN (SELECT contact_id FROM event_registrations WHERE event_id = ? AND status <> 'cancelled')",
        [event.starts_at, eventId],
      ),
      q<Row>('SELECT id FROM surveys WHERE event_id = ?', [eventId]),
      q<Row>('SELECT satisfaction, COUNT(*) AS n FROM survey_answers WHERE event_id = ? GROUP BY satisfaction', [eventId]),
    ]);

    const key = (id: unknown): string => (id === null || id === undefined ? 'none' : String(Number(id)));
    const rows = new Map<string, ChannelReportRow>();
    const rowOf = (id: unknown): ChannelReportRow => {
      const k = key(id);
      let row = rows.get(k);
      if (!row) {
        const channelId = k === 'none' ? null : Number(k);
        row = { channelId, name: null, visits: 0, newContacts: 0, registrations: 0, checkins: 0, cost: null, cpa: null };
        rows.set(k, row);
      }
      return row;
    };
    for (const c of channelRows) Object.assign(rowOf(c.id), { name: String(c.name), cost: yuan(c.cost_fen) });
    let visits = 0;
    for (const v of visitRows) {
      rowOf(v.channel_id).visits += num(v.n);
      visits += num(v.n);
    }
    let registrations = 0;
    let waitlisted = 0;
    let cancelled = 0;
    for (const r of registrationRows) {
      const n = num(r.n);
      if (r.status === 'registered') {
        rowOf(r.channel_id).registrations += n;
        registrations += n;
      } else if (r.status === 'waitlisted') waitlisted += n;
      // An unpaid registration (a paid event's, not paid yet) is neither: it holds a seat for two hours at most.
      else if (r.status === 'cancelled') cancelled += n;
    }
    let checkins = 0;
    for (const c of checkinRows) {
      rowOf(c.channel_id).checkins += num(c.n);
      checkins += num(c.n);
    }
    for (const t of touchRows) rowOf(t.channel_id).newContacts += num(t.n);
    for (const row of rows.values())
      row.cpa = row.cost !== null && row.registrations > 0 ? Math.round((row.cost / row.registrations) * 100) / 100 : null;

    const byChannel = [...rows.values()].sort(
      (a, b) => b.registrations - a.registrations || b.visits - a.visits || (a.channelId ?? Infinity) - (b.channelId ?? Infinity),
    );
    const [conversion] = conversionRows;
    return {
      eventId,
      name: String(event.name),
      startsAt: startsAt.toISOString(),
      endsAt: fromSqlDate(event.ends_at).toISOString(),
      visits,
      registrations,
      waitlisted,
      cancelled,
      registrationRate: rate(registrations, visits),
      checkins,
      attendanceRate: rate(checkins, registrations),
      byChannel,
      checkinsOverTime: this.perHour(hourRows.map((r) => fromSqlDate(r.checked_in_at))),
      conversions: {
        contacts: num(conversion?.contacts),
        paidOrders: num(conversion?.orders),
        paidAmount: num(conversion?.fen) / 100,
        toRevenue: num(revenueRows[0]?.n),
      },
      satisfaction: surveyRows.length === 0 ? null : satisfactionOf(satisfactionRows),
    };
  }

  /** Check-ins bucketed by the business day's hour (a fixed offset: Shanghai keeps no daylight saving). */
  private perHour(times: Date[]): { hour: string; count: number }[] {
    const counts = new Map<number, number>();
    for (const at of times) {
      const offset = this.deps.offsetMinutes(at) * 60_000;
      const hour = Math.floor((at.getTime() + offset) / 3_600_000) * 3_600_000 - offset;
      counts.set(hour, (counts.get(hour) ?? 0) + 1);
    }
    return [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([hour, count]) => ({ hour: new Date(hour).toISOString(), count }));
  }
}

function satisfactionOf(rows: Row[]): NonNullable<EventReport['satisfaction']> {
  const distribution: [number, number, number, number, number] = [0, 0, 0, 0, 0];
  for (const r of rows) {
    const score = num(r.satisfaction);
    if (score >= 1 && score <= 5) distribution[score - 1] += num(r.n);
  }
  const responses = distribution.reduce((sum, n) => sum + n, 0);
  const total = distribution.reduce((sum, n, i) => sum + n * (i + 1), 0);
  return { responses, average: responses > 0 ? Math.round((total / responses) * 100) / 100 : null, distribution };
}

const CSV_HEADERS: Record<CsvLocale, string[]> = {
  'zh-CN': ['渠道', '访问人数', '新客户', '报名', '签到', '成本（元）', '每个报名成本（元）'],
  en: ['Channel', 'Visitors', 'New contacts', 'Registrations', 'Check-ins', 'Cost (yuan)', 'Cost per registration (yuan)'],
};
const CSV_TOTAL: Record<CsvLocale, { total: string; direct: string }> = {
  'zh-CN': { total: '合计', direct: '直接访问' },
  en: { total: 'Total', direct: 'Direct' },
};
const CSV_SATISFACTION: Record<CsvLocale, string[]> = {
  'zh-CN': ['满意度', '回答数', '平均分', '1分', '2分', '3分', '4分', '5分'],
  en: ['Satisfaction', 'Responses', 'Average', '1', '2', '3', '4', '5'],
};

/** The report's channel table as CSV with a BOM (Excel in China opens it as UTF-8), a total row last. */
export function formatEventReportCsv(report: EventReport, locale: CsvLocale = 'zh-CN'): string {
  const words = CSV_TOTAL[locale];
  const lines = [formatCsvRow(CSV_HEADERS[locale])];
  for (const row of report.byChannel)
    lines.push(
      formatCsvRow([
        row.channelId === null ? words.direct : (row.name ?? `#${row.channelId}`),
        row.visits,
        row.newContacts,
        row.registrations,
        row.checkins,
        row.cost,
        row.cpa,
      ]),
    );
  const cost = report.byChannel.reduce((sum, row) => sum + (row.cost ?? 0), 0);
  const newContacts = report.byChannel.reduce((sum, row) => sum + row.newContacts, 0);
  lines.push(
    formatCsvRow([
      words.total,
      report.visits,
      newContacts,
      report.registrations,
      report.checkins,
      cost,
      report.registrations > 0 ? Math.round((cost / report.registrations) * 100) / 100 : null,
    ]),
  );
  // Satisfaction after a blank line, as a second small table (none without a survey).
  const sat = report.satisfaction;
  if (sat)
    lines.push(
      formatCsvRow([]),
      formatCsvRow(CSV_SATISFACTION[locale]),
      formatCsvRow(['', sat.responses, sat.average, ...sat.distribution]),
    );
  return CSV_BOM + lines.join('');
}
