import type { EntityManager } from 'typeorm';
import { isMysqlManager, placeholders, fromSqlDate, toSqlDate } from '../../db/sql';
import type { InteractionTypeName } from '../../../web/shared/interaction-types';
import { defineReaction, type Reaction } from '../reactions/reaction';

/**
 * The customer-service window of each follower (server/wechat/custom-message.ts for the rule,
 * entities/oa-custom-window.entity.ts for the row): opened by the window reaction below, read and
 * counted by the oa_custom driver.
 */

/**
 * The interaction types that open or renew the window, from the registry
 * (web/shared/interaction-types.ts; all inbound, on the `oa` channel): any message the follower
 * sends, a click or scan-code menu button, a follow and a QR-code scan. Not `view`,
 * `view_miniprogram`, `menu_pics`, `menu_location` nor `location_report`: the platform does not
 * open the window on them.
 */
export const CUSTOM_WINDOW_OPENERS: readonly InteractionTypeName[] = [
  'text',
  'image',
  'voice',
  'video',
  'shortvideo',
  'location',
  'link',
  'click',
  'menu_scan',
  'subscribe',
  'scan',
];

export interface CustomWindow {
  openedAt: Date;
  sentCount: number;
}

export interface WindowOpening {
  contactId: number;
  appId: string;
  openedAt: Date;
}

/**
 * Opens or renews windows in one statement. A later interaction moves `opened_at` forward and
 * starts the count again; an earlier one (a late or replayed callback, a replayed reaction)
 * changes nothing, so the write is idempotent.
 */
export async function openCustomWindows(m: EntityManager, openings: WindowOpening[], now: Date): Promise<void> {
  // One entry per (contact, account): the latest. (MySQL would apply duplicates in order, SQLite refuses them.)
  const latest = new Map<string, WindowOpening>();
  for (const o of openings) {
    const key = `${o.contactId}\n${o.appId}`;
    const held = latest.get(key);
    if (!held || held.openedAt < o.openedAt) latest.set(key, o);
  }
  const rows = [...latest.values()];
  if (rows.length === 0) return;
  const values = rows.map(() => '(?, ?, ?, 0, ?)').join(', ');
  const params = rows.flatMap((r) => [r.contactId, r.appId, toSqlDate(r.openedAt), toSqlDate(now)]);
  // MySQL applies the assignments left to right: the count is compared with opened_at before it moves.
  const sql = isMysqlManager(m)
    ? `INSERT INTO oa_custom_windows (contact_id, app_id, opened_at, sent_count, updated_at) VALUES ${values}
       ON DUPLICATE KEY UPDATE sent_count = IF(VALUES(opened_at) > opened_at, 0, sent_count),
         updated_at = IF(VALUES(opened_at) > opened_at, VALUES(updated_at), updated_at),
         opened_at = GREATEST(opened_at, VALUES(opened_at))`
    : `INSERT INTO oa_custom_windows (contact_id, app_id, opened_at, sent_count, updated_at) VALUES ${values}
       ON CONFLICT (contact_id, app_id) DO UPDATE SET
         sent_count = CASE WHEN excluded.opened_at > opened_at THEN 0 ELSE sent_count END,
         updated_at = CASE WHEN excluded.opened_at > opened_at THEN excluded.updated_at ELSE updated_at END,
         opened_at = MAX(opened_at, excluded.opened_at)`;
  await m.query(sql, params);
}

/** The windows of these contacts on one account (contacts without one are absent). */
export async function readCustomWindows(m: EntityManager, appId: string, contactIds: number[]): Promise<Map<number, CustomWindow>> {
  const ids = [...new Set(contactIds)];
  const windows = new Map<number, CustomWindow>();
  if (ids.length === 0) return windows;
  const rows: { contact_id: number | string; opened_at: unknown; sent_count: number | string }[] = await m.query(
    `SELECT contact_id, opened_at, sent_count FROM oa_custom_windows WHERE app_id = ? AND contact_id IN (${placeholders(ids.length)})`,
    [appId, ...ids],
  );
  for (const r of rows) windows.set(Number(r.contact_id), { openedAt: fromSqlDate(r.opened_at), sentCount: Number(r.sent_count) });
  return windows;
}

/**
 * Counts accepted messages against their windows, one statement per distinct window. Guarded by
 * the window the send was planned in: if the follower wrote again meanwhile, the renewed window's
 * count started afresh and is left alone (at worst one message too few is counted, and the
 * platform's 45047 then skips the extra one).
 */
export async function countCustomSends(
  m: EntityManager,
  sends: { contactId: number; appId: string; openedAt: Date }[],
  now: Date,
): Promise<void> {
  const grouped = new Map<string, { contactId: number; appId: string; openedAt: Date; n: number }>();
  for (const s of sends) {
    const key = `${s.contactId}\n${s.appId}\n${s.openedAt.getTime()}`;
    const held = grouped.get(key);
    if (held) held.n += 1;
    else grouped.set(key, { ...s, n: 1 });
  }
  for (const g of grouped.values())
    await m.query(
      'UPDATE oa_custom_windows SET sent_count = sent_count + ?, updated_at = ? WHERE contact_id = ? AND app_id = ? AND opened_at = ?',
      [g.n, toSqlDate(now), g.contactId, g.appId, toSqlDate(g.openedAt)],
    );
}

/**
 * Opens the window of a follower who did something that opens it: one upsert per reaction batch
 * for every such interaction in it (`finish`), on the Official Account's interactions only. It
 * follows merges: a window opened by a contact merged away belongs to the survivor.
 */
export function createCustomWindowReaction(deps: { appId: string; now: () => Date }): Reaction {
  return defineReaction<{ openedAt: Date }, { openings: { contactId: number; openedAt: Date }[] }>({
    name: 'oa-custom-window',
    handles: { types: CUSTOM_WINDOW_OPENERS },
    createState: () => ({ openings: [] }),
    prepare(interaction) {
      if (interaction.channel !== 'oa' || interaction.contactId === null) return Promise.resolve(null);
      return Promise.resolve({ openedAt: interaction.occurredAt });
    },
    write(_m, row, prepared, state) {
      if (row.contactId !== null) state.openings.push({ contactId: row.contactId, openedAt: prepared.openedAt });
      return Promise.resolve();
    },
    async finish(m, state, batch) {
      const openings = state.openings.map((o) => ({
        contactId: batch.survivorOf(o.contactId) ?? o.contactId,
        appId: deps.appId,
        openedAt: o.openedAt,
      }));
      await openCustomWindows(m, openings, deps.now());
    },
  });
}

/**
 * A merge moves the merged contact's windows to the survivor (its openid moves there too): per
 * account the later window wins, with its count. Both contacts are locked by the merge.
 */
export async function moveCustomWindows(m: EntityManager, mergedId: number, survivorId: number, now: Date): Promise<void> {
  const rows: { contact_id: number | string; app_id: string; opened_at: unknown; sent_count: number | string }[] = await m.query(
    'SELECT contact_id, app_id, opened_at, sent_count FROM oa_custom_windows WHERE contact_id IN (?, ?)',
    [mergedId, survivorId],
  );
  const moved = rows.filter((r) => Number(r.contact_id) === mergedId);
  if (moved.length === 0) return;
  for (const r of moved) {
    const held = rows.find((s) => Number(s.contact_id) === survivorId && s.app_id === r.app_id);
    const openedAt = fromSqlDate(r.opened_at);
    if (!held)
      await m.query('INSERT INTO oa_custom_windows (contact_id, app_id, opened_at, sent_count, updated_at) VALUES (?, ?, ?, ?, ?)', [
        survivorId,
        r.app_id,
        toSqlDate(openedAt),
        Number(r.sent_count),
        toSqlDate(now),
      ]);
    else if (fromSqlDate(held.opened_at) < openedAt)
      await m.query('UPDATE oa_custom_windows SET opened_at = ?, sent_count = ?, updated_at = ? WHERE contact_id = ? AND app_id = ?', [
        toSqlDate(openedAt),
        Number(r.sent_count),
        toSqlDate(now),
        survivorId,
        r.app_id,
      ]);
  }
  await m.query('DELETE FROM oa_custom_windows WHERE contact_id = ?', [mergedId]);
}
