import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { fromSqlDate, isMysqlManager, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { OutboxService } from '../outbox/outbox.service';
import { getUtcOffsetMinutes } from '../reports/business-day';
import type { SubscribeConsentService } from '../subscribe-consent/subscribe-consent.service';
import { cut, enqueueExhibitionSends, startText, wrap, type ExhibitionChannel, type ExhibitionSendConfig } from './exhibition-send';
import { MP_PAGES } from './mp-pages';

/**
 * The day-before reminder's settings. Where it goes (mini-program subscribe where granted, else
 * Official Account template, else SMS) is exhibition-send.ts's choice, shared with the other
 * exhibition sends.
 */
export interface EventReminderConfig extends ExhibitionSendConfig {
  /** HH:MM in the business time zone, on the day before the event's day. */
  time: string;
  timezone: string;
  /** Where the reminder links: the event's invitation page (`${publicBaseUrl}/e/<id>`). */
  publicBaseUrl: string;
}

export interface EventRemindersDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  outbox: OutboxService;
  consents: SubscribeConsentService;
  config: EventReminderConfig;
  /** Wakes the sender after rows were queued. */
  onQueued?: () => void;
}

const BATCH = 1_000;

interface DueEvent {
  id: number;
  name: string;
  startsAt: Date;
  venue: { name?: string; address: string };
  facts: { weather?: string; traffic?: string; expectedHeadcount?: number };
}

/**
 * The day-before reminder (issue 15 §3): at the configured time on the day before an event, every
 * registration holding a seat gets one reminder carrying the event-day facts (weather, traffic,
 * expected headcount). Registrations are walked by id from the last one reminded
 * (`event_reminders.last_registration_id`), so a pass never reads an event's registrations twice
 * and one who registers after the reminder went out (until the event starts) gets theirs on the
 * next pass. Each reminder is an outbox row keyed `event:<id>:reminder:<registration>`, written in
 * the transaction that moves the cursor: a crash or a second instance sends nobody two.
 */
export class EventRemindersService {
  constructor(private readonly deps: EventRemindersDeps) {}

  /** When an event's reminder falls due: the configured time on the business day before its start. */
  reminderAt(startsAt: Date): Date {
    const offset = getUtcOffsetMinutes(this.deps.config.timezone, startsAt) * 60_000;
    const dayStart = Math.floor((startsAt.getTime() + offset) / 86_400_000) * 86_400_000;
    const [hours, minutes] = this.deps.config.time.split(':').map(Number);
    return new Date(dayStart - 86_400_000 + (hours * 60 + minutes) * 60_000 - offset);
  }

  /** One pass: every event whose reminder is due and that has not started, each in batches. */
  async runDue(): Promise<{ events: number; queued: number }> {
    const now = this.deps.clock.now();
    // Events starting within the next two days are the only candidates (the reminder is on the day before).
    const rows = await this.deps.dataSource.query<Record<string, unknown>[]>(
      'SELECT id, name, starts_at, venue, facts FROM events WHERE starts_at > ? AND starts_at <= ? ORDER BY starts_at',
      [toSqlDate(now), toSqlDate(new Date(now.getTime() + 2 * 86_400_000))],
    );
    let events = 0;
    let queued = 0;
    for (const row of rows) {
      const event: DueEvent = {
        id: Number(row.id),
        name: String(row.name),
        startsAt: fromSqlDate(row.starts_at),
        venue: parseJson(row.venue) as DueEvent['venue'],
        facts: parseJson(row.facts) ?? {},
      };
      if (this.reminderAt(event.startsAt).getTime() > now.getTime()) continue;
      events += 1;
      for (;;) {
        const n = await this.deps.transactor.runRetrying((m) => this.remindBatch(m, event, now));
        queued += n;
        if (n < BATCH) break;
      }
    }
    if (queued > 0) {
      this.deps.logger.info('event reminders queued', { events, queued });
      this.deps.onQueued?.();
    }
    return { events, queued };
  }

  /** The next registrations past the cursor, their reminders queued and the cursor moved, in one transaction. */
  private async remindBatch(m: EntityManager, event: DueEvent, now: Date): Promise<number> {
    const cursor = await this.lockCursor(m, event.id, now);
    const registrations = await m.query<{ id: number | string; contact_id: number | string; name: string }[]>(
      "SELECT id, contact_id, name FROM event_registrations WHERE event_id = ? AND status = 'registered' AND id > ? ORDER BY id LIMIT ?",
      [event.id, cursor, BATCH],
    );
    if (registrations.length === 0) return 0;
    await enqueueExhibitionSends(
      m,
      { outbox: this.deps.outbox, consents: this.deps.consents, config: this.deps.config },
      registrations.map((r) => ({
        dedupeKey: `event:${event.id}:reminder:${Number(r.id)}`,
        contactId: Number(r.contact_id),
        eventId: event.id,
        payloadOf: (channel) => this.payloadOf(channel, event, r.name),
      })),
    );
    const last = Number(registrations[registrations.length - 1].id);
    await m.query('UPDATE event_reminders SET last_registration_id = ?, updated_at = ? WHERE event_id = ?', [
      last,
      toSqlDate(now),
      event.id,
    ]);
    return registrations.length;
  }

  /** The event's cursor row, created at 0 the first time and locked for this transaction. */
  private async lockCursor(m: EntityManager, eventId: number, now: Date): Promise<number> {
    const insert = isMysqlManager(m)
      ? 'INSERT IGNORE INTO event_reminders (event_id, last_registration_id, updated_at) VALUES (?, 0, ?)'
      : 'INSERT OR IGNORE INTO event_reminders (event_id, last_registration_id, updated_at) VALUES (?, 0, ?)';
    await m.query(insert, [eventId, toSqlDate(now)]);
    const [row] = await m.query<{ last_registration_id: number | string }[]>(
      `SELECT last_registration_id FROM event_reminders WHERE event_id = ?${isMysqlManager(m) ? ' FOR UPDATE' : ''}`,
      [eventId],
    );
    return Number(row?.last_registration_id ?? 0);
  }

  private payloadOf(channel: ExhibitionChannel, event: DueEvent, person: string): Record<string, unknown> {
    const c = this.deps.config;
    const when = startText(event.startsAt, c.timezone);
    const venue = event.venue.name ?? event.venue.address;
    const facts = factsText(event.facts);
    const url = `${c.publicBaseUrl.replace(/\/+$/, '')}/e/${event.id}`;
    const data = { thing1: cut(event.name), time2: when, thing3: cut(venue), thing4: cut(facts === '' ? '明天见，请准时到场' : facts) };
    switch (channel) {
      case 'mp_subscribe':
        return { template_id: c.mpTemplateId, page: MP_PAGES.event(event.id), data: wrap(data) };
      case 'oa_template':
        return { template_id: c.oaTemplateId, url, data: wrap(data) };
      case 'sms':
        // "{1}，您关注的活动即将开始：{2}": the person, then the event with its facts.
        return {
          templateId: c.smsTemplateId,
          params: [cut(person, 12), `${event.name} ${when} ${venue}${facts === '' ? '' : `，${facts}`}`],
        };
    }
  }
}

/** The event-day facts as one short line: 晴 · 地铁2号线 · 预计800人. */
export function factsText(facts: DueEvent['facts']): string {
  return [facts.weather, facts.traffic, facts.expectedHeadcount === undefined ? undefined : `预计${facts.expectedHeadcount}人`]
    .filter((part): part is string => typeof part === 'string' && part.trim() !== '')
    .join(' · ');
}

function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}
