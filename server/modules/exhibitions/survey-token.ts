import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Survey links' tokens: `<surveyId>.<registrationId>.<HMAC-SHA256 base64url>`, the HMAC keyed by
 * the tickets' secret over `survey.<surveyId>.<registrationId>` (the prefix keeps a survey token
 * and a ticket from ever being each other's signature). The HMAC is what makes the link name its
 * person: without the key nobody can write a token for another registration, so the answer lands
 * on the right contact without a login. Pure: the secret comes in, nothing is read.
 */

export interface SurveyClaims {
  surveyId: number;
  registrationId: number;
}

const TOKEN = /^([1-9]\d{0,9})\.([1-9]\d{0,9})\.([A-Za-z0-9_-]{43})$/;

export function signSurveyToken(secret: Buffer, claims: SurveyClaims): string {
  return `${claims.surveyId}.${claims.registrationId}.${mac(secret, claims)}`;
}

/** The claims of a well-formed token whose HMAC is right, else null (malformed or forged). */
export function verifySurveyToken(secret: Buffer, token: string): SurveyClaims | null {
  const match = TOKEN.exec(token);
  if (!match) return null;
  const claims = { surveyId: Number(match[1]), registrationId: Number(match[2]) };
  const expected = Buffer.from(mac(secret, claims), 'utf8');
  const given = Buffer.from(match[3], 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  return claims;
}

function mac(secret: Buffer, claims: SurveyClaims): string {
  return createHmac('sha256', secret).update(`survey.${claims.surveyId}.${claims.registrationId}`).digest('base64url');
}
