import { hintsOf, type HintInput } from '../../../server/modules/sidebar/sidebar-hints';

const NOW = new Date('2026-12-07T02:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

const quiet: HintInput = {
  now: NOW,
  registrations: [],
  mql: null,
  surveys: [],
  followUps: [],
  lastInboundAt: at(-HOUR),
  createdAt: at(-100 * DAY),
  silentDays: 30,
};
const registration = (startsIn: number, endsIn: number, extra: Partial<HintInput['registrations'][number]> = {}) => ({
  eventId: 7,
  eventName: '展会',
  status: 'registered',
  startsAt: at(startsIn),
  endsAt: at(endsIn),
  checkedIn: false,
  ...extra,
});
const codes = (input: Partial<HintInput>) => hintsOf({ ...quiet, ...input }).map((hint) => hint.code);
const phases = (input: Partial<HintInput>) => hintsOf({ ...quiet, ...input }).map((hint) => hint.params.phase);

describe('sidebar hints', () => {
  it('has none for an active customer with nothing pending', () => {
    expect(hintsOf(quiet)).toEqual([]);
  });

  it('names a registration without check-in that starts soon, has started, or ended within a week', () => {
    expect(phases({ registrations: [registration(2 * DAY, 2 * DAY + 5 * HOUR)] })).toEqual(['soon']);
    expect(codes({ registrations: [registration(4 * DAY, 4 * DAY + 5 * HOUR)] })).toEqual([]);
    expect(phases({ registrations: [registration(-HOUR, 4 * HOUR)] })).toEqual(['started']);
    expect(phases({ registrations: [registration(-6 * DAY, -6 * DAY + 5 * HOUR)] })).toEqual(['ended']);
    expect(codes({ registrations: [registration(-9 * DAY, -9 * DAY + 5 * HOUR)] })).toEqual([]);
    expect(codes({ registrations: [registration(-HOUR, 4 * HOUR, { checkedIn: true })] })).toEqual([]);
    expect(codes({ registrations: [registration(-HOUR, 4 * HOUR, { status: 'cancelled' })] })).toEqual([]);
  });

  it('names an MQL crossing of the last two days while the contact is still above', () => {
    const mql = { above: true, crossedAt: at(-DAY), threshold: 100, score: 120 };
    expect(hintsOf({ ...quiet, mql })).toEqual([
      { code: 'mql_crossed', params: { threshold: 100, score: 120, crossedAt: at(-DAY).toISOString() } },
    ]);
    expect(codes({ mql: { ...mql, crossedAt: at(-3 * DAY) } })).toEqual([]);
    expect(codes({ mql: { ...mql, above: false } })).toEqual([]);
  });

  it('names an unhappy survey answer (2 or less), each open follow-up, and silence past the setting', () => {
    const survey = { eventId: 7, eventName: '展会', answeredAt: at(-DAY) };
    expect(
      codes({
        surveys: [
          { ...survey, satisfaction: 2 },
          { ...survey, satisfaction: 3 },
        ],
      }),
    ).toEqual(['survey_unhappy']);
    expect(codes({ followUps: [{ id: 1, eventId: 7, eventName: '展会', mine: true }] })).toEqual(['followup_open']);
    expect(hintsOf({ ...quiet, lastInboundAt: at(-30 * DAY) })).toEqual([
      { code: 'silent', params: { days: 30, lastInboundAt: at(-30 * DAY).toISOString() } },
    ]);
    expect(codes({ lastInboundAt: at(-29 * DAY) })).toEqual([]);
    expect(hintsOf({ ...quiet, lastInboundAt: null, createdAt: at(-40 * DAY) })).toEqual([
      { code: 'silent', params: { days: 40, lastInboundAt: null } },
    ]);
  });
});
