import type { EntityManager } from 'typeorm';
import {
  INTERACTION_DIRECTIONS,
  type Channel,
  type InteractionDetail,
  type InteractionDirection,
} from '../../../entities/interaction.entity';
import type { Clock } from '../../adapters/clock';
import { isUniqueViolation } from '../../db/errors';
import { placeholders, toSqlDate } from '../../db/sql';
import { identityKey, type ContactsService, type IdentityRef } from '../contacts/contacts.service';
import { countChanges, STAT_METRICS } from '../stats/stat-counters';
import { interactionTypeOf } from '../../../web/shared/interaction-types';

/**
 * Something a contact did or was sent, about to go on the timeline: from a callback, the
 * mini-program, an H5 page, a check-in, a payment, a send, a click, a rep's note.
 */
export interface InteractionDraft {
  type: string;
  channel: Channel;
  /**
   * `in` when the contact did it; `out` when it was sent to them (a send, its delivery, its
   * failure): on the timeline, but no sign of life (entities/interaction.entity.ts). Defaults to
   * the type's direction in the registry (web/shared/interaction-types.ts), else `in`.
   */
  direction?: InteractionDirection;
  occurredAt: Date;
  detail: InteractionDetail;
  /** Who did it, by identity (created on first sight); null for account-level events. */
  identity: IdentityRef | null;
  /** Or the contact itself, when the caller already knows it (followed to its survivor if merged). */
  contactId?: number | null;
  /**
   * Unique, namespaced by source: `oa:`, `wecom:`, `mp:`, `pay:<transaction_id>`,
   * `outbox:<run>:<node>` ... The same fact recorded twice makes one row.
   */
  dedupeKey: string;
  /** What it is about: an event, an order, a message, a journey run. */
  ref?: { type: string; id: string } | null;
}

export interface RecordResult {
  /** False when the dedupe key was already on the timeline: nothing was written. */
  recorded: boolean;
  contactId: number | null;
}

/** `source:` then anything; 191 characters is the unique index's width on MySQL (utf8mb4). */
const DEDUPE_KEY_PATTERN = /^[a-z][a-z0-9_]*:.+$/;
const MAX_DEDUPE_KEY_LENGTH = 191;
const MAX_TYPE_LENGTH = 48;

const INSERT_INTERACTIONS =
  'INSERT INTO interactions (contact_id, type, channel, direction, occurred_at, detail, dedupe_key, ref_type, ref_id, created_at) VALUES';
const INTERACTION_ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_WORK = 'INSERT INTO reaction_work (dedupe_key, status, attempts, next_attempt_at, created_at, updated_at) VALUES';
const WORK_ROW = "(?, 'pending', 0, ?, ?, ?)";

export class InvalidInteractionError extends Error {}

export interface InteractionsServiceDeps {
  clock: Clock;
  contacts: ContactsService;
  /**
   * Whether a registered reaction is given interactions of this type and direction
   * (`reactionsWant` over compose.ts's reactions): only those get a work row. By default every
   * inbound one does and no outbound one, so a broadcast writes no work rows nobody reads.
   */
  wantsWork?: (type: string, direction: InteractionDirection) => boolean;
}

const INBOUND_ONLY = (_type: string, direction: InteractionDirection) => direction === 'in';

/**
 * The one way onto the timeline. Writes inside the caller's transaction, so an interaction
 * commits (or rolls back) with whatever caused it, and gives every new interaction a durable work
 * row (when a reaction is given it): after the commit the reactions (compose.ts) run from it,
 * whatever the channel. Each is
 * counted on the dashboard's interactions series (stat counters) in the same transaction.
 */
export class InteractionsService {
  private readonly wantsWork: (type: string, direction: InteractionDirection) => boolean;

  constructor(private readonly deps: InteractionsServiceDeps) {
    this.wantsWork = deps.wantsWork ?? INBOUND_ONLY;
  }

  async recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> {
    return (await this.recordInteractions(manager, [draft]))[0];
  }

  /**
   * Records many at once in a constant number of statements whatever their number (callbacks
   * arriving together are committed as a group): on MySQL every statement is a round trip.
   * Duplicates are rare (platforms retry only unanswered pushes), so rows are inserted without
   * looking first; a stored key fails the INSERT, which both databases undo alone
   * (statement-level rollback), and only then are stored keys read and left out. Results are in
   * the order of `drafts`; a key repeated within `drafts` is recorded once.
   */
  async recordInteractions(manager: EntityManager, drafts: InteractionDraft[]): Promise<RecordResult[]> {
    if (drafts.length === 0) return [];
    for (const draft of drafts) validateDraft(draft);
    const now = toSqlDate(this.deps.clock.now());
    const contactOf = await this.resolveContacts(manager, drafts);

    let fresh = firstOfEachKey(drafts);
    const insert = (rows: InteractionDraft[]) =>
      manager.query(
        `${INSERT_INTERACTIONS} ${rows.map(() => INTERACTION_ROW).join(',')}`,
        rows.flatMap((d) => [
          contactOf(d),
          d.type,
          d.channel,
          directionOf(d),
          toSqlDate(d.occurredAt),
          JSON.stringify(d.detail),
          d.dedupeKey,
          d.ref?.type ?? null,
          d.ref?.id ?? null,
          now,
        ]),
      );
    try {
      await insert(fresh);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const keys = fresh.map((d) => d.dedupeKey);
      const stored: { dedupe_key: string }[] = await manager.query(
        `SELECT dedupe_key FROM interactions WHERE dedupe_key IN (${placeholders(keys.length)})`,
        keys,
      );
      const taken = new Set(stored.map((r) => r.dedupe_key));
      // None of them found: the clash is with a row another transaction has not committed yet
      // (MySQL's snapshot cannot see it); the caller retries or stores one by one.
      if (taken.size === 0) throw error;
      fresh = fresh.filter((d) => !taken.has(d.dedupeKey));
      if (fresh.length > 0) await insert(fresh);
    }
    if (fresh.length > 0) {
      const owed = fresh.filter((d) => this.wantsWork(d.type, directionOf(d)));
      if (owed.length > 0)
        await manager.query(
          `${INSERT_WORK} ${owed.map(() => WORK_ROW).join(',')}`,
          owed.flatMap((d) => [d.dedupeKey, now, now, now]),
        );
      // The dashboard's interactions are what customers did: a broadcast's sends would drown them.
      await countChanges(
        manager,
        fresh.flatMap((d) =>
          directionOf(d) === 'in' ? [{ metric: STAT_METRICS.interactionsByChannel, at: d.occurredAt, dim: d.channel, n: 1 }] : [],
        ),
      );
    }
    const recorded = new Set(fresh);
    return drafts.map((d) => ({ recorded: recorded.has(d), contactId: recorded.has(d) ? contactOf(d) : null }));
  }

  /** Identity → contact (created on first sight); a given contact id → its merge survivor. */
  private async resolveContacts(manager: EntityManager, drafts: InteractionDraft[]): Promise<(d: InteractionDraft) => number | null> {
    const identities = drafts.flatMap((d) => (d.identity && d.contactId == null ? [d.identity] : []));
    const byIdentity = identities.length > 0 ? await this.deps.contacts.resolveContacts(manager, identities) : new Map<string, number>();
    const given = [...new Set(drafts.flatMap((d) => (d.contactId == null ? [] : [d.contactId])))];
    const survivors = given.length > 0 ? await this.deps.contacts.resolveSurvivors(manager, given) : new Map<number, number>();
    return (d) => {
      if (d.contactId != null) return survivors.get(d.contactId) ?? d.contactId;
      return d.identity ? (byIdentity.get(identityKey(d.identity)) ?? null) : null;
    };
  }
}

function validateDraft(d: InteractionDraft): void {
  if (d.dedupeKey.length > MAX_DEDUPE_KEY_LENGTH || !DEDUPE_KEY_PATTERN.test(d.dedupeKey)) {
    throw new InvalidInteractionError(
      `dedupe key must be "<source>:<key>", at most ${MAX_DEDUPE_KEY_LENGTH} characters: "${d.dedupeKey.slice(0, 60)}"`,
    );
  }
  if (d.type === '' || d.type.length > MAX_TYPE_LENGTH)
    throw new InvalidInteractionError(`interaction type must be 1-${MAX_TYPE_LENGTH} characters`);
  if (Number.isNaN(d.occurredAt.getTime())) throw new InvalidInteractionError('occurredAt is not a valid time');
  if (d.direction !== undefined && !INTERACTION_DIRECTIONS.includes(d.direction))
    throw new InvalidInteractionError(`direction must be one of ${INTERACTION_DIRECTIONS.join(', ')}`);
  const registered = interactionTypeOf(d.type)?.direction;
  if (registered !== undefined && d.direction !== undefined && d.direction !== registered)
    throw new InvalidInteractionError(`an interaction of type ${d.type} is ${registered}, not ${d.direction}`);
}

/** The draft's direction: as given, else as the registry says for its type, else `in`. */
function directionOf(d: InteractionDraft): InteractionDirection {
  return d.direction ?? interactionTypeOf(d.type)?.direction ?? 'in';
}

function firstOfEachKey(drafts: InteractionDraft[]): InteractionDraft[] {
  const seen = new Set<string>();
  return drafts.filter((d) => !seen.has(d.dedupeKey) && seen.add(d.dedupeKey));
}
