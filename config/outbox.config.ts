import { z } from 'zod';

/**
 * The outbox's settings (docs/ARCHITECTURE.md, "The outbox"), parsed once with the rest of the
 * configuration. Channel names are the outbox's (`oa_template`, `oa_subscribe`, ...); this file
 * imports nothing of the server, so it repeats them.
 */

const CHANNELS = ['oa_template', 'oa_subscribe', 'mp_subscribe', 'oa_custom', 'wecom_group_msg', 'sms'] as const;
type Channel = (typeof CHANNELS)[number];

export interface OutboxConfig {
  /** Sends per second per (account, channel), shared by every instance; `<account>/<channel>` entries override. */
  rateLimits: Record<string, number>;
  /** Marketing pushes wait out this local-time window (minutes after midnight), or null: no quiet hours. */
  quietHours: { startMinute: number; endMinute: number } | null;
  /** At most `count` marketing messages per contact and channel in `hours` (null: no cap). */
  frequencyCaps: Partial<Record<Channel, { count: number; hours: number }>>;
  /** After 45009, the channel pauses this many minutes; null: until the next midnight in Asia/Shanghai (WeChat's day). */
  quotaPauseMinutes: number | null;
  /** Requests in flight per sender. */
  concurrency: number;
  /** Rows per claim. */
  batchSize: number;
  /** Customer-service messages (oa_custom) per follower per 48-hour window; WeChat answers 45047 past its own count. */
  customMessagesPerWindow: number;
}

/** 1,000 a second: far above a normal account's needs and below WeChat's frequency limits for template/send. */
const DEFAULT_RATE = 1000;
const DEFAULT_CAP = { count: 3, hours: 24 };

export const outboxEnvSchema = z.object({
  /** `oa_template=500,wx123/oa_template=200` (sends per second). */
  OUTBOX_RATE_LIMITS: z
    .string()
    .regex(
      /^\s*([A-Za-z0-9_-]+\/)?[a-z_]+=\d+(\.\d+)?\s*(,\s*([A-Za-z0-9_-]+\/)?[a-z_]+=\d+(\.\d+)?\s*)*$/,
      'must be like oa_template=500,wx123/sms=20',
    )
    .optional(),
  /** `22:00-08:00` (the default) or `off`. */
  OUTBOX_QUIET_HOURS: z
    .string()
    .regex(/^(off|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)$/, 'must be HH:MM-HH:MM (e.g. 22:00-08:00) or off')
    .default('22:00-08:00'),
  /** `oa_template=3/24,sms=1/168` (count per hours), `off` for none. */
  OUTBOX_FREQUENCY_CAPS: z
    .string()
    .regex(/^(off|\s*[a-z_]+=\d+\/\d+\s*(,\s*[a-z_]+=\d+\/\d+\s*)*)$/, 'must be like oa_template=3/24 (messages per hours) or off')
    .optional(),
  OUTBOX_QUOTA_PAUSE_MINUTES: z.coerce.number().int().min(1).max(10_080).optional(),
  OUTBOX_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(32),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(2000).default(200),
  OUTBOX_CUSTOM_PER_WINDOW: z.coerce.number().int().min(1).max(100).default(5),
});

export type OutboxEnv = z.output<typeof outboxEnvSchema>;

/** Builds the outbox's slice of the configuration from its validated variables; throws on an unknown channel. */
export function readOutboxConfig(e: OutboxEnv): OutboxConfig {
  const rateLimits: Record<string, number> = Object.fromEntries(CHANNELS.map((c) => [c, DEFAULT_RATE]));
  for (const entry of listEntries(e.OUTBOX_RATE_LIMITS)) {
    const [key, value] = entry.split('=');
    const channel = key.includes('/') ? key.split('/')[1] : key;
    assertChannel(channel, 'OUTBOX_RATE_LIMITS');
    if (!(Number(value) > 0)) throw new Error(`OUTBOX_RATE_LIMITS: ${key} must be above 0`);
    rateLimits[key] = Number(value);
  }
  const frequencyCaps: OutboxConfig['frequencyCaps'] = {};
  if (e.OUTBOX_FREQUENCY_CAPS !== 'off') {
    for (const channel of CHANNELS) frequencyCaps[channel] = { ...DEFAULT_CAP };
    for (const entry of listEntries(e.OUTBOX_FREQUENCY_CAPS)) {
      const [channel, value] = entry.split('=');
      assertChannel(channel, 'OUTBOX_FREQUENCY_CAPS');
      const [count, hours] = value.split('/').map(Number);
      if (!(hours > 0)) throw new Error(`OUTBOX_FREQUENCY_CAPS: ${channel} needs a period above 0 hours`);
      frequencyCaps[channel] = { count, hours };
    }
  }
  const quiet = e.OUTBOX_QUIET_HOURS;
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  return {
    rateLimits,
    quietHours: quiet === 'off' ? null : { startMinute: minutes(quiet.slice(0, 5)), endMinute: minutes(quiet.slice(6, 11)) },
    frequencyCaps,
    quotaPauseMinutes: e.OUTBOX_QUOTA_PAUSE_MINUTES ?? null,
    concurrency: e.OUTBOX_CONCURRENCY,
    batchSize: e.OUTBOX_BATCH_SIZE,
    customMessagesPerWindow: e.OUTBOX_CUSTOM_PER_WINDOW,
  };
}

function listEntries(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function assertChannel(channel: string, variable: string): asserts channel is Channel {
  if (!(CHANNELS as readonly string[]).includes(channel))
    throw new Error(`${variable}: unknown channel ${channel} (${CHANNELS.join(', ')})`);
}
