import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { Contact, LIFECYCLE_STAGES, type LifecycleStage } from '../../../entities/contact.entity';
import { ContactIdentity, type IdentityKind } from '../../../entities/contact-identity.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import type { Clock } from '../../adapters/clock';
import { insertReturningId, placeholders, toSqlDate } from '../../db/sql';

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
    const contactId = await insertReturningId(manager, "INSERT INTO contacts (stage, score, created_at, updated_at) VALUES ('acquired', 0, ?, ?)", [now, now]);
    await manager.query('INSERT INTO contact_identities (contact_id, kind, app_id, value, created_at) VALUES (?, ?, ?, ?, ?)', [contactId, ref.kind, ref.appId, ref.value, now]);
    return { contactId, created: true };
  }

  /**
   * resolveContact for many identities at once (a group commit of callbacks): one SELECT per
   * (kind, app), then the missing contacts are created one by one. Keyed by identityKey().
   */
  async resolveContacts(manager: EntityManager, refs: IdentityRef[]): Promise<Map<string, number>> {
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
    for (const ref of refs) {
      if (!found.has(identityKey(ref))) found.set(identityKey(ref), (await this.resolveContact(manager, ref)).contactId);
    }
    return found;
  }

  /**
   * Gives a contact one more identity. When another contact already holds it (a unionid that
   * links an Official Account follower to a WeCom external contact), the two become one.
   * Returns the id of the contact that holds the identity afterwards.
   */
  async linkIdentity(manager: EntityManager, contactId: number, ref: IdentityRef): Promise<number> {
    const holder = await this.findContactId(manager, ref);
    if (holder === contactId) return contactId;
    if (holder !== null) return this.mergeContacts(manager, contactId, holder);
    await manager.insert(ContactIdentity, { ...ref, contactId, createdAt: this.deps.clock.now() });
    return contactId;
  }

  /** Merges two contacts; the older one survives and inherits identities, timeline, tags and points. */
  async mergeContacts(manager: EntityManager, a: number, b: number): Promise<number> {
    if (a === b) return a;
    const [survivorId, mergedId] = a < b ? [a, b] : [b, a];
    const [survivor, merged] = await Promise.all([
      manager.findOneByOrFail(Contact, { id: survivorId }),
      manager.findOneByOrFail(Contact, { id: mergedId }),
    ]);

    await manager.update(ContactIdentity, { contactId: mergedId }, { contactId: survivorId });
    await manager.update(Interaction, { contactId: mergedId }, { contactId: survivorId });
    await manager.update(ScoreLedger, { contactId: mergedId }, { contactId: survivorId });
    const survivorTags = await manager.find(ContactTag, { where: { contactId: survivorId }, select: { tagId: true } });
    const held = survivorTags.map((t) => t.tagId);
    if (held.length > 0) await manager.delete(ContactTag, { contactId: mergedId, tagId: In(held) });
    await manager.update(ContactTag, { contactId: mergedId }, { contactId: survivorId });

    const now = this.deps.clock.now();
    const first = earliest(
      { source: survivor.firstSource, at: survivor.firstSourceAt },
      { source: merged.firstSource, at: merged.firstSourceAt },
    );
    const last = latest(
      { source: survivor.lastSource, at: survivor.lastSourceAt },
      { source: merged.lastSource, at: merged.lastSourceAt },
    );
    await manager.update(Contact, survivorId, {
      name: survivor.name ?? merged.name,
      avatarUrl: survivor.avatarUrl ?? merged.avatarUrl,
      score: survivor.score + merged.score,
      stage: laterStage(survivor.stage, merged.stage),
      firstSource: first.source,
      firstSourceAt: first.at,
      lastSource: last.source,
      lastSourceAt: last.at,
      ownerUserId: survivor.ownerUserId ?? merged.ownerUserId,
      updatedAt: now,
    });
    await manager.update(Contact, mergedId, { mergedIntoId: survivorId, score: 0, updatedAt: now });
    return survivorId;
  }

  /** Fills the profile from the platform; empty values never overwrite known ones. */
  async updateProfile(manager: EntityManager, contactId: number, profile: { name?: string | null; avatarUrl?: string | null; ownerUserId?: string | null }): Promise<void> {
    const changes: Partial<Contact> = {};
    if (profile.name) changes.name = profile.name.slice(0, 128);
    if (profile.avatarUrl) changes.avatarUrl = profile.avatarUrl.slice(0, 512);
    if (profile.ownerUserId) changes.ownerUserId = profile.ownerUserId;
    if (Object.keys(changes).length === 0) return;
    await manager.update(Contact, contactId, { ...changes, updatedAt: this.deps.clock.now() });
  }

  /** First-touch stays the first channel ever seen; last-touch follows the newest. */
  async recordSource(manager: EntityManager, contactId: number, source: string, at: Date): Promise<void> {
    const contact = await manager.findOneByOrFail(Contact, { id: contactId });
    const changes: Partial<Contact> = {};
    if (!contact.firstSourceAt || at < contact.firstSourceAt) Object.assign(changes, { firstSource: source, firstSourceAt: at });
    if (!contact.lastSourceAt || at >= contact.lastSourceAt) Object.assign(changes, { lastSource: source, lastSourceAt: at });
    if (Object.keys(changes).length > 0) await manager.update(Contact, contactId, { ...changes, updatedAt: this.deps.clock.now() });
  }

  /** Stages only move forward (AARRR): one conditional UPDATE for all the contacts, no read. */
  async advanceStage(manager: EntityManager, contactIds: number[], stage: LifecycleStage): Promise<void> {
    const earlier = LIFECYCLE_STAGES.slice(0, LIFECYCLE_STAGES.indexOf(stage));
    if (earlier.length === 0 || contactIds.length === 0) return;
    await manager.query(`UPDATE contacts SET stage = ?, updated_at = ? WHERE id IN (${placeholders(contactIds.length)}) AND stage IN (${placeholders(earlier.length)})`, [
      stage,
      toSqlDate(this.deps.clock.now()),
      ...contactIds,
      ...earlier,
    ]);
  }
}

export function identityKey(ref: IdentityRef): string {
  return `${ref.kind}|${ref.appId}|${ref.value}`;
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
