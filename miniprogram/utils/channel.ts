/**
 * An entry through a channel's mini-program code (wxa/getwxacodeunlimit, scene `ch:<id>`): WeChat
 * hands the code's scene to App.onShow as `query.scene`, URL-encoded (`ch%3A12`), which is decoded
 * and reported once per code scanned (POST /api/mp/channel-visits) so the channel is attributed as
 * an H5 `?ch=` visit is. The answer names the channel's event (app.ts opens its page) and is kept,
 * so a registration for that event carries the channel.
 */
import { mpApi, reportKey, type ChannelEntry } from './api';

/** The last channel entered: module state lives exactly as long as the launch's JS context. */
let entry: ChannelEntry | null = null;
/**
 * The scene last reported. Coming back to the foreground without a new scan shows the same entry
 * again, which is no new visit; a different code scanned while in the background is one.
 */
let reportedScene: string | null = null;

/** The decoded scene of a launch's query, or null without one (or with one that does not decode). */
export function sceneOf(query: Record<string, string | undefined> | undefined): string | null {
  const raw = query?.scene;
  if (!raw) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/**
 * Reports an entry's scene, once per code: null without a scene, for the scene reported last, for
 * a scene that is not a channel's, or when the report failed (attribution is not worth an error in
 * the user's face).
 */
export async function enterThroughChannel(query: Record<string, string | undefined> | undefined): Promise<ChannelEntry | null> {
  const scene = sceneOf(query);
  if (scene === null || scene === reportedScene) return null;
  reportedScene = scene;
  try {
    entry = await mpApi.channelVisit({ scene, launchId: reportKey() });
    return entry;
  } catch {
    return null;
  }
}

/** The launch's channel for a registration of `eventId`: the channel's own event, or any when it names none. */
export function channelIdFor(eventId: string | number): number | null {
  if (!entry) return null;
  return entry.eventId === null || entry.eventId === Number(eventId) ? entry.channelId : null;
}
