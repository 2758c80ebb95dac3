import type { DataSource } from 'typeorm';
import type { OutboxConfig } from '../../../config/outbox.config';
import { Setting } from '../../../entities/setting.entity';
import { OUTBOX_CHANNELS, type OutboxChannel } from '../../../entities/outbox-message.entity';
import type { Clock } from '../../adapters/clock';
import type { Transactor } from '../../db/transaction';
import type { AuditActor, AuditService } from '../audit/audit.service';

/** The two settings rows: quiet hours (`22:00-08:00` or `off`) and caps (`oa_template=3/24,sms=off`). */
const QUIET_SETTING = 'delivery.quiet_hours';
const CAPS_SETTING = 'delivery.frequency_caps';
/** How long an instance trusts its copy before it reads the rows again (another instance may have saved). */
const REFRESH_MS = 30_000;

export interface DeliverySettings {
  /** Local time in the business time zone, `HH:MM`; null: no quiet hours. */
  quietHours: { start: string; end: string } | null;
  /** Per channel: at most `count` marketing messages per contact in `hours`; null: no cap on that channel. */
  frequencyCaps: Record<OutboxChannel, { count: number; hours: number } | null>;
}

export interface DeliverySettingsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  /** The environment's values (OUTBOX_QUIET_HOURS, OUTBOX_FREQUENCY_CAPS): what applies until an operator saves. */
  defaults: Pick<OutboxConfig, 'quietHours' | 'frequencyCaps'>;
}

/**
 * Quiet hours and frequency caps as operators set them on the 推送设置 screen. They live in the
 * `settings` rows (two short strings, so no table of their own) and override the environment's
 * values, which stay the defaults. `liveConfig` hands the outbox sender a config whose two fields
 * read the current values, so a save applies to the next batch without a restart; other instances
 * pick it up within REFRESH_MS.
 */
export class DeliverySettingsService {
  private current: DeliverySettings;
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<DeliverySettings> | null = null;

  constructor(private readonly deps: DeliverySettingsServiceDeps) {
    this.current = defaultsOf(deps.defaults);
  }

  async readSettings(): Promise<DeliverySettings> {
    this.reading ??= this.load().finally(() => (this.reading = null));
    return this.reading;
  }

  async saveSettings(p: { settings: DeliverySettings; actor: AuditActor }): Promise<DeliverySettings> {
    const now = this.deps.clock.now();
    const before = await this.readSettings();
    await this.deps.transactor.run(async (m) => {
      await m.upsert(Setting, { name: QUIET_SETTING, value: quietText(p.settings.quietHours), updatedAt: now }, ['name']);
      await m.upsert(Setting, { name: CAPS_SETTING, value: capsText(p.settings.frequencyCaps), updatedAt: now }, ['name']);
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'delivery_settings.update',
        targetType: 'settings',
        targetId: null,
        detail: {
          quietHours: [quietText(before.quietHours), quietText(p.settings.quietHours)],
          frequencyCaps: [capsText(before.frequencyCaps), capsText(p.settings.frequencyCaps)],
        },
      });
    });
    return this.load();
  }

  /**
   * The outbox's configuration with `quietHours` and `frequencyCaps` read from these settings at
   * each use (a stale copy starts a read in the background; the sender is never held up by it).
   */
  liveConfig(base: OutboxConfig): OutboxConfig {
    const fresh = (): DeliverySettings => {
      if (this.deps.clock.now().getTime() - this.readAt > REFRESH_MS) void this.readSettings().catch(() => undefined);
      return this.current;
    };
    return {
      ...base,
      get quietHours() {
        const quiet = fresh().quietHours;
        return quiet ? { startMinute: minutesOf(quiet.start), endMinute: minutesOf(quiet.end) } : null;
      },
      get frequencyCaps() {
        const caps: OutboxConfig['frequencyCaps'] = {};
        for (const [channel, cap] of Object.entries(fresh().frequencyCaps)) if (cap) caps[channel as OutboxChannel] = { ...cap };
        return caps;
      },
    };
  }

  private async load(): Promise<DeliverySettings> {
    const rows = await this.deps.dataSource.manager.findBy(Setting, [{ name: QUIET_SETTING }, { name: CAPS_SETTING }]);
    const byName = new Map(rows.map((r) => [r.name, r.value]));
    const settings = defaultsOf(this.deps.defaults);
    const quiet = byName.get(QUIET_SETTING);
    if (quiet !== undefined) settings.quietHours = parseQuiet(quiet);
    const caps = byName.get(CAPS_SETTING);
    if (caps !== undefined) Object.assign(settings.frequencyCaps, parseCaps(caps));
    this.current = settings;
    this.readAt = this.deps.clock.now().getTime();
    return settings;
  }
}

function defaultsOf(defaults: DeliverySettingsServiceDeps['defaults']): DeliverySettings {
  const frequencyCaps = Object.fromEntries(OUTBOX_CHANNELS.map((c) => [c, null])) as DeliverySettings['frequencyCaps'];
  for (const channel of OUTBOX_CHANNELS) {
    const cap = defaults.frequencyCaps[channel];
    if (cap) frequencyCaps[channel] = { ...cap };
  }
  const q = defaults.quietHours;
  return { quietHours: q ? { start: hhmm(q.startMinute), end: hhmm(q.endMinute) } : null, frequencyCaps };
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function minutesOf(text: string): number {
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
}

function quietText(quiet: DeliverySettings['quietHours']): string {
  return quiet ? `${quiet.start}-${quiet.end}` : 'off';
}

function parseQuiet(text: string): DeliverySettings['quietHours'] {
  const match = /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(text);
  return match ? { start: match[1], end: match[2] } : null;
}

function capsText(caps: DeliverySettings['frequencyCaps']): string {
  return OUTBOX_CHANNELS.map((c) => `${c}=${caps[c] ? `${caps[c].count}/${caps[c].hours}` : 'off'}`).join(',');
}

function parseCaps(text: string): Partial<DeliverySettings['frequencyCaps']> {
  const caps: Partial<DeliverySettings['frequencyCaps']> = {};
  for (const entry of text.split(',')) {
    const [channel, value] = entry.split('=');
    if (!(OUTBOX_CHANNELS as readonly string[]).includes(channel)) continue;
    const match = /^(\d+)\/(\d+)$/.exec(value ?? '');
    caps[channel as OutboxChannel] = match ? { count: Number(match[1]), hours: Number(match[2]) } : null;
  }
  return caps;
}
