/**
 * The public pages' routes, read from the path (history routing: the server answers the page's
 * HTML for every /e/… path, so a ticket link opened later, or shared, lands on the ticket itself):
 *   /e/:eventId                  the invitation page (?ch=<channelId> attributes the visit)
 *   /e/:eventId/ticket/:token    one ticket, re-openable
 *   /e/offer/:productId          a product on offer (the trial offer 一元体验), paid with WeChat Pay
 *                                (an event id is a number, so `offer` names no event)
 *   /e/:eventId/cloud            the cloud exhibition (云展厅) and its online consult (?ch= too)
 *   /e/:eventId/survey?t=<token> the satisfaction survey of the link's person (the page reads ?t)
 * A hand-written matcher instead of vue-router: five routes do not need 10 KB of router.
 */
export type MobileRoute =
  | { name: 'event'; eventId: string }
  | { name: 'ticket'; eventId: string; token: string }
  | { name: 'offer'; productId: string }
  | { name: 'cloud'; eventId: string }
  | { name: 'survey'; eventId: string }
  | { name: 'not_found' };

export function routeOf(pathname: string): MobileRoute {
  const parts = pathname.split('/').filter((part) => part !== '');
  if (parts[0] !== 'e' || !parts[1]) return { name: 'not_found' };
  const eventId = safeDecode(parts[1]);
  if (eventId === null) return { name: 'not_found' };
  if (eventId === 'offer')
    return parts.length === 3 && /^[1-9]\d{0,9}$/.test(parts[2] ?? '')
      ? { name: 'offer', productId: parts[2] ?? '' }
      : { name: 'not_found' };
  if (parts.length === 2) return { name: 'event', eventId };
  if (parts.length === 3 && parts[2] === 'cloud') return { name: 'cloud', eventId };
  if (parts.length === 3 && parts[2] === 'survey') return { name: 'survey', eventId };
  if (parts.length === 4 && parts[2] === 'ticket') {
    const token = safeDecode(parts[3] ?? '');
    if (token) return { name: 'ticket', eventId, token };
  }
  return { name: 'not_found' };
}

export const eventPath = (eventId: string): string => `/e/${encodeURIComponent(eventId)}`;
export const cloudPath = (eventId: string): string => `${eventPath(eventId)}/cloud`;
export const ticketPath = (eventId: string, token: string): string => `${eventPath(eventId)}/ticket/${encodeURIComponent(token)}`;

/** `?ch=` as the visit and the registration carry it: a channel id, or nothing for anything else. */
export function channelIdOf(search: string): number | undefined {
  const ch = new URLSearchParams(search).get('ch');
  return ch !== null && /^[1-9]\d{0,9}$/.test(ch) ? Number(ch) : undefined;
}

function safeDecode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}
