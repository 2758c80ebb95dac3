import type { DataSource } from 'typeorm';
import type { LifecycleStage } from '../../../entities/contact.entity';
import type { OperatorRole } from '../../../entities/operator.entity';
import type { Clock } from '../../adapters/clock';
import { fromSqlDate, placeholders } from '../../db/sql';
import type { ContactDetail, ContactScope, ContactsQueryService, ScoreLedgerEntry } from '../contacts/contacts-query.service';
import type { DisplayIdentity } from '../contacts/display-identity';
import type { ScoringSettingsStore } from '../scoring/scoring-settings';
import { parseLiveCursor, type LiveTimelinePage, type TimelinePage, type TimelineService } from '../timeline/timeline.service';
import { hintsOf, type SidebarHint } from './sidebar-hints';

/** Who reads the sidebar: an operator session (operators with a WeCom userid are reps). */
export interface SidebarReader {
  operatorId: number;
  role: OperatorRole;
  wecomUserId: string | null;
}

/** Why a read or an action was refused; the route maps each to its status. */
export type SidebarRefusal = { ok: false; reason: 'contact_unknown' | 'not_your_customer' | 'followup_not_found' };
export type SidebarResult<T> = { ok: true; value: T } | SidebarRefusal;

export interface SidebarContact {
  id: number;
  /** What to call them, as the admin page does (display-identity.ts). */
  display: DisplayIdentity;
  name: string | null;
  remark: string | null;
  avatarUrl: string | null;
  /** Masked (138****5678) for sales reps, as on the admin page. */
  phone: string | null;
  company: string | null;
  identities: {
    /** Null without an openid; `subscribed` from the newest subscribe or unsubscribe. */
    officialAccount: { openid: string; subscribed: boolean } | null;
    /** Uses the mini-program: their mini-program openid, else null. */
    miniProgram: { openid: string } | null;
    externalUserId: string | null;
    unionid: string | null;
  };
  /** The reps who have them as an external contact (active follows), the reader's own marked. */
  follows: { userId: string; name: string | null; since: string; mine: boolean }[];
  owner: { userId: string; name: string | null } | null;
  createdAt: string;
}

export interface SidebarEvent {
  registrationId: number;
  eventId: number;
  eventName: string;
  startsAt: string;
  endsAt: string;
  /** registered | waitlisted | unpaid | cancelled. */
  status: string;
  checkedIn: boolean;
  checkedInAt: string | null;
  /** The ticket's price in fen, null for a free event. */
  ticketPriceFen: number | null;
  registeredAt: string;
}

export interface SidebarSurvey {
  eventId: number;
  eventName: string;
  /** 1 to 5. */
  rating: number;
  answeredAt: string;
}

export interface SidebarFollowUp {
  id: number;
  eventId: number;
  eventName: string;
  /** The sales operator it is assigned to, null when nobody has it yet. */
  operatorId: number | null;
  mine: boolean;
  createdAt: string;
}

export interface SidebarProfile {
  contact: SidebarContact;
  tags: { id: number; name: string; group: string }[];
  score: { value: number; mqlThreshold: number; ledger: ScoreLedgerEntry[] };
  stage: LifecycleStage;
  /** First-touch source: its code, and the channel's name when the code is a Flywheel channel (`ch:<id>`). */
  source: { code: string | null; channelId: number | null; channelName: string | null; at: string | null };
  /** The first page (admin timeline's shape, every kind) and the live cursor to poll from. */
  timeline: TimelinePage & { after: string };
  events: SidebarEvent[];
  surveys: SidebarSurvey[];
  /** Open event follow-ups of this contact: the reader's own, or unassigned ones (admins see all). */
  followUps: SidebarFollowUp[];
  hints: SidebarHint[];
}

export interface SidebarServiceDeps {
  dataSource: DataSource;
  clock: Clock;
  contactsQuery: ContactsQueryService;
  timeline: TimelineService;
  scoringSettings: ScoringSettingsStore;
  /** The WeCom corp: external_userid identities are kept under it. Null without WeCom. */
  wecomCorpId: string | null;
}

/** Entries of the timeline's first page, and of the score's explanation. */
const TIMELINE_PAGE = 20;
const LEDGER_LINES = 5;
/** New entries per source in one live poll. */
export const LIVE_LIMIT = 100;

/**
 * What the WeCom sidebar shows a rep about the customer in the chat (issue 16 §3): one read of
 * the profile, tags, score and its reasons, stage, source, events, surveys, follow-ups, the
 * timeline's first page and the next-step hints, built from the services the admin page reads
 * (contacts-query, timeline), so both show one customer the same way. A sales rep sees only the
 * customers they follow (an active contact_follows row); admins and marketers see everyone.
 */
export class SidebarService {
  constructor(private readonly deps: SidebarServiceDeps) {}

  /**
   * The contact behind a WeCom external_userid, if the reader may see it: `contact_unknown` when
   * Flywheel never saw the id, `not_your_customer` when a rep does not follow them.
   */
  async resolveExternal(externalUserId: string, reader: SidebarReader): Promise<SidebarResult<number>> {
    const rows = await this.deps.dataSource.query<{ contact_id: number | string }[]>(
      this.deps.wecomCorpId === null
        ? "SELECT contact_id FROM contact_identities WHERE kind = 'external_userid' AND value = ? LIMIT 1"
        : "SELECT contact_id FROM contact_identities WHERE kind = 'external_userid' AND app_id = ? AND value = ?",
      this.deps.wecomCorpId === null ? [externalUserId] : [this.deps.wecomCorpId, externalUserId],
    );
    if (rows.length === 0) return { ok: false, reason: 'contact_unknown' };
    return this.checkAccess(Number(rows[0].contact_id), reader);
  }

  /**
   * Whether the reader may see the contact (followed to its survivor when merged): `contact_unknown`
   * when there is no such contact, `not_your_customer` when a rep does not follow it.
   */
  async checkAccess(contactId: number, reader: SidebarReader): Promise<SidebarResult<number>> {
    let id = contactId;
    // A merge leaves a chain of at most a few links; the survivor carries the identities and follows.
    for (let hop = 0; hop < 5; hop++) {
      const [row] = await this.deps.dataSource.query<{ merged_into_id: number | string | null }[]>(
        'SELECT merged_into_id FROM contacts WHERE id = ?',
        [id],
      );
      if (!row) return { ok: false, reason: 'contact_unknown' };
      if (row.merged_into_id === null) break;
      id = Number(row.merged_into_id);
    }
    const visible = await this.deps.contactsQuery.findVisibleContact(id, scopeOf(reader));
    return visible ? { ok: true, value: visible.id } : { ok: false, reason: 'not_your_customer' };
  }

  /** The sidebar's whole read of one customer (see SidebarProfile). */
  async getProfile(externalUserId: string, reader: SidebarReader): Promise<SidebarResult<SidebarProfile>> {
    const access = await this.resolveExternal(externalUserId, reader);
    if (!access.ok) return access;
    return this.getProfileById(access.value, reader);
  }

  /** The profile of a contact the reader may see: call checkAccess (or resolveExternal) first. */
  private async getProfileById(contactId: number, reader: SidebarReader): Promise<SidebarResult<SidebarProfile>> {
    // The caller checked the reader's access (checkAccess): the reads below need not check it again each.
    const scope = { kind: 'all' } as const;
    const now = this.deps.clock.now();
    // One wave of independent reads (each one short index range of this contact), then the few
    // that need the events or the profile.
    const [detail, ledger, firstPage, after, settings, extra, follows, oaState, events, mql] = await Promise.all([
      this.deps.contactsQuery.getContact({ id: contactId, scope, maskPhones: reader.role === 'sales' }),
      this.deps.contactsQuery.listScoreLedger({ contactId, scope, limit: LEDGER_LINES }),
      this.deps.timeline.listTimeline({ contactId, scope, limit: TIMELINE_PAGE }),
      this.deps.timeline.liveCursorOf(contactId, now),
      this.deps.scoringSettings.readSettings(),
      this.loadContactExtras(contactId),
      this.loadFollows(contactId, reader),
      this.loadOfficialAccountState(contactId),
      this.loadEvents(contactId),
      this.loadMqlState(contactId),
    ]);
    if (!detail) return { ok: false, reason: 'not_your_customer' };
    const source = await this.loadSource(detail);
    const eventIds = [...new Set(events.map((e) => e.eventId))];
    const names = new Map(events.map((e) => [e.eventId, e.eventName]));
    const [surveys, followUps] = await Promise.all([
      this.loadSurveys(contactId, eventIds, names),
      this.loadOpenFollowUps(contactId, eventIds, names, reader),
    ]);
    const identity = (kind: string) => detail.identities.find((i) => i.kind === kind)?.value ?? null;
    const oaOpenid = identity('oa_openid');
    const mpOpenid = identity('mp_openid');
    const hints = hintsOf({
      now,
      registrations: events.map((e) => ({ ...e, startsAt: new Date(e.startsAt), endsAt: new Date(e.endsAt) })),
      mql:
        mql === null || settings.mqlThreshold <= 0
          ? null
          : { above: mql.above, crossedAt: mql.updatedAt, threshold: settings.mqlThreshold, score: detail.score },
      surveys: surveys.map((s) => ({ ...s, satisfaction: s.rating, answeredAt: new Date(s.answeredAt) })),
      followUps,
      lastInboundAt: extra.lastInteractionAt,
      createdAt: new Date(detail.createdAt),
      silentDays: settings.silentDays,
    });
    return {
      ok: true,
      value: {
        contact: {
          id: detail.id,
          display: detail.display,
          name: detail.name,
          remark: detail.remark,
          avatarUrl: detail.avatarUrl,
          phone: detail.phone ?? maskedPhoneIdentity(detail),
          company: extra.company,
          identities: {
            officialAccount: oaOpenid === null ? null : { openid: oaOpenid, subscribed: oaState !== 'unsubscribe' },
            miniProgram: mpOpenid === null ? null : { openid: mpOpenid },
            externalUserId: detail.externalUserId,
            unionid: detail.unionid,
          },
          follows,
          owner: detail.owner,
          createdAt: detail.createdAt,
        },
        tags: detail.tags,
        score: { value: detail.score, mqlThreshold: settings.mqlThreshold, ledger: ledger?.items ?? [] },
        stage: detail.stage,
        source,
        timeline: { items: firstPage?.items ?? [], nextBefore: firstPage?.nextBefore ?? null, after },
        events,
        surveys,
        followUps,
        hints,
      },
    };
  }

  /** The live timeline: entries newer than the cursor (see TimelineService.listTimelineAfter). */
  async listTimelineAfter(p: { contactId: number; after: string; reader: SidebarReader }): Promise<SidebarResult<LiveTimelinePage>> {
    const access = await this.checkAccess(p.contactId, p.reader);
    if (!access.ok) return access;
    const cursor = parseLiveCursor(p.after);
    if (!cursor) throw new Error('the route checks the cursor');
    const page = await this.deps.timeline.listTimelineAfter({
      contactId: access.value,
      scope: scopeOf(p.reader),
      after: cursor,
      limit: LIVE_LIMIT,
      now: this.deps.clock.now(),
    });
    return page ? { ok: true, value: page } : { ok: false, reason: 'not_your_customer' };
  }

  private async loadContactExtras(contactId: number): Promise<{ company: string | null; lastInteractionAt: Date | null }> {
    const [row] = await this.deps.dataSource.query<{ company: string | null; last_interaction_at: unknown }[]>(
      'SELECT company, last_interaction_at FROM contacts WHERE id = ?',
      [contactId],
    );
    return {
      company: row?.company ?? null,
      lastInteractionAt: row?.last_interaction_at ? fromSqlDate(row.last_interaction_at) : null,
    };
  }

  /** The reps following the contact (UQ (contact_id, user_id) holds the range), named when an operator has their userid. */
  private async loadFollows(contactId: number, reader: SidebarReader): Promise<SidebarContact['follows']> {
    const rows = await this.deps.dataSource.query<
      { user_id: string; created_at: unknown; display_name: string | null; username: string | null }[]
    >(
      'SELECT f.user_id, f.created_at, o.display_name, o.username FROM contact_follows f ' +
        'LEFT JOIN operators o ON o.wecom_user_id = f.user_id ' +
        "WHERE f.contact_id = ? AND f.status = 'active' ORDER BY f.created_at, f.id",
      [contactId],
    );
    const seen = new Set<string>();
    return rows.flatMap((row) => {
      // Two operators sharing one userid would repeat the follow: the first names it.
      if (seen.has(row.user_id)) return [];
      seen.add(row.user_id);
      return [
        {
          userId: row.user_id,
          name: row.display_name ?? row.username ?? null,
          since: fromSqlDate(row.created_at).toISOString(),
          mine: reader.wecomUserId !== null && row.user_id === reader.wecomUserId,
        },
      ];
    });
  }

  /** The newest subscribe or unsubscribe (their (contact_id, type, occurred_at) index, one probe each). */
  private async loadOfficialAccountState(contactId: number): Promise<'subscribe' | 'unsubscribe' | null> {
    const newest = async (type: string) => {
      const [row] = await this.deps.dataSource.query<{ at: unknown }[]>(
        'SELECT occurred_at AS at FROM interactions WHERE contact_id = ? AND type = ? ORDER BY occurred_at DESC LIMIT 1',
        [contactId, type],
      );
      return row ? fromSqlDate(row.at).getTime() : null;
    };
    const [subscribed, unsubscribed] = await Promise.all([newest('subscribe'), newest('unsubscribe')]);
    if (unsubscribed !== null && (subscribed === null || unsubscribed >= subscribed)) return 'unsubscribe';
    return subscribed === null ? null : 'subscribe';
  }

  private async loadSource(detail: ContactDetail): Promise<SidebarProfile['source']> {
    const code = detail.firstSource;
    const match = code === null ? null : /^ch:(\d{1,10})$/.exec(code);
    let channel: { id: number | string; name: string } | undefined;
    if (match)
      [channel] = await this.deps.dataSource.query<{ id: number | string; name: string }[]>('SELECT id, name FROM channels WHERE id = ?', [
        Number(match[1]),
      ]);
    return {
      code,
      channelId: channel ? Number(channel.id) : null,
      channelName: channel?.name ?? null,
      at: detail.firstSourceAt,
    };
  }

  /** Registrations with their event and check-in, newest event first (IDX_event_registrations_contact). */
  private async loadEvents(contactId: number): Promise<SidebarEvent[]> {
    const rows = await this.deps.dataSource.query<
      {
        id: number | string;
        event_id: number | string;
        name: string;
        starts_at: unknown;
        ends_at: unknown;
        status: string;
        checked_in_at: unknown;
        ticket_price_fen: number | string | null;
        created_at: unknown;
      }[]
    >(
      'SELECT r.id, r.event_id, e.name, e.starts_at, e.ends_at, r.status, ch.checked_in_at, e.ticket_price_fen, r.created_at ' +
        'FROM event_registrations r JOIN events e ON e.id = r.event_id ' +
        'LEFT JOIN event_checkins ch ON ch.registration_id = r.id ' +
        'WHERE r.contact_id = ? ORDER BY e.starts_at DESC, r.id DESC LIMIT 50',
      [contactId],
    );
    return rows.map((row) => ({
      registrationId: Number(row.id),
      eventId: Number(row.event_id),
      eventName: row.name,
      startsAt: fromSqlDate(row.starts_at).toISOString(),
      endsAt: fromSqlDate(row.ends_at).toISOString(),
      status: row.status,
      checkedIn: row.checked_in_at !== null && row.checked_in_at !== undefined,
      checkedInAt: row.checked_in_at ? fromSqlDate(row.checked_in_at).toISOString() : null,
      ticketPriceFen: row.ticket_price_fen === null ? null : Number(row.ticket_price_fen),
      registeredAt: fromSqlDate(row.created_at).toISOString(),
    }));
  }

  /** Their survey answers: an answer needs a registration, so the events they registered for hold them (UQ (survey_id, contact_id)). */
  private async loadSurveys(contactId: number, eventIds: number[], names: Map<number, string>): Promise<SidebarSurvey[]> {
    if (eventIds.length === 0) return [];
    const rows = await this.deps.dataSource.query<{ event_id: number | string; satisfaction: number | string; created_at: unknown }[]>(
      'SELECT a.event_id, a.satisfaction, a.created_at FROM surveys s JOIN survey_answers a ON a.survey_id = s.id AND a.contact_id = ? ' +
        `WHERE s.event_id IN (${placeholders(eventIds.length)}) ORDER BY a.created_at DESC`,
      [contactId, ...eventIds],
    );
    return rows.map((row) => ({
      eventId: Number(row.event_id),
      eventName: names.get(Number(row.event_id)) ?? '',
      rating: Number(row.satisfaction),
      answeredAt: fromSqlDate(row.created_at).toISOString(),
    }));
  }

  /**
   * Open follow-ups of the events they registered for (UQ (event_id, contact_id)): a sales rep
   * sees their own and the unassigned ones (anyone who follows the customer may close those),
   * admins and marketers every one.
   */
  private async loadOpenFollowUps(
    contactId: number,
    eventIds: number[],
    names: Map<number, string>,
    reader: SidebarReader,
  ): Promise<SidebarFollowUp[]> {
    if (eventIds.length === 0) return [];
    const rows = await this.deps.dataSource.query<
      { id: number | string; event_id: number | string; operator_id: number | string | null; created_at: unknown }[]
    >(
      'SELECT id, event_id, operator_id, created_at FROM event_followups ' +
        `WHERE event_id IN (${placeholders(eventIds.length)}) AND contact_id = ? AND state = 'open' ORDER BY id DESC`,
      [...eventIds, contactId],
    );
    return rows.flatMap((row) => {
      const operatorId = row.operator_id === null ? null : Number(row.operator_id);
      const mine = operatorId === reader.operatorId;
      if (reader.role === 'sales' && operatorId !== null && !mine) return [];
      return [
        {
          id: Number(row.id),
          eventId: Number(row.event_id),
          eventName: names.get(Number(row.event_id)) ?? '',
          operatorId,
          mine,
          createdAt: fromSqlDate(row.created_at).toISOString(),
        },
      ];
    });
  }

  /** Where they stand against the MQL threshold: `updated_at` is the last crossing while `above`. */
  private async loadMqlState(contactId: number): Promise<{ above: boolean; updatedAt: Date } | null> {
    const [row] = await this.deps.dataSource.query<{ above: number | string | boolean; updated_at: unknown }[]>(
      'SELECT above, updated_at FROM contact_mql_states WHERE contact_id = ?',
      [contactId],
    );
    if (!row) return null;
    return { above: row.above === true || Number(row.above) === 1, updatedAt: fromSqlDate(row.updated_at) };
  }
}

/** Sales reps see the customers they follow; admins and marketers see everyone (as on the admin page). */
export function scopeOf(reader: SidebarReader): ContactScope {
  return reader.role === 'sales' ? { kind: 'follower', userId: reader.wecomUserId } : { kind: 'all' };
}

/** The contact's phone when no operator typed one: their verified phone identity (already masked for reps). */
function maskedPhoneIdentity(detail: ContactDetail): string | null {
  return detail.identities.find((identity) => identity.kind === 'phone')?.value ?? null;
}
