import { loadStoredSecret } from '../../db/stored-secret';
import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Clock } from '../../adapters/clock';

/** What a tracked link carries: the message it was in (run, node), its contact, where it leads. */
export interface TrackedLink {
  journeyId: number;
  runId: number;
  nodeId: string;
  contactId: number;
  /** The outbox channel of the message (oa_template, sms ...): an open on it makes it preferred. */
  channel: string;
  target: string;
  /** Unix seconds after which the code is refused. */
  expiresAt: number;
}

/** Links stay valid this long after the send: far past any wait, short of forever. */
export const LINK_TTL_SECONDS = 180 * 86_400;
const SIGNATURE_BYTES = 16;
const SECRET_SETTING = 'links.hmac_secret';

/**
 * Signs and reads tracked-link codes: `<payload>.<signature>`, both base64url, the signature an
 * HMAC-SHA256 (first 128 bits) of the payload. Unguessable because unforgeable: a code names only
 * what Flywheel signed, so changing the run, the contact or the target (an open redirect) fails the
 * check. Stateless: nothing is written per link, and a click needs no lookup to be verified.
 */
export class LinkSigner {
  constructor(private readonly secret: Buffer) {
    if (secret.length < 32) throw new Error('the link secret must be at least 32 bytes');
  }

  sign(link: TrackedLink): string {
    const payload = Buffer.from(
      JSON.stringify([link.journeyId, link.runId, link.nodeId, link.contactId, link.channel, link.expiresAt, link.target]),
    ).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The link, or null when the code is malformed, forged or expired. */
  verify(code: string, nowMs: number): TrackedLink | null {
    const dot = code.indexOf('.');
    if (dot <= 0 || code.length > 4096) return null;
    const payload = code.slice(0, dot);
    const given = Buffer.from(code.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(payload), 'base64url');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
    let fields: unknown;
    try {
      fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (!Array.isArray(fields) || fields.length !== 7) return null;
    const [journeyId, runId, nodeId, contactId, channel, expiresAt, target] = fields as unknown[];
    if (typeof journeyId !== 'number' || typeof runId !== 'number' || typeof contactId !== 'number') return null;
    if (typeof nodeId !== 'string' || typeof channel !== 'string' || typeof target !== 'string' || typeof expiresAt !== 'number')
      return null;
    if (!/^https?:\/\//.test(target) || expiresAt * 1000 < nowMs) return null;
    return { journeyId, runId, nodeId, contactId, channel, target, expiresAt };
  }

  private mac(payload: string): string {
    return crypto.createHmac('sha256', this.secret).update(payload).digest().subarray(0, SIGNATURE_BYTES).toString('base64url');
  }
}

/**
 * The links' secret. LINK_SECRET when configured (production: set it, and keep it across
 * deployments, or every link already sent stops working). Without it, a random 32-byte secret is
 * made on first use and kept in `settings` (`links.hmac_secret`), shared by every instance through
 * the database: never a published constant, so even in sandbox mode nobody can forge a click.
 * Two instances making one at once insert-or-ignore and both read the winner.
 */
export async function loadLinkSecret(p: { dataSource: DataSource; clock: Clock; configured: string | null }): Promise<Buffer> {
  return loadStoredSecret({ ...p, setting: SECRET_SETTING });
}
