import { contactQuietHoursEnd, nextShanghaiMidnight, quietHoursEnd } from '../../../server/modules/outbox/quiet-hours';
import { readOutboxConfig, outboxEnvSchema } from '../../../config/outbox.config';

const NIGHT = { startMinute: 22 * 60, endMinute: 8 * 60 };

describe('quiet hours', () => {
  it('moves a push inside 22:00-08:00 Shanghai time to 08:00, before and after midnight', () => {
    expect(quietHoursEnd(new Date('2026-12-07T15:30:00Z'), 'Asia/Shanghai', NIGHT)?.toISOString()).toBe('2026-12-08T00:00:00.000Z');
    expect(quietHoursEnd(new Date('2026-12-07T19:59:30Z'), 'Asia/Shanghai', NIGHT)?.toISOString()).toBe('2026-12-08T00:00:00.000Z');
    expect(quietHoursEnd(new Date('2026-12-07T14:00:00Z'), 'Asia/Shanghai', NIGHT)?.toISOString()).toBe('2026-12-08T00:00:00.000Z');
  });

  it('lets a push outside the window go, the end minute included', () => {
    expect(quietHoursEnd(new Date('2026-12-08T00:00:00Z'), 'Asia/Shanghai', NIGHT)).toBeNull();
    expect(quietHoursEnd(new Date('2026-12-07T13:59:59Z'), 'Asia/Shanghai', NIGHT)).toBeNull();
    expect(
      quietHoursEnd(new Date('2026-12-07T05:00:00Z'), 'Asia/Shanghai', { startMinute: 12 * 60, endMinute: 14 * 60 })?.toISOString(),
    ).toBe('2026-12-07T06:00:00.000Z');
  });

  it("reads the window in the contact's own time zone, the business zone when it has none", () => {
    // 04:00 UTC is 23:00 in New York (quiet until 08:00 there, 13:00 UTC) and noon in Shanghai.
    const at = new Date('2026-12-01T04:00:00Z');
    expect(contactQuietHoursEnd(at, 'America/New_York', 'Asia/Shanghai', NIGHT)?.toISOString()).toBe('2026-12-01T13:00:00.000Z');
    expect(contactQuietHoursEnd(at, null, 'Asia/Shanghai', NIGHT)).toBeNull();
    expect(contactQuietHoursEnd(at, 'Mars/Olympus_Mons', 'Asia/Shanghai', NIGHT)).toBeNull();
    expect(contactQuietHoursEnd(new Date('2026-12-01T15:00:00Z'), undefined, 'Asia/Shanghai', NIGHT)?.toISOString()).toBe(
      '2026-12-02T00:00:00.000Z',
    );
  });

  it('finds the next midnight in Beijing for a quota pause', () => {
    expect(nextShanghaiMidnight(new Date('2026-12-07T02:00:00Z')).toISOString()).toBe('2026-12-07T16:00:00.000Z');
    expect(nextShanghaiMidnight(new Date('2026-12-07T16:00:00Z')).toISOString()).toBe('2026-12-08T16:00:00.000Z');
  });

  it('reads the outbox settings: defaults, overrides per account, off', () => {
    const defaults = readOutboxConfig(outboxEnvSchema.parse({}));
    expect(defaults.quietHours).toEqual(NIGHT);
    expect(defaults.frequencyCaps.oa_template).toEqual({ count: 3, hours: 24 });
    expect(defaults.rateLimits.oa_template).toBe(1000);
    const custom = readOutboxConfig(
      outboxEnvSchema.parse({
        OUTBOX_QUIET_HOURS: 'off',
        OUTBOX_FREQUENCY_CAPS: 'sms=1/168',
        OUTBOX_RATE_LIMITS: 'oa_template=500,wx1/oa_template=20',
      }),
    );
    expect(custom.quietHours).toBeNull();
    expect(custom.frequencyCaps.sms).toEqual({ count: 1, hours: 168 });
    expect(custom.rateLimits).toMatchObject({ oa_template: 500, 'wx1/oa_template': 20 });
    expect(readOutboxConfig(outboxEnvSchema.parse({ OUTBOX_FREQUENCY_CAPS: 'off' })).frequencyCaps).toEqual({});
    expect(() => readOutboxConfig(outboxEnvSchema.parse({ OUTBOX_RATE_LIMITS: 'fax=3' }))).toThrow('unknown channel fax');
  });
});
