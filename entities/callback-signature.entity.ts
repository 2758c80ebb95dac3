import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An Official Account plain-mode signature already used, with the body it came with. In plain
 * mode `signature` covers token, timestamp and nonce but not the body, so a signed URL seen once
 * (a proxy log, a captured request) could carry any XML until its timestamp goes stale. The first
 * request with a triple claims it here; a second with the same body is WeChat's own retry, one with
 * another body is refused. Shared in the database so that every instance sees the claim. Safe and
 * compatible mode never write here: their msg_signature covers the body.
 */
@Entity('callback_signatures')
export class CallbackSignature {
  /**
   * SHA-256 (hex) of timestamp, nonce and the lower-cased signature: fixed width whatever the
   * nonce's length, and lower-case hex, so no collation can make two keys one or one key two.
   */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  signatureKey: string;

  /** SHA-256 (hex) of the raw body bytes. */
  @Column({ type: 'varchar', length: 64 })
  bodySha256: string;

  /** When the triple's timestamp leaves the freshness window (CALLBACK_MAX_AGE_S): housekeeping deletes the row after it. */
  @Index('IDX_callback_signatures_expires_at')
  @Column({ type: 'datetime', precision: 3 })
  expiresAt: Date;
}
