import type { EntityManager } from 'typeorm';
import { isMysqlManager, placeholders } from '../../db/sql';

/**
 * The admin list's text search by pieces (n-grams) that an index holds: every piece of
 * two and three characters of a contact's name, the operator's remark, its phone numbers (digits)
 * and the last OPENID_TAIL characters of its openids and external_userid, one
 * contact_search_terms row each. A search for "王总" is then one index range (term, contact_id)
 * in id order; a longer text is the pieces of three characters it is made of, the rarest walked
 * in id order and the others checked beside it (ContactsQueryService). Chinese names are two to
 * four characters, hence pieces of two; digits and letters repeat, hence pieces of three, which
 * narrow a phone or an openid tail to a handful of contacts. Names and remarks also keep each
 * character alone, for a search by surname.
 *
 * A contact matches when its pieces hold every piece of the search: "part of" a name, remark or
 * phone anywhere, and of an openid within its last 8 characters (the page shows the last 4; a
 * whole openid or its beginning is found through contact_identities).
 */

/** The openid characters searched by piece: the page shows the last four of them. */
export const OPENID_TAIL = 8;

/** Identity kinds whose value's tail is searched (phone numbers are searched whole). */
const TAIL_KINDS = new Set(['oa_openid', 'mp_openid', 'external_userid']);

/** What a contact can be found by. */
export interface SearchableContact {
  name: string | null;
  remark: string | null;
  /** The phone typed by an operator. */
  phone: string | null;
  identities: { kind: string; value: string }[];
}

/** Text as it is compared: NFKC (full-width letters and digits become ASCII), lower case, no spaces or dashes. */
export function normalizeSearchText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\-_()（）.·]/g, '');
}

/** The digits of a phone number as searched: a mainland number without its +86, others without the +. */
export function phoneDigits(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  const mainland = /^(?:86)?(1[3-9]\d{9})$/.exec(digits);
  return mainland ? mainland[1] : digits;
}

/**
 * Every piece of two and of three characters (code points, so a CJK character counts as one), and
 * of one with `singles` (names and remarks: "李" finds 李雷).
 */
function piecesOf(text: string, singles = false): string[] {
  const chars = [...text];
  const pieces: string[] = singles ? [...chars] : [];
  for (let i = 0; i + 2 <= chars.length; i += 1) pieces.push(chars.slice(i, i + 2).join(''));
  for (let i = 0; i + 3 <= chars.length; i += 1) pieces.push(chars.slice(i, i + 3).join(''));
  return pieces;
}

/** The terms a contact is stored under. Pure. */
export function searchTermsOf(contact: SearchableContact): string[] {
  const texts = [contact.name, contact.remark].filter((text) => text !== null).map(normalizeSearchText);
  const phones = [contact.phone, ...contact.identities.filter((i) => i.kind === 'phone').map((i) => i.value)]
    .filter((phone) => phone !== null)
    .map(phoneDigits);
  const tails = contact.identities.filter((i) => TAIL_KINDS.has(i.kind)).map((i) => normalizeSearchText(i.value).slice(-OPENID_TAIL));
  return [...new Set([...texts.flatMap((text) => piecesOf(text, true)), ...[...phones, ...tails].flatMap((text) => piecesOf(text))])];
}

/** The terms a search must all find: the text itself when it is one or two characters, else its pieces of three. */
export function queryTermsOf(q: string): string[] {
  const compact = normalizeSearchText(q);
  // A phone, whole or in part: "+86 138" is the beginning of a mainland number.
  const text = /^\+?[\d\s-]+$/.test(q.trim()) ? phoneDigits(compact.replace(/^\+86/, '')) : compact;
  const chars = [...text];
  if (chars.length === 0) return [];
  if (chars.length <= 2) return [text];
  return [...new Set(piecesOf(text).filter((piece) => [...piece].length === 3))];
}

/** Rows per INSERT statement. */
const INSERT_CHUNK = 500;

/**
 * Writes the search terms of these contacts again from their rows and identities: deletes the
 * terms they no longer have and adds the new ones (insert-or-ignore, so a repeat or a concurrent
 * writer changes nothing). Called in the transaction of every change to a name, remark, phone
 * or identity: contact creation, profile fetch, identity link, merge, the operator's edit. A
 * merged contact keeps no identities and is hidden from the list, so it keeps no terms either.
 */
export async function refreshSearchTerms(manager: EntityManager, contactIds: number[]): Promise<void> {
  const ids = [...new Set(contactIds)];
  if (ids.length === 0) return;
  // The contacts with their identities in one read (a contact without any comes once, with nulls).
  const rows: {
    id: number | string;
    name: string | null;
    remark: string | null;
    phone: string | null;
    merged_into_id: unknown;
    kind: string | null;
    value: string | null;
  }[] = await manager.query(
    'SELECT c.id, c.name, c.remark, c.phone, c.merged_into_id, i.kind, i.value FROM contacts c ' +
      `LEFT JOIN contact_identities i ON i.contact_id = c.id WHERE c.id IN (${placeholders(ids.length)})`,
    ids,
  );
  const existing: { contact_id: number | string; term: string }[] = await manager.query(
    `SELECT contact_id, term FROM contact_search_terms WHERE contact_id IN (${placeholders(ids.length)})`,
    ids,
  );
  const contacts = new Map<number, SearchableContact & { merged: boolean }>();
  for (const row of rows) {
    const id = Number(row.id);
    const contact = contacts.get(id) ?? {
      name: row.name,
      remark: row.remark,
      phone: row.phone,
      merged: row.merged_into_id !== null,
      identities: [],
    };
    if (row.kind !== null && row.value !== null) contact.identities.push({ kind: row.kind, value: row.value });
    contacts.set(id, contact);
  }
  const wanted = new Map<number, Set<string>>();
  for (const [id, contact] of contacts) wanted.set(id, new Set(contact.merged ? [] : searchTermsOf(contact)));
  const had = new Map<number, Set<string>>();
  for (const row of existing) {
    const id = Number(row.contact_id);
    const set = had.get(id) ?? new Set<string>();
    set.add(row.term);
    had.set(id, set);
  }
  for (const [id, terms] of had) {
    const gone = [...terms].filter((term) => !wanted.get(id)?.has(term));
    for (let i = 0; i < gone.length; i += INSERT_CHUNK) {
      const chunk = gone.slice(i, i + INSERT_CHUNK);
      await manager.query(`DELETE FROM contact_search_terms WHERE contact_id = ? AND term IN (${placeholders(chunk.length)})`, [
        id,
        ...chunk,
      ]);
    }
  }
  const added = [...wanted].flatMap(([id, terms]) => [...terms].filter((term) => !had.get(id)?.has(term)).map((term) => [term, id]));
  await insertSearchTerms(manager, added);
}

/**
 * The terms of contacts just created from one identity each: derived from the identity alone (a
 * new contact has no name, remark or phone yet), so the callback that creates them writes one
 * INSERT instead of refreshSearchTerms' two reads and its INSERT.
 */
export async function insertNewContactTerms(
  manager: EntityManager,
  created: { contactId: number; kind: string; value: string }[],
): Promise<void> {
  await insertSearchTerms(
    manager,
    created.flatMap((c) =>
      searchTermsOf({ name: null, remark: null, phone: null, identities: [{ kind: c.kind, value: c.value }] }).map((term) => [
        term,
        c.contactId,
      ]),
    ),
  );
}

/** Insert-or-ignore of (term, contact_id) pairs: MySQL's case-insensitive collation may also find a pair "already there". */
export async function insertSearchTerms(manager: EntityManager, rows: (string | number)[][]): Promise<void> {
  const verb = isMysqlManager(manager) ? 'INSERT IGNORE INTO' : 'INSERT OR IGNORE INTO';
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    await manager.query(`${verb} contact_search_terms (term, contact_id) VALUES ${chunk.map(() => '(?, ?)').join(', ')}`, chunk.flat());
  }
}
