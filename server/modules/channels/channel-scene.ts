/**
 * How a channel names itself to the platforms: the scene `ch:<id>`, pure so the callback mapping
 * (interaction-mapping.ts) can read it without the database.
 *
 * - Official Account QR (qrcode/create, action_info.scene.scene_str, 1 to 64 characters): the
 *   subscribe event's EventKey is `qrscene_ch:<id>` (the parser strips the prefix), a SCAN's is
 *   `ch:<id>`.
 * - WeCom contact way (externalcontact/add_contact_way, `state`, at most 30 characters): the
 *   add_external_contact event's `State`.
 * - Mini-program code (wxa/getwxacodeunlimit, `scene`, at most 32 visible characters): the
 *   mini-program receives it in `onLoad(options)` as `options.scene`, URL-encoded
 *   (`ch%3A12`); the page must `decodeURIComponent(options.scene)` before sending it to us, and
 *   `parseChannelScene` decodes it too in case it arrives as sent.
 * - H5 link: `?ch=<id>` on PUBLIC_BASE_URL (`channelIdFromQuery`).
 */
export const CHANNEL_SCENE_PREFIX = 'ch:';

/** The longest id that fits the tightest limit (state, 30 characters) is far beyond int. */
export function channelScene(id: number): string {
  return `${CHANNEL_SCENE_PREFIX}${id}`;
}

/** The channel id of a scene or state, or null when it is not one of ours. */
export function parseChannelScene(scene: unknown): number | null {
  if (typeof scene !== 'string' || scene === '') return null;
  let text = scene;
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return null;
    }
  }
  const match = /^ch:([1-9]\d{0,9})$/.exec(text);
  if (!match) return null;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) && id <= 2_147_483_647 ? id : null;
}

/** An H5 page's `?ch=<id>` (or a mini-program's decoded scene passed as `ch`), or null. */
export function channelIdFromQuery(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  return /^\d+$/.test(value) ? parseChannelScene(`${CHANNEL_SCENE_PREFIX}${value}`) : parseChannelScene(value);
}
