import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { Contact, LIFECYCLE_STAGES, type LifecycleStage } from '../../../entities/contact.entity';
import { ContactFollow } from '../../../entities/contact-follow.entity';
import { ContactIdentity, type IdentityKind } from '../../../entities/contact-identity.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { ContactStageChange } from '../../../entities/contact-stage-change.entity';
import { ContactTagChange } from '../../../entities/contact-tag-change.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import type { Clock } from '../../adapters/clock';
import { isUniqueViolation } from '../../db/errors';
import { insertReturningId, isMysqlManager, placeholders, toId, toSqlDate } from '../../db/sql';
import { countChanges, stageChange, tagChange } from '../stats/stat-counters';
import { insertNewContactTerms, refreshSearchTerms } from './search-terms';
import { moveSubscribeConsents } from '../subscribe-consent/subscribe-consent.service';
import { moveCustomWindows } from '../outbox/custom-window';

/** A way to recognise a person: openids are per app, external_userid per corp, unionid per open platform. */
export interface IdentityRef {
  kind: IdentityKind;
  appId: string;
  value: string;
}

export interface ContactsServiceDeps {
  clock: Clock;
}

/**
 * One person, many identities. Every method takes the caller's EntityManager so that contact
 * changes commit or roll back with the interaction that caused them.
 */
export class ContactsService {
  constructor(private readonly deps: ContactsServiceDeps) {}

  async findContactId(manager: EntityManager, ref: IdentityRef): Promise<number | null> {
    // Raw SQL: this runs inside every callback's transaction.
    const rows: { contact_id: number | string }[] = await manager.query(
      'SELECT contact_id FROM contact_identities WHERE kind = ? AND app_id = ? AND value = ?',
      [ref.kind, ref.appId, ref.value],
    );
    return rows.length > 0 ? Number(rows[0].contact_id) : null;
  }

  /** The contact behind an identity, created on first sight. */
  async resolveContact(manager: EntityManager, ref: IdentityRef): Promise<{ contactId: number; created: boolean }> {
    const existing = await this.findContactId(manager, ref);
    if (existing !== null) return { contactId: existing, created: false };
    const now = toSqlDate(this.deps.clock.now());
    const contactId = await insertReturningId(
      manager,
      "INSERT INTO contacts (stage, score, created_at, updated_at) VALUES ('acquired', 0, ?, ?)",
      [now, now],
    );
    await manager.query('INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES (?, ?, ?, ?, ?)', [
      contactId,
      ref.kind,
      ref.appId,
      ref.value,
      now,
    ]);
    await insertNewContactTerms(manager, [{ contactId, kind: ref.kind, value: ref.value }]);
    await countChanges(manager, [stageChange('acquired', 1)]);
    return { contactId, created: true };
  }

  /**
   * resolveContact for many identities at once (a group commit of callbacks): one SELECT per
   * (kind, app), then the missing contacts are created together (createContacts). Keyed by
   * identityKey(). `searchTerms: false` leaves the new contacts' search terms to the caller (a lead
   * import writes them after its commit, in the background: a hundred thousand contacts are
   * millions of terms).
   */
  async resolveContacts(
    manager: EntityManager,
    refs: IdentityRef[],
    options: { searchTerms?: boolean } = {},
  ): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    const scopes = new Map<string, IdentityRef[]>();
    for (const ref of refs) scopes.set(`${ref.kind}|${ref.appId}`, [...(scopes.get(`${ref.kind}|${ref.appId}`) ?? []), ref]);
    for (const group of scopes.values()) {
      const values = [...new Set(group.map((r) => r.value))];
      const rows: { contact_id: number | string; value: string }[] = await manager.query(
        `SELECT contact_id, value FROM contact_identities WHERE kind = ? AND app_id = ? AND value IN (${placeholders(values.length)})`,
        [group[0].kind, group[0].appId, ...values],
      );
      for (const row of rows) found.set(identityKey({ ...group[0], value: row.value }), Number(row.contact_id));
    }
    const missing = new Map<string, IdentityRef>();
    for (const ref of refs) if (!found.has(identityKey(ref))) missing.set(identityKey(ref), ref);
    const created = await this.createContacts(manager, [...missing.values()], options.searchTerms ?? true);
    for (const [i, key] of [...missing.keys()].entries()) found.set(key, created[i]);
    return found;
  }

  /**
   * New contacts, one per identity, in two statements when the database hands out consecutive
   * ids to a multi-row INSERT (a burst of new followers at an exhibition is otherwise three round
   * trips per follower inside the callbacks' transaction): SQLite always (one writer; its last
   * rowid is reported), MySQL/MariaDB when innodb_autoinc_lock_mode is 0 or 1 and the increment
   * is 1 (MariaDB's default is 1; MySQL 8's 2 interleaves concurrent inserts, Galera changes the
   * increment). Otherwise, one by one.
   */
  private async createContacts(manager: EntityManager, refs: IdentityRef[], searchTerms: boolean): Promise<number[]> {
    if (refs.length === 0) return [];
    if (refs.length === 1 || !(await this.hasConsecutiveIds(manager))) {
      const ids: number[] = [];
      for (const ref of refs) ids.push((await this.resolveContact(manager, ref)).contactId);
      return ids;
    }
    const now = toSqlDate(this.deps.clock.now());
    const raw: unknown = await manager.query(
      `INSERT INTO contacts (stage, score, created_at, updated_at) VALUES ${refs.map(() => "('acquired', 0, ?, ?)").join(',')}`,
      refs.flatMap(() => [now, now]),
    );
    const mysql = isMysqlManager(manager);
    const reported = toId(typeof raw === 'object' && raw !== null && 'insertId' in raw ? raw.insertId : raw);
    // mysql2 reports the first id of the statement, better-sqlite3 the last.
    const first = mysql ? reported : reported - refs.length + 1;
    const ids = refs.map((_ref, i) => first + i);
    await manager.query(
      `INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES ${refs.map(() => '(?, ?, ?, ?, ?)').join(',')}`,
      refs.flatMap((ref, i) => [ids[i], ref.kind, ref.appId, ref.value, now]),
    );
    if (searchTerms)
      await insertNewContactTerms(
        manager,
        refs.map((ref, i) => ({ contactId: ids[i], kind: ref.kind, value: ref.value })),
      );
    await countChanges(manager, [stageChange('acquired', refs.length)]);
    return ids;
  }

  private async hasConsecutiveIds(manager: EntityManager): Promise<boolean> {
    if (!isMysqlManager(manager)) return true;
    const known = consecutiveIds.get(manager.connection);
    if (known !== undefined) return known;
    const [row]: { mode: number | string; inc: number | string }[] = await manager.query(
      'SELECT @@innodb_autoinc_lock_mode AS mode, @@auto_increment_increment AS inc',
    );
    const consecutive = Number(row?.mode) <= 1 && Number(row?.inc) === 1;
    consecutiveIds.set(manager.connection, consecutive);
    return consecutive;
  }

  /**
   * Gives a contact one more identity. When another contact already holds it (a unionid that
   * links an Official Account follower to a WeCom external contact), the two become one. The
   * contact is locked and followed to its survivor first, so the identity never lands on a
   * contact merged meanwhile. Returns the id of the contact that holds the identity afterwards.
   */
  async linkIdentity(manager: EntityManager, contactId: number, ref: IdentityRef): Promise<number> {
    return (await this.attachIdentity(manager, contactId, ref, { whenHeld: 'merge' })).contactId;
  }

  /**
   * linkIdentity with the caller's rule for an identity another contact holds: `merge` (as
   * linkIdentity), or `keep` it with its holder and leave the two apart (a phone typed on a form
   * proves nothing: docs/ARCHITECTURE.md). `searchTerms: 'caller'`: the caller changes the
   * contact's row too and refreshes its search terms once afterwards, in the same transaction.
   * Answers the contact (a merge's survivor), the other holder when one was kept, and whether the
   * identity was added.
   */
  async attachIdentity(
    manager: EntityManager,
    contactId: number,
    ref: IdentityRef,
    opts: { whenHeld: 'merge' | 'keep'; searchTerms?: 'caller' },
  ): Promise<{ contactId: number; keptBy: number | null; added: boolean }> {
    const owner = (await this.lockSurvivors(manager, [contactId])).get(contactId) ?? contactId;
    const holder = await this.findContactId(manager, ref);
    if (holder === owner) return { contactId: owner, keptBy: null, added: false };
    if (holder !== null) {
      if (opts.whenHeld === 'keep') return { contactId: owner, keptBy: holder, added: false };
      return { contactId: await this.mergeContacts(manager, owner, holder), keptBy: null, added: false };
    }
    await manager.query('INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES (?, ?, ?, ?, ?)', [
      owner,
      ref.kind,
      ref.appId,
      ref.value,
      toSqlDate(this.deps.clock.now()),
    ]);
    if (opts.searchTerms !== 'caller') await refreshSearchTerms(manager, [owner]);
    return { contactId: owner, keptBy: null, added: true };
  }

  /**
   * Merges two contacts; the older one survives and inherits identities, timeline, tags, follow
   * relations and points. Both rows are locked (FOR UPDATE, in id order, so two merges never wait
   * on each other in a circle) before anything is read, and the score moves with `score + ?`, so
   * a merge racing another merge or a scoring batch on a second instance loses no points. A
   * contact that was merged already is followed to its survivor first.
   */
  async mergeContacts(manager: EntityManager, a: number, b: number): Promise<number> {
    const survivors = await this.resolveSurvivors(manager, [a, b]);
    let [x, y] = [survivors.get(a) ?? a, survivors.get(b) ?? b];
    for (let hops = 0; ; hops += 1) {
      if (x === y) return x;
      if (hops >= 16) throw new Error(`cannot merge contacts ${a} and ${b}: the merge chain does not end`);
      const locked = await lockContacts(manager, [x, y]);
      const [first, second] = [locked.get(x), locked.get(y)];
      if (!first || !second) throw new Error(`cannot merge contacts ${x} and ${y}: not found`);
      // A merge on another instance got there between the lookup and the lock (the locking read
      // sees it): follow it to the survivors and lock those.
      if (first.mergedIntoId !== null || second.mergedIntoId !== null) {
        [x, y] = [first.mergedIntoId ?? x, second.mergedIntoId ?? y];
        continue;
      }
      return this.mergeLocked(manager, x < y ? first : second, x < y ? second : first);
    }
  }

  /** Both rows are locked and neither is merged: the older one takes everything of the other. */
  private async mergeLocked(manager: EntityManager, survivor: Contact, merged: Contact): Promise<number> {
    const [survivorId, mergedId] = [survivor.id, merged.id];
    await manager.update(ContactIdentity, { contactId: mergedId }, { contactId: survivorId });
    await manager.update(Interaction, { contactId: mergedId }, { contactId: survivorId });
    await manager.update(ScoreLedger, { contactId: mergedId }, { contactId: survivorId });
    await manager.update(ContactTagChange, { contactId: mergedId }, { contactId: survivorId });
    await manager.update(ContactStageChange, { contactId: mergedId }, { contactId: survivorId });
    // Tags both hold are kept once: the merged contact's copies go, and are counted out. Locking
    // reads, so a tag added to either meanwhile is seen (or waits for this merge).
    const lock = isMysqlManager(manager) ? ' FOR UPDATE' : '';
    const tagRows: { id: number | string; contact_id: number | string; tag_id: number | string }[] = await manager.query(
      `SELECT id, contact_id, tag_id FROM contact_tags WHERE contact_id IN (?, ?) ORDER BY id${lock}`,
      [survivorId, mergedId],
    );
    const held = new Set(tagRows.filter((r) => Number(r.contact_id) === survivorId).map((r) => Number(r.tag_id)));
    const doubled = tagRows.filter((r) => Number(r.contact_id) === mergedId && held.has(Number(r.tag_id)));
    if (doubled.length > 0)
      await manager.query(
        `DELETE FROM contact_tags WHERE id IN (${placeholders(doubled.length)})`,
        doubled.map((r) => Number(r.id)),
      );
    await manager.update(ContactTag, { contactId: mergedId }, { contactId: survivorId });
    const survivorFollows = await manager.find(ContactFollow, { where: { contactId: survivorId }, select: { userId: true } });
    const following = survivorFollows.map((f) => f.userId);
    if (following.length > 0) await manager.delete(ContactFollow, { contactId: mergedId, userId: In(following) });
    await manager.update(ContactFollow, { contactId: mergedId }, { contactId: survivorId });
    await moveSubscribeConsents(manager, mergedId, survivorId);
    // The customer-service window follows the openid (the later of the two per account).
    await moveCustomWindows(manager, mergedId, survivorId, this.deps.clock.now());

    const now = toSqlDate(this.deps.clock.now());
    const first = earliest(
      { source: survivor.firstSource, at: survivor.firstSourceAt },
      { source: merged.firstSource, at: merged.firstSourceAt },
    );
    const last = latest({ source: survivor.lastSource, at: survivor.lastSourceAt }, { source: merged.lastSource, at: merged.lastSourceAt });
    const lastInteraction = latest({ source: null, at: survivor.lastInteractionAt }, { source: null, at: merged.lastInteractionAt }).at;
    await manager.query(
      `UPDATE contacts SET name = ?, remark = ?, phone = ?, time_zone = ?, avatar_url = ?, score = score + ?, stage = ?, first_source = ?, first_source_at = ?, last_source = ?, last_source_at = ?,
         last_interaction_at = ?, owner_user_id = ?, updated_at = ? WHERE id = ?`,
      [
        survivor.name ?? merged.name,
        survivor.remark ?? merged.remark,
        survivor.phone ?? merged.phone,
        survivor.timeZone ?? merged.timeZone,
        survivor.avatarUrl ?? merged.avatarUrl,
        merged.score,
        laterStage(survivor.stage, merged.stage),
        first.source,
        sqlDateOrNull(first.at),
        last.source,
        sqlDateOrNull(last.at),
        sqlDateOrNull(lastInteraction),
        survivor.ownerUserId ?? merged.ownerUserId,
        now,
        survivorId,
      ],
    );
    await manager.query('UPDATE contacts SET merged_into_id = ?, score = score - ?, updated_at = ? WHERE id = ?', [
      survivorId,
      merged.score,
      now,
      mergedId,
    ]);
    // The survivor is found by the merged contact's name and identities now; the merged one by nothing.
    await refreshSearchTerms(manager, [survivorId, mergedId]);
    const stage = laterStage(survivor.stage, merged.stage);
    await countChanges(manager, [
      stageChange(merged.stage, -1),
      stageChange(survivor.stage, -1),
      stageChange(stage, 1),
      ...doubled.map((r) => tagChange(Number(r.tag_id), -1)),
    ]);
    return survivorId;
  }

  /**
   * Where each contact lives now, with that row locked for the rest of the transaction: the
   * contact itself, or the survivor it was merged into. Every writer to a contact's rows (tags,
   * ledger, follows, source, identities) calls this first, inside its transaction: a merge locks
   * both rows too, so it either committed before (the locking read sees it, and the writes go to
   * the survivor) or waits until the writes commit (and moves them). Rows are locked in id order,
   * hop by hop along merge chains (merges only chain forward, so a hop or two at most). SQLite's
   * single writer is lock enough there.
   */
  async lockSurvivors(manager: EntityManager, contactIds: number[]): Promise<Map<number, number>> {
    const mergedInto = new Map<number, number>();
    const locked = new Set<number>();
    let pending = [...new Set(contactIds)];
    for (let hops = 0; pending.length > 0; hops += 1) {
      if (hops >= MAX_MERGE_HOPS) throw new Error(`the merge chain of contacts ${pending.join(', ')} does not end`);
      for (const row of await lockContactRows(manager, pending)) if (row.mergedIntoId !== null) mergedInto.set(row.id, row.mergedIntoId);
      for (const id of pending) locked.add(id);
      pending = [...new Set(mergedInto.values())].filter((id) => !locked.has(id));
    }
    return new Map(contactIds.map((id) => [id, followMerges(mergedInto, id)]));
  }

  /**
   * Where each contact lives now: itself, or the survivor it was merged into (merges only chain
   * forward, so a few hops at most).
   */
  async resolveSurvivors(manager: EntityManager, contactIds: number[]): Promise<Map<number, number>> {
    const result = new Map<number, number>(contactIds.map((id) => [id, id]));
    let pending = [...new Set(contactIds)];
    for (let hops = 0; pending.length > 0 && hops < 16; hops += 1) {
      const rows: { id: number | string; merged_into_id: number | string | null }[] = await manager.query(
        `SELECT id, merged_into_id FROM contacts WHERE id IN (${placeholders(pending.length)}) AND merged_into_id IS NOT NULL`,
        pending,
      );
      const next = new Map(rows.map((r) => [Number(r.id), Number(r.merged_into_id)]));
      for (const [start, current] of result) {
        const to = next.get(current);
        if (to !== undefined) result.set(start, to);
      }
      pending = [...new Set(next.values())];
    }
    return result;
  }

  /**
   * A WeCom rep now follows the customer (added them, or is listed in their follow_user): the
   * relation is kept beside the others, never replacing them. The first rep becomes the owner
   * tag syncs act as.
   */
  async addFollow(manager: EntityManager, contactId: number, p: { userId: string; state?: string | null }): Promise<void> {
    const now = this.deps.clock.now();
    const state = p.state ? p.state.slice(0, 128) : null;
    const existing = await manager.findOneBy(ContactFollow, { contactId, userId: p.userId });
    if (existing) {
      if (existing.status !== 'active' || (state && existing.state !== state))
        await manager.update(ContactFollow, { id: existing.id }, { status: 'active', state: state ?? existing.state, updatedAt: now });
    } else {
      try {
        await manager.insert(ContactFollow, {
          contactId,
          userId: p.userId.slice(0, 64),
          status: 'active',
          state,
          createdAt: now,
          updatedAt: now,
        });
      } catch (error) {
        // Another worker recorded the same relation first: it is there, which is all we need.
        if (!isUniqueViolation(error)) throw error;
      }
    }
    await manager.query('UPDATE contacts SET owner_user_id = ?, updated_at = ? WHERE id = ? AND owner_user_id IS NULL', [
      p.userId,
      toSqlDate(now),
      contactId,
    ]);
  }

  /** The rep and the customer are no longer connected (either side deleted the other). */
  async removeFollow(manager: EntityManager, contactId: number, userId: string): Promise<void> {
    await manager.update(ContactFollow, { contactId, userId, status: 'active' }, { status: 'removed', updatedAt: this.deps.clock.now() });
  }

  /** Fills the profile from the platform; empty values never overwrite known ones. */
  async updateProfile(
    manager: EntityManager,
    contactId: number,
    profile: { name?: string | null; avatarUrl?: string | null },
  ): Promise<void> {
    const changes: Partial<Contact> = {};
    if (profile.name) changes.name = profile.name.slice(0, 128);
    if (profile.avatarUrl) changes.avatarUrl = profile.avatarUrl.slice(0, 512);
    if (Object.keys(changes).length === 0) return;
    await manager.update(Contact, contactId, { ...changes, updatedAt: this.deps.clock.now() });
    if (changes.name) await refreshSearchTerms(manager, [contactId]);
  }

  /**
   * First-touch stays the earliest channel seen, last-touch follows the newest. Each is one
   * conditional UPDATE, which compares with the committed value: with a read, then an update, two
   * interactions arriving together both thought they were first, and the later one could win.
   */
  async recordSource(manager: EntityManager, contactId: number, source: string, at: Date): Promise<void> {
    const [when, now] = [toSqlDate(at), toSqlDate(this.deps.clock.now())];
    await manager.query(
      'UPDATE contacts SET first_source = ?, first_source_at = ?, updated_at = ? WHERE id = ? AND (first_source_at IS NULL OR first_source_at > ?)',
      [source, when, now, contactId, when],
    );
    await manager.query(
      'UPDATE contacts SET last_source = ?, last_source_at = ?, updated_at = ? WHERE id = ? AND (last_source_at IS NULL OR last_source_at <= ?)',
      [source, when, now, contactId, when],
    );
  }

  /**
   * Stages only move forward (AARRR). The rows are read with a lock first: the funnel's counters
   * need to know which stage each one leaves, and a merge or another batch cannot move it between
   * the read and the UPDATE.
   */
  async advanceStage(manager: EntityManager, contactIds: number[], stage: LifecycleStage): Promise<void> {
    const earlier = LIFECYCLE_STAGES.slice(0, LIFECYCLE_STAGES.indexOf(stage));
    if (earlier.length === 0 || contactIds.length === 0) return;
    const ids = [...new Set(contactIds)].sort((a, b) => a - b);
    const rows: { id: number | string; stage: LifecycleStage; merged_into_id: number | string | null }[] = await manager.query(
      `SELECT id, stage, merged_into_id FROM contacts WHERE id IN (${placeholders(ids.length)}) AND stage IN (${placeholders(earlier.length)}) ORDER BY id${isMysqlManager(manager) ? ' FOR UPDATE' : ''}`,
      [...ids, ...earlier],
    );
    if (rows.length === 0) return;
    await manager.query(`UPDATE contacts SET stage = ?, updated_at = ? WHERE id IN (${placeholders(rows.length)})`, [
      stage,
      toSqlDate(this.deps.clock.now()),
      ...rows.map((r) => Number(r.id)),
    ]);
    const live = rows.filter((r) => r.merged_into_id === null);
    await countChanges(manager, [...live.map((r) => stageChange(r.stage, -1)), stageChange(stage, live.length)]);
  }

  /** The newest interaction time of each contact moves forward only (one statement per batch). */
  async touchLastInteraction(manager: EntityManager, latestByContact: Map<number, Date>): Promise<void> {
    if (latestByContact.size === 0) return;
    const ids = [...latestByContact.keys()];
    const at = `CASE id ${ids.map(() => 'WHEN ? THEN ?').join(' ')} END`;
    await manager.query(
      `UPDATE contacts SET last_interaction_at = ${at} WHERE id IN (${placeholders(ids.length)}) AND (last_interaction_at IS NULL OR last_interaction_at < ${at})`,
      [
        ...ids.flatMap((id) => [id, toSqlDate(latestByContact.get(id) ?? new Date(0))]),
        ...ids,
        ...ids.flatMap((id) => [id, toSqlDate(latestByContact.get(id) ?? new Date(0))]),
      ],
    );
  }
}

export function identityKey(ref: IdentityRef): string {
  return `${ref.kind}|${ref.appId}|${ref.value}`;
}

/**
 * Reads contacts and locks their rows for the rest of the transaction, in id order (a locking
 * read: MySQL returns the latest committed values, not the transaction's snapshot). SQLite has
 * one writer, which is lock enough.
 */
async function lockContacts(manager: EntityManager, ids: number[]): Promise<Map<number, Contact>> {
  const query = manager.createQueryBuilder(Contact, 'c').where('c.id IN (:...ids)', { ids }).orderBy('c.id', 'ASC');
  if (isMysqlManager(manager)) query.setLock('pessimistic_write');
  const rows = await query.getMany();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Merges only chain forward; a chain this long means the data is broken. */
const MAX_MERGE_HOPS = 16;

/**
 * Locks contact rows for the rest of the transaction, in id order (so that two writers locking
 * overlapping sets never wait on each other in a circle), and reads where each was merged. A
 * locking read: on MySQL it sees the latest committed row, not the transaction's snapshot.
 */
export async function lockContactRows(manager: EntityManager, ids: number[]): Promise<{ id: number; mergedIntoId: number | null }[]> {
  if (ids.length === 0) return [];
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const rows: { id: number | string; merged_into_id: number | string | null }[] = await manager.query(
    `SELECT id, merged_into_id FROM contacts WHERE id IN (${placeholders(sorted.length)}) ORDER BY id${isMysqlManager(manager) ? ' FOR UPDATE' : ''}`,
    sorted,
  );
  return rows.map((r) => ({ id: Number(r.id), mergedIntoId: r.merged_into_id === null ? null : Number(r.merged_into_id) }));
}

function followMerges(mergedInto: Map<number, number>, contactId: number): number {
  let id = contactId;
  for (let hops = 0; hops < MAX_MERGE_HOPS; hops += 1) {
    const next = mergedInto.get(id);
    if (next === undefined) return id;
    id = next;
  }
  throw new Error(`the merge chain of contact ${contactId} does not end`);
}

/** Per DataSource: whether a multi-row INSERT gets consecutive ids (read once). */
const consecutiveIds = new WeakMap<object, boolean>();

function sqlDateOrNull(at: Date | null): string | null {
  return at ? toSqlDate(at) : null;
}

function laterStage(a: LifecycleStage, b: LifecycleStage): LifecycleStage {
  return LIFECYCLE_STAGES.indexOf(a) >= LIFECYCLE_STAGES.indexOf(b) ? a : b;
}

interface Touch {
  source: string | null;
  at: Date | null;
}
function earliest(a: Touch, b: Touch): Touch {
  if (!a.at) return b;
  if (!b.at) return a;
  return a.at <= b.at ? a : b;
}
function latest(a: Touch, b: Touch): Touch {
  if (!a.at) return b;
  if (!b.at) return a;
  return a.at >= b.at ? a : b;
}
