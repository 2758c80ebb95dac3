import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../../adapters/logger';
import type { Clock } from '../../adapters/clock';
import { fromSqlDate, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { AuditActor, AuditService } from '../audit/audit.service';
import type { OutboxDraft, OutboxService } from '../outbox/outbox.service';
import type { SubscribeConsentService } from '../subscribe-consent/subscribe-consent.service';
import { refuse, type Refusal } from './exhibition-refusal';
import { cut, exhibitionChannelsOf, wrap, type ExhibitionChannel, type ExhibitionSendConfig } from './exhibition-send';
import { MP_PAGES } from './mp-pages';
import type { SurveysService } from './surveys.service';

/** One version of the recap: a title, a short text and where it links (absolute or a path of this site). */
export interface RecapVersion {
  title: string;
  text: string;
  /** null: the default (the survey for attendees when there is one, else the event page; the cloud exhibition for absentees). */
  link: string | null;
}

export interface EventRecapDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  outbox: OutboxService;
  consents: Pick<SubscribeConsentService, 'grantsOf'>;
  surveys: SurveysService;
  /** The recap's templates (EVENT_RECAP_*), also the survey invitation's. */
  templates: ExhibitionSendConfig;
  publicBaseUrl: string;
  onQueued?: () => void;
}

export interface RecapAnswer {
  attendees: number;
  absentees: number;
  /** Outbox rows added now. */
  queued: number;
  /** Registrants reached no way (no template for any of their channels), or already sent this message. */
  skipped: number;
}

export interface SurveySendAnswer {
  /** Attendees matching the criteria. */
  chosen: number;
  queued: number;
  skipped: number;
}

interface EventRow {
  id: number;
  name: string;
  startsAt: Date;
  endsAt: Date;
}

interface Recipient {
  registrationId: number;
  contactId: number;
  attended: boolean;
}

const BATCH = 1_000;
type Result<T> = { ok: true; value: T } | Refusal;

/**
 * After the event (issue 15 §5): the recap push (活动回顾) to every registrant, one version for
 * those who came and one for those who did not, and the survey invitation to the most active
 * attendees. Both are exhibition sends through the outbox with the reminder's channel choice
 * (exhibition-send.ts), keyed `event-recap:<registration>` and `event-survey:<registration>`: the
 * keys are kept for good, so posting twice (or after a crash half-way) sends nobody two. Batches
 * of 1,000 registrations walked by id, each in its own transaction.
 */
export class EventRecapService {
  constructor(private readonly deps: EventRecapDeps) {}

  async sendRecap(p: { eventId: number; attendee: RecapVersion; absentee: RecapVersion; actor: AuditActor }): Promise<Result<RecapAnswer>> {
    const event = await this.readEvent(p.eventId);
    if (!event) return refuse('event_not_found', 'No such event');
    if (this.deps.clock.now().getTime() < event.endsAt.getTime())
      return refuse('event_not_ended', 'The recap goes out after the event ends', { endsAt: event.endsAt.toISOString() });
    const survey = await this.deps.surveys.getSurvey(event.id);
    const base = this.deps.publicBaseUrl.replace(/\/+$/, '');
    const absenteeLink = this.absolute(p.absentee.link ?? `/e/${event.id}/cloud`);
    const sent = await this.sendInBatches(async (m, after) => {
      const recipients = await this.recipients(
        m,
        'SELECT r.id, r.contact_id, (SELECT COUNT(*) FROM event_checkins c WHERE c.registration_id = r.id) AS attended FROM event_registrations r ' +
          "WHERE r.event_id = ? AND r.status <> 'cancelled' AND r.id > ? ORDER BY r.id LIMIT ?",
        [event.id, after, BATCH],
      );
      const drafts: OutboxDraft[] = [];
      const channels = await exhibitionChannelsOf(
        m,
        { consents: this.deps.consents, config: this.deps.templates },
        recipients.map((r) => r.contactId),
      );
      for (const r of recipients) {
        const channel = channels.get(r.contactId);
        if (!channel) continue;
        const version = r.attended ? p.attendee : p.absentee;
        const mpPage = r.attended ? (survey ? MP_PAGES.survey(event.id) : MP_PAGES.event(event.id)) : MP_PAGES.cloud(event.id);
        let link = absenteeLink;
        if (r.attended)
          link =
            p.attendee.link !== null
              ? this.absolute(p.attendee.link)
              : survey
                ? await this.deps.surveys.linkFor(survey.id, event.id, r.registrationId)
                : `${base}/e/${event.id}`;
        drafts.push(this.draftOf(`event-recap:${r.registrationId}`, r.contactId, channel, event, { ...version, link, mpPage }));
      }
      return { recipients, drafts };
    });
    const answer: RecapAnswer = {
      attendees: sent.attended,
      absentees: sent.total - sent.attended,
      queued: sent.queued,
      skipped: sent.total - sent.queued,
    };
    await this.deps.audit.record({
      operatorId: p.actor.operatorId,
      ip: p.actor.ip,
      action: 'event.recap_send',
      targetType: 'event',
      targetId: event.id,
      detail: { attendeeTitle: p.attendee.title, absenteeTitle: p.absentee.title, ...answer },
    });
    this.finish('event recap queued', event.id, answer.queued);
    return { ok: true, value: answer };
  }

  /**
   * The survey to highly active attendees: checked in, score at least `minScore`, and at least
   * `minInteractions` of their own (`in`) interactions since the event started. A dry run counts
   * them and sends nothing.
   */
  async sendSurvey(p: {
    eventId: number;
    minScore: number;
    minInteractions: number;
    dryRun: boolean;
    actor: AuditActor;
  }): Promise<Result<SurveySendAnswer>> {
    const event = await this.readEvent(p.eventId);
    if (!event) return refuse('event_not_found', 'No such event');
    const survey = await this.deps.surveys.getSurvey(event.id);
    if (!survey) return refuse('survey_not_found', 'The event has no survey');
    const chosenSql =
      'FROM event_registrations r JOIN contacts ct ON ct.id = r.contact_id ' +
      "WHERE r.event_id = ? AND r.status = 'registered' AND EXISTS (SELECT 1 FROM event_checkins c WHERE c.registration_id = r.id) " +
      'AND ct.score >= ? AND (SELECT COUNT(*) FROM interactions i WHERE i.contact_id = r.contact_id AND i.direction = ? AND i.occurred_at >= ?) >= ?';
    const chosenParams = [event.id, p.minScore, 'in', toSqlDate(event.startsAt), p.minInteractions];
    if (p.dryRun) {
      const [row] = await this.deps.dataSource.query<{ n: number | string }[]>(`SELECT COUNT(*) AS n ${chosenSql}`, chosenParams);
      return { ok: true, value: { chosen: Number(row?.n ?? 0), queued: 0, skipped: 0 } };
    }
    const sent = await this.sendInBatches(async (m, after) => {
      const recipients = await this.recipients(
        m,
        `SELECT r.id, r.contact_id, 1 AS attended ${chosenSql} AND r.id > ? ORDER BY r.id LIMIT ?`,
        [...chosenParams, after, BATCH],
      );
      const channels = await exhibitionChannelsOf(
        m,
        { consents: this.deps.consents, config: this.deps.templates },
        recipients.map((r) => r.contactId),
      );
      const drafts: OutboxDraft[] = [];
      for (const r of recipients) {
        const channel = channels.get(r.contactId);
        if (!channel) continue;
        const link = await this.deps.surveys.linkFor(survey.id, event.id, r.registrationId);
        const text = '感谢您参加本次活动，邀请您花一分钟填写满意度调查';
        const message = { title: survey.title, text, link, mpPage: MP_PAGES.survey(event.id) };
        drafts.push(this.draftOf(`event-survey:${r.registrationId}`, r.contactId, channel, event, message));
      }
      return { recipients, drafts };
    });
    const answer: SurveySendAnswer = { chosen: sent.total, queued: sent.queued, skipped: sent.total - sent.queued };
    await this.deps.audit.record({
      operatorId: p.actor.operatorId,
      ip: p.actor.ip,
      action: 'event.survey_send',
      targetType: 'event',
      targetId: event.id,
      detail: { surveyId: survey.id, minScore: p.minScore, minInteractions: p.minInteractions, ...answer },
    });
    this.finish('event survey queued', event.id, answer.queued);
    return { ok: true, value: answer };
  }

  /**
   * Walks the recipients 1,000 at a time (by registration id), each batch's drafts enqueued in the
   * transaction that read it; counts the recipients, the attendees among them and the rows added.
   */
  private async sendInBatches(
    batch: (m: EntityManager, after: number) => Promise<{ recipients: Recipient[]; drafts: OutboxDraft[] }>,
  ): Promise<{ total: number; attended: number; queued: number }> {
    const out = { total: 0, attended: 0, queued: 0 };
    for (let after = 0; ;) {
      const { recipients, added } = await this.deps.transactor.runRetrying(async (m) => {
        const { recipients, drafts } = await batch(m, after);
        return { recipients, added: drafts.length > 0 ? await this.deps.outbox.enqueue({ manager: m, drafts }) : 0 };
      });
      out.total += recipients.length;
      out.attended += recipients.filter((r) => r.attended).length;
      out.queued += added;
      if (recipients.length < BATCH) return out;
      after = recipients[recipients.length - 1].registrationId;
    }
  }

  private finish(message: string, eventId: number, queued: number): void {
    if (queued === 0) return;
    this.deps.logger.info(message, { eventId, queued });
    this.deps.onQueued?.();
  }

  private async readEvent(eventId: number): Promise<EventRow | null> {
    const [row] = await this.deps.dataSource.query<Record<string, unknown>[]>(
      'SELECT id, name, starts_at, ends_at FROM events WHERE id = ?',
      [eventId],
    );
    if (!row) return null;
    return { id: Number(row.id), name: String(row.name), startsAt: fromSqlDate(row.starts_at), endsAt: fromSqlDate(row.ends_at) };
  }

  private async recipients(m: EntityManager, sql: string, params: unknown[]): Promise<Recipient[]> {
    const rows = await m.query<{ id: number | string; contact_id: number | string; attended: number | string }[]>(sql, params);
    return rows.map((r) => ({ registrationId: Number(r.id), contactId: Number(r.contact_id), attended: Number(r.attended) > 0 }));
  }

  /** A path of this site (`/e/…`) becomes absolute; a full URL stays. */
  private absolute(link: string): string {
    return link.startsWith('/') ? `${this.deps.publicBaseUrl.replace(/\/+$/, '')}${link}` : link;
  }

  /** The template keywords thing1 (event), thing2 (title), thing3 (text); the SMS `{1}` title, `{2}` text and link. */
  private draftOf(
    dedupeKey: string,
    contactId: number,
    channel: ExhibitionChannel,
    event: EventRow,
    /** `link` opens the web page (template message, SMS); `mpPage` the mini-program's (subscribe message). */
    message: { title: string; text: string; link: string; mpPage: string },
  ): OutboxDraft {
    const t = this.deps.templates;
    const data = wrap({ thing1: cut(event.name), thing2: cut(message.title), thing3: cut(message.text) });
    const payload: Record<string, unknown> =
      channel === 'mp_subscribe'
        ? { template_id: t.mpTemplateId, page: message.mpPage, data }
        : channel === 'oa_template'
          ? { template_id: t.oaTemplateId, url: message.link, data }
          : { templateId: t.smsTemplateId, params: [cut(message.title), `${message.text} ${message.link}`] };
    // Marketing, unlike the reminder: nobody asked for a recap or a survey, so quiet hours and the
    // frequency cap apply (a recap posted at night waits for the morning).
    return { dedupeKey, contactId, channel, purpose: 'marketing', source: { type: 'event', id: String(event.id) }, payload };
  }
}
