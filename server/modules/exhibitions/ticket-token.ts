import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Ticket tokens: `<eventId>.<registrationId>.<random 16 bytes base64url>.<HMAC-SHA256 base64url>`,
 * the HMAC keyed by TICKET_SECRET over the first three parts. The random part makes a token
 * unguessable even to someone who knows the ids; the HMAC makes it unforgeable. Pure: the secret
 * comes in, nothing is read.
 */

export interface TicketClaims {
  eventId: number;
  registrationId: number;
  /** The random part, compared with the registration's ticket_key (a re-issued ticket has a new one). */
  key: string;
}

const TOKEN = /^([1-9]\d{0,9})\.([1-9]\d{0,9})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** 16 random bytes in base64url (22 characters). */
export function newTicketKey(): string {
  return randomBytes(16).toString('base64url');
}

export function signTicket(secret: Buffer, claims: TicketClaims): string {
  const body = `${claims.eventId}.${claims.registrationId}.${claims.key}`;
  return `${body}.${mac(secret, body)}`;
}

/** The claims of a well-formed token whose HMAC is right, else null (malformed or forged). */
export function verifyTicket(secret: Buffer, token: string): TicketClaims | null {
  const match = TOKEN.exec(token);
  if (!match) return null;
  const body = `${match[1]}.${match[2]}.${match[3]}`;
  const expected = Buffer.from(mac(secret, body), 'utf8');
  const given = Buffer.from(match[4], 'utf8');
  // Both are 43 characters by the pattern; compared in constant time all the same.
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  return { eventId: Number(match[1]), registrationId: Number(match[2]), key: match[3] };
}

function mac(secret: Buffer, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}
