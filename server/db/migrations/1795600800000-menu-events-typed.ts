import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The menu tools' pushes recorded before they were parsed (type `unknown`, their fields under XML
 * names, nested elements as JSON text) become the types they are recorded as now: `menu_scan`,
 * `menu_pics`, `menu_location`, `view_miniprogram`, with the same detail fields. A row whose
 * nested JSON was cut at the field limit stays `unknown`: nothing is guessed. The dedupe key does
 * not change (it was, and is, the body's digest), nor the channel the dashboard counts. Written
 * out here rather than imported, so that later changes to the mapping cannot change what this
 * migration did.
 */
export class MenuEventsTyped1795600800000 implements MigrationInterface {
  name = 'MenuEventsTyped1795600800000';

  async up(q: QueryRunner): Promise<void> {
    let after = 0;
    for (;;) {
      const rows = (await q.query("SELECT id, detail FROM interactions WHERE type = 'unknown' AND id > ? ORDER BY id LIMIT 500", [after])) as { id: number | string; detail: unknown }[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const typed = typedMenuEvent(parseDetail(row.detail));
        if (typed) await q.query('UPDATE interactions SET type = ?, detail = ? WHERE id = ?', [typed.type, JSON.stringify(typed.detail), row.id]);
      }
      after = Number(rows[rows.length - 1].id);
    }
  }

  async down(): Promise<void> {
    // The rows keep their new types: the code before this release recorded these pushes as
    // `unknown`, and reads either type alike on the timeline.
  }
}

type Json = Record<string, unknown>;

function parseDetail(detail: unknown): Json | null {
  try {
    const value: unknown = typeof detail === 'string' ? JSON.parse(detail) : detail;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    // Not JSON: not a row this migration understands; it stays as it is.
    return null;
  }
}

/** A nested element the old mapping kept as JSON text; null when it is missing or was cut. */
function nested(detail: Json, name: string): Json | null {
  const text = detail[name];
  if (typeof text !== 'string') return null;
  return parseDetail(text);
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]);
const PICS_SOURCES: Record<string, string> = { pic_sysphoto: 'sysphoto', pic_photo_or_album: 'photo_or_album', pic_weixin: 'weixin' };

function typedMenuEvent(detail: Json | null): { type: string; detail: Json } | null {
  if (!detail || detail.msgType !== 'event' || typeof detail.event !== 'string') return null;
  const event = detail.event.toLowerCase();
  // The flag a body with invalid UTF-8 carried stays with it.
  const base = { openid: detail.openid ?? null, menuKey: text(detail.EventKey), ...(detail.invalidUtf8 === true ? { invalidUtf8: true } : {}) };
  if (event === 'scancode_push' || event === 'scancode_waitmsg') {
    const info = nested(detail, 'ScanCodeInfo');
    if (!info || typeof info.ScanResult !== 'string') return null;
    return { type: 'menu_scan', detail: { ...base, scanType: text(info.ScanType), scanResult: info.ScanResult, waitMsg: event === 'scancode_waitmsg' } };
  }
  if (event in PICS_SOURCES) {
    const info = nested(detail, 'SendPicsInfo');
    if (!info) return null;
    const items = list(info.PicList).flatMap((picList) => list((picList as Json | null)?.item));
    const picMd5Sums = items.map((item) => text((item as Json | null)?.PicMd5Sum));
    const count = Number(info.Count);
    return { type: 'menu_pics', detail: { ...base, source: PICS_SOURCES[event], count: Number.isFinite(count) && text(info.Count) !== '' ? count : picMd5Sums.length, picMd5Sums } };
  }
  if (event === 'location_select') {
    const info = nested(detail, 'SendLocationInfo');
    const latitude = Number(text(info?.Location_X).trim() || NaN);
    const longitude = Number(text(info?.Location_Y).trim() || NaN);
    if (!info || !Number.isFinite(latitude) || !Number.isFinite(longitude)) return null;
    const scale = Number(text(info.Scale).trim() || 0);
    return {
      type: 'menu_location',
      detail: { ...base, latitude, longitude, scale: Number.isFinite(scale) ? scale : 0, label: text(info.Label), poiname: text(info.Poiname) },
    };
  }
  if (event === 'view_miniprogram') {
    return { type: 'view_miniprogram', detail: { ...base, pagePath: base.menuKey, menuId: typeof detail.MenuId === 'string' && detail.MenuId.trim() !== '' ? detail.MenuId : null } };
  }
  return null;
}
