import { channelChart, hourChart, percent, type EventReport } from '../../../web/admin/event-report';

const report: EventReport = {
  eventId: 1,
  name: '2026 智能制造展',
  visits: 7,
  registrations: 3,
  waitlisted: 0,
  cancelled: 1,
  registrationRate: 0.4286,
  checkins: 2,
  attendanceRate: 0.6667,
  byChannel: [
    { channelId: 4, name: '展会海报', visits: 4, newContacts: 1, registrations: 2, checkins: 2, cost: 300, cpa: 150 },
    { channelId: null, name: null, visits: 3, newContacts: 0, registrations: 1, checkins: 0, cost: null, cpa: null },
  ],
  checkinsOverTime: [
    { hour: '2026-12-12T01:00:00.000Z', count: 5 },
    { hour: '2026-12-12T02:00:00.000Z', count: 9 },
  ],
  conversions: { contacts: 1, paidOrders: 1, paidAmount: 99, toRevenue: 1 },
  satisfaction: null,
};

describe('the event report tab', () => {
  it('shows rates as percentages with one decimal, and a dash when there is nothing to divide by', () => {
    expect(percent(0.4286)).toBe('42.9%');
    expect(percent(1)).toBe('100%');
    expect(percent(null)).toBe('—');
  });

  it('draws visits, registrations and check-ins per channel, naming the visits through no channel', () => {
    const option = channelChart(report, { direct: '直接访问', visits: '访问', registrations: '报名', checkins: '签到' }) as {
      xAxis: { data: string[] };
      series: { name: string; data: number[] }[];
    };
    expect(option.xAxis.data).toEqual(['展会海报', '直接访问']);
    expect(option.series.map((s) => [s.name, s.data])).toEqual([
      ['访问', [4, 3]],
      ['报名', [2, 1]],
      ['签到', [2, 0]],
    ]);
  });

  it('labels the check-in hours in the business time zone', () => {
    const option = hourChart(report, '签到', 'Asia/Shanghai') as { xAxis: { data: string[] }; series: { data: number[] }[] };
    expect(option.xAxis.data).toEqual(['12-12 09:00', '12-12 10:00']);
    expect(option.series[0].data).toEqual([5, 9]);
  });
});
