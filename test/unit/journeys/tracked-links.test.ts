import crypto from 'node:crypto';
import { LinkSigner, type TrackedLink } from '../../../server/modules/journeys/tracked-links';

const link: TrackedLink = {
  journeyId: 3,
  runId: 42,
  nodeId: 'push1',
  contactId: 7,
  channel: 'oa_template',
  target: 'https://example.com/offer',
  expiresAt: 2_000_000_000,
};

describe('tracked-link codes', () => {
  const signer = new LinkSigner(crypto.randomBytes(32));

  it('reads back what it signed', () => {
    expect(signer.verify(signer.sign(link), Date.now())).toEqual(link);
  });

  it('refuses a changed target (no open redirect), a changed run, another key, and an expired code', () => {
    const [, mac] = signer.sign(link).split('.');
    const forge = (changes: Partial<TrackedLink>) => {
      const l = { ...link, ...changes };
      const payload = Buffer.from(JSON.stringify([l.journeyId, l.runId, l.nodeId, l.contactId, l.channel, l.expiresAt, l.target])).toString(
        'base64url',
      );
      return `${payload}.${mac}`;
    };
    expect(signer.verify(forge({ target: 'https://evil.example/' }), Date.now())).toBeNull();
    expect(signer.verify(forge({ runId: 43 }), Date.now())).toBeNull();
    expect(new LinkSigner(crypto.randomBytes(32)).verify(signer.sign(link), Date.now())).toBeNull();
    expect(signer.verify(signer.sign({ ...link, expiresAt: 1 }), Date.now())).toBeNull();
    expect(signer.verify('garbage', Date.now())).toBeNull();
    expect(signer.verify('.', Date.now())).toBeNull();
  });

  it('refuses a short key', () => {
    expect(() => new LinkSigner(Buffer.alloc(16))).toThrow();
  });
});
