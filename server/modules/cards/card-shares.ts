import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { isMysqlManager, placeholders, toSqlDate } from '../../db/sql';

/**
 * A card's share tokens and the referral chain they make (card_shares). Each viewer gets one token
 * per card, whose parent is the share they first arrived through, so "who forwarded it to whom" is
 * a walk up the parents; nothing is counted per forward. Tokens are random, never derived from ids:
 * a guessable token would let anyone write themselves into someone else's chain.
 */

/** 128 random bits, base64url (22 characters). */
const TOKEN_BYTES = 16;
/** What a token can look like; anything else is not looked up at all. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,32}$/;
/**
 * How far up a chain is walked. Parents are only ever older shares, so a chain cannot loop; the
 * bound keeps a long forwarding run (or a merge of contacts) from costing more than a few queries.
 */
export const MAX_CHAIN_DEPTH = 20;

export interface ShareRow {
  id: number;
  token: string;
  /** The holder: null for the rep's own token. */
  contactId: number | null;
  parentId: number | null;
}

/** A type, not an interface: it goes into an interaction's detail, whose records are index-typed. */
export type ChainLink = {
  contactId: number;
  name: string | null;
};

interface RawShare {
  id: number | string;
  token: string;
  contact_id: number | string | null;
  parent_id: number | string | null;
}

function shareOf(row: RawShare): ShareRow {
  return {
    id: Number(row.id),
    token: row.token,
    contactId: row.contact_id === null ? null : Number(row.contact_id),
    parentId: row.parent_id === null ? null : Number(row.parent_id),
  };
}

/**
 * The share a token names, for this card only: a token made for another card, a garbled one or an
 * unknown one is no share (the view counts as direct, never an error).
 */
export async function findShareByToken(manager: EntityManager, operatorId: number, token: string | null): Promise<ShareRow | null> {
  if (token === null || !TOKEN_PATTERN.test(token)) return null;
  const rows = await manager.query<RawShare[]>(
    'SELECT id, token, contact_id, parent_id FROM card_shares WHERE token = ? AND operator_id = ?',
    [token, operatorId],
  );
  // MariaDB's default collation compares case-insensitively: the token is checked as bytes here.
  const row = rows.find((r) => r.token === token);
  return row ? shareOf(row) : null;
}

export async function findShareById(manager: EntityManager, id: number): Promise<ShareRow | null> {
  const [row] = await manager.query<RawShare[]>('SELECT id, token, contact_id, parent_id FROM card_shares WHERE id = ?', [id]);
  return row ? shareOf(row) : null;
}

/**
 * The holder's token for this card, made on first sight with `parentId` (later calls keep the
 * first parent: how they first came). Insert-or-ignore on (card, holder), so two first views at
 * once make one. The rep's own token (holder null) is looked up first, as NULLs are never equal
 * in a unique index.
 */
export async function ensureShare(
  manager: EntityManager,
  p: { operatorId: number; contactId: number | null; parentId: number | null; now: Date },
): Promise<ShareRow> {
  const find = async () => {
    const rows = await manager.query<RawShare[]>(
      p.contactId === null
        ? 'SELECT id, token, contact_id, parent_id FROM card_shares WHERE operator_id = ? AND contact_id IS NULL ORDER BY id LIMIT 1'
        : 'SELECT id, token, contact_id, parent_id FROM card_shares WHERE operator_id = ? AND contact_id = ?',
      p.contactId === null ? [p.operatorId] : [p.operatorId, p.contactId],
    );
    return rows[0] ? shareOf(rows[0]) : null;
  };
  const found = await find();
  if (found) return found;
  const ignore = isMysqlManager(manager) ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
  await manager.query(`${ignore} INTO card_shares (token, operator_id, contact_id, parent_id, created_at) VALUES (?, ?, ?, ?, ?)`, [
    randomBytes(TOKEN_BYTES).toString('base64url'),
    p.operatorId,
    p.contactId,
    p.parentId,
    toSqlDate(p.now),
  ]);
  const made = await find();
  if (!made) throw new Error('card share neither found nor made');
  return made;
}

/**
 * The chains behind several shares at once, level by level (one query per level, at most
 * MAX_CHAIN_DEPTH): for each start, the holders from the first forwarder to the last, the start's
 * own holder included. The rep's token (no holder) is no link: it is where every chain begins.
 */
export async function chainsOf(manager: EntityManager, startIds: number[]): Promise<Map<number, ChainLink[]>> {
  const shares = new Map<number, ShareRow>();
  let wanted = [...new Set(startIds)];
  for (let depth = 0; depth < MAX_CHAIN_DEPTH && wanted.length > 0; depth += 1) {
    const rows = await manager.query<RawShare[]>(
      `SELECT id, token, contact_id, parent_id FROM card_shares WHERE id IN (${placeholders(wanted.length)})`,
      wanted,
    );
    for (const row of rows) shares.set(Number(row.id), shareOf(row));
    wanted = [...new Set(rows.flatMap((row) => (row.parent_id === null ? [] : [Number(row.parent_id)])))].filter((id) => !shares.has(id));
  }
  const holdersOf = (startId: number): number[] => {
    const holders: number[] = [];
    let current = shares.get(startId);
    for (let depth = 0; current && depth < MAX_CHAIN_DEPTH; depth += 1) {
      if (current.contactId !== null) holders.push(current.contactId);
      current = current.parentId === null ? undefined : shares.get(current.parentId);
    }
    return holders.reverse();
  };
  const holders = new Map(startIds.map((id) => [id, holdersOf(id)]));
  const names = await contactNames(manager, [...holders.values()].flat());
  return new Map([...holders].map(([id, chain]) => [id, chain.map((contactId) => ({ contactId, name: names.get(contactId) ?? null }))]));
}

/** The names the rep knows contacts by (their remark first), for chains and notifications. */
export async function contactNames(manager: EntityManager, ids: number[]): Promise<Map<number, string | null>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await manager.query<{ id: number | string; remark: string | null; name: string | null }[]>(
    `SELECT id, remark, name FROM contacts WHERE id IN (${placeholders(unique.length)})`,
    unique,
  );
  return new Map(rows.map((row) => [Number(row.id), row.remark ?? row.name]));
}
