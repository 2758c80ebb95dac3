/**
 * What the page keeps in this browser's localStorage: the visitor id (a random id, so the report
 * counts visitors rather than page loads) and the ticket of each event registered from here, so a
 * visitor who comes back to the invitation finds the ticket again. Private modes that refuse
 * storage get a fresh id per load: the visit still counts, only once per load.
 */
const VISITOR_KEY = 'fw_visitor';
const ticketKey = (eventId: string): string => `fw_ticket:${eventId}`;

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Storage refused (a private window): nothing to keep.
  }
}

export function visitorId(): string {
  const known = read(VISITOR_KEY);
  if (known && /^[\w-]{8,64}$/.test(known)) return known;
  // getRandomValues, not randomUUID: the latter exists only on https pages, and a site may be
  // served over plain http behind a proxy.
  const fresh = Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
  write(VISITOR_KEY, fresh);
  return fresh;
}

export const savedTicket = (eventId: string): string | null => read(ticketKey(eventId));
export const saveTicket = (eventId: string, token: string | null): void => write(ticketKey(eventId), token);
