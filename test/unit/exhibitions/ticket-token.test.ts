import { newTicketKey, signTicket, verifyTicket } from '../../../server/modules/exhibitions/ticket-token';

const SECRET = Buffer.from('a-test-ticket-secret-of-32-bytes!', 'utf8');

describe('ticket tokens', () => {
  it('signs event, registration and a random key; verifying gives them back', () => {
    const key = newTicketKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const token = signTicket(SECRET, { eventId: 7, registrationId: 42, key });
    expect(token).toMatch(new RegExp(`^7\\.42\\.${key}\\.[A-Za-z0-9_-]{43}$`));
    expect(verifyTicket(SECRET, token)).toEqual({ eventId: 7, registrationId: 42, key });
  });

  it('refuses a token signed with another key, with a changed part, or malformed', () => {
    const key = newTicketKey();
    const token = signTicket(SECRET, { eventId: 7, registrationId: 42, key });
    const [event, registration, random, mac] = token.split('.');
    expect(verifyTicket(Buffer.from('another-secret-another-secret-32'), token)).toBeNull();
    expect(verifyTicket(SECRET, [event, '43', random, mac].join('.'))).toBeNull();
    expect(verifyTicket(SECRET, ['8', registration, random, mac].join('.'))).toBeNull();
    expect(verifyTicket(SECRET, [event, registration, newTicketKey(), mac].join('.'))).toBeNull();
    expect(verifyTicket(SECRET, `${token}x`)).toBeNull();
    expect(verifyTicket(SECRET, '42')).toBeNull();
    expect(verifyTicket(SECRET, '')).toBeNull();
    // The registration id alone is never a ticket.
    expect(verifyTicket(SECRET, `${event}.${registration}`)).toBeNull();
  });

  it('gives two registrations with the same ids different tokens (the random part)', () => {
    const a = signTicket(SECRET, { eventId: 1, registrationId: 1, key: newTicketKey() });
    const b = signTicket(SECRET, { eventId: 1, registrationId: 1, key: newTicketKey() });
    expect(a).not.toBe(b);
  });
});
