/**
 * The sidebar's next-step hints (issue 16 §3): drawn from the data the profile read already holds,
 * as codes with parameters; the page words them in its language. Pure: the clock comes in.
 */

export const SIDEBAR_HINT_CODES = ['registered_not_checked_in', 'mql_crossed', 'survey_unhappy', 'followup_open', 'silent'] as const;
export type SidebarHintCode = (typeof SIDEBAR_HINT_CODES)[number];

export interface SidebarHint {
  code: SidebarHintCode;
  params: Record<string, string | number | null>;
}

/** An event starting within this long counts as "soon": a reminder from the rep still helps. */
export const STARTS_SOON_MS = 3 * 24 * 3_600_000;
/** A no-show this recent is still worth a call ("sorry we missed you"); older ones are history. */
export const ENDED_RECENTLY_MS = 7 * 24 * 3_600_000;
/** A crossing of the MQL threshold this recent is news to the rep ("score passed MQL yesterday"). */
export const MQL_RECENT_MS = 2 * 24 * 3_600_000;
/** A rating at or below this is unhappy (the survey's 1–5 scale; the tag rules' "2 or less"). */
export const UNHAPPY_RATING = 2;

export interface HintInput {
  now: Date;
  registrations: {
    eventId: number;
    eventName: string;
    status: string;
    startsAt: Date;
    endsAt: Date;
    checkedIn: boolean;
  }[];
  /** Null when the contact never crossed, or the threshold is off. */
  mql: { above: boolean; crossedAt: Date; threshold: number; score: number } | null;
  surveys: { eventId: number; eventName: string; satisfaction: number; answeredAt: Date }[];
  followUps: { id: number; eventId: number; eventName: string; mine: boolean }[];
  /** The newest inbound interaction (contacts.last_interaction_at), null when none. */
  lastInboundAt: Date | null;
  /** When the contact was first seen: a contact who never did anything is silent since then. */
  createdAt: Date;
  /** Days without an inbound interaction that make a contact silent (scoring settings' silentDays). */
  silentDays: number;
}

/** Pure: the hints in the order the page shows them, most pressing first. */
export function hintsOf(input: HintInput): SidebarHint[] {
  const now = input.now.getTime();
  const hints: SidebarHint[] = [];
  for (const r of input.registrations) {
    if (r.status !== 'registered' || r.checkedIn) continue;
    const startsIn = r.startsAt.getTime() - now;
    // Started or over without a check-in (they missed it, or came without scanning), or about to start.
    const phase = r.endsAt.getTime() <= now ? 'ended' : startsIn <= 0 ? 'started' : startsIn <= STARTS_SOON_MS ? 'soon' : null;
    if (phase === null || (phase === 'ended' && now - r.endsAt.getTime() > ENDED_RECENTLY_MS)) continue;
    hints.push({
      code: 'registered_not_checked_in',
      params: { eventId: r.eventId, eventName: r.eventName, phase, startsAt: r.startsAt.toISOString() },
    });
  }
  if (input.mql?.above && now - input.mql.crossedAt.getTime() <= MQL_RECENT_MS)
    hints.push({
      code: 'mql_crossed',
      params: { threshold: input.mql.threshold, score: input.mql.score, crossedAt: input.mql.crossedAt.toISOString() },
    });
  for (const s of input.surveys) {
    if (s.satisfaction > UNHAPPY_RATING) continue;
    hints.push({
      code: 'survey_unhappy',
      params: { eventId: s.eventId, eventName: s.eventName, rating: s.satisfaction, answeredAt: s.answeredAt.toISOString() },
    });
  }
  for (const f of input.followUps)
    hints.push({ code: 'followup_open', params: { followUpId: f.id, eventId: f.eventId, eventName: f.eventName, mine: f.mine ? 1 : 0 } });
  const quietSince = input.lastInboundAt ?? input.createdAt;
  const quietDays = Math.floor((now - quietSince.getTime()) / 86_400_000);
  if (quietDays >= input.silentDays)
    hints.push({
      code: 'silent',
      params: { days: quietDays, lastInboundAt: input.lastInboundAt === null ? null : input.lastInboundAt.toISOString() },
    });
  return hints;
}
