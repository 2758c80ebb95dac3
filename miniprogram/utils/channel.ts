/**
 * A launch through a channel's mini-program code (wxa/getwxacodeunlimit, scene `ch:<id>`): WeChat
 * hands the code's scene to the launch as `query.scene`, URL-encoded (`ch%3A12`), which is decoded
 * and reported once per launch (POST /api/mp/channel-visits) so the channel is attributed as an
 * H5 `?ch=` visit is. The answer names the channel's event (app.ts opens its page) and is kept for
 * the launch, so a registration for that event carries the channel.
 */
import { mpApi, reportKey, type ChannelEntry } from './api';

/** This launch's channel: module state lives exactly as long as the launch's JS context. */
let entry: ChannelEntry | null = null;
let reported = false;

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
 * Reports the launch's scene, once per launch: null without a scene, for a scene that is not a
 * channel's, or when the report failed (attribution is not worth an error in the user's face).
 */
export async function enterThroughChannel(query: Record<string, string | undefined> | undefined): Promise<ChannelEntry | null> {
  const scene = sceneOf(query);
  if (scene === null || reported) return null;
  reported = true;
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
