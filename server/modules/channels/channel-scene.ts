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

/** The interaction type of a visit through a channel code (an H5 page's `?ch=`, a mini-program code's scene). */
export const CHANNEL_VISIT_TYPE = 'channel_visit';

export interface ChannelVisit {
  channelId: number;
  /** `mp`: the mini-program opened through its code; `oa`: an H5 page inside WeChat (web OAuth gave the openid). */
  channel: 'mp' | 'oa';
  /** Who visited, as the page identified them (the mini-program's openid, the web OAuth openid). */
  identity: { kind: 'oa_openid' | 'mp_openid'; appId: string; value: string };
  occurredAt: Date;
  /** The page or path visited. */
  page: string;
  /** What makes the visit one fact: the page's own visit id (a retried beacon sends the same one). */
  visitId: string;
}

/**
 * The interaction a visit through a channel is recorded as (InteractionsService.recordInteraction):
 * it carries `channelId` like a scan, so the channel reaction counts it, makes it the first/last
 * touch and applies the channel's tags. The H5 invitation pages and the mini-program (later
 * helpers) call this with the `ch` they were opened with (`channelIdFromQuery`).
 */
export function channelVisitDraft(v: ChannelVisit): {
  type: string;
  channel: 'mp' | 'oa';
  occurredAt: Date;
  identity: ChannelVisit['identity'];
  dedupeKey: string;
  detail: { channelId: number; scene: string; page: string };
} {
  return {
    type: CHANNEL_VISIT_TYPE,
    channel: v.channel,
    occurredAt: v.occurredAt,
    identity: v.identity,
    dedupeKey: `${v.channel}:visit:${v.visitId}`.slice(0, 191),
    detail: { channelId: v.channelId, scene: channelScene(v.channelId), page: v.page.slice(0, 512) },
  };
}
