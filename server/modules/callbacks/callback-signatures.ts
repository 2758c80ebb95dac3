import { createHash } from 'node:crypto';
import { LessThan, type DataSource } from 'typeorm';
import { CallbackSignature } from '../../../entities/callback-signature.entity';
import type { Transactor } from '../../db/transaction';

export interface ClaimSignatureParams {
  timestamp: string;
  nonce: string;
  /** The query's `signature`, already verified (any letter case: the check lower-cases it). */
  signature: string;
  body: Buffer;
  /** When the timestamp leaves the freshness window; the claim is kept until then. */
  expiresAt: Date;
}

/**
 * The Official Account plain-mode replay guard (table callback_signatures). Shared in the
 * database, so a captured URL replayed to another instance meets the same claim.
 */
export class CallbackSignatures {
  constructor(private readonly deps: { dataSource: DataSource; transactor: Transactor }) {}

  /**
   * True when the signature is this body's: the first request with it, or the same bytes again,
   * which is WeChat retrying after 5 s without an answer ("总共重试三次", the same request) and goes
   * on to the dedupe key like any retry. False when the signature came with another body first,
   * which only someone who saw the signed URL can send.
   *
   * Insert-or-ignore, then read back: two first requests racing (two instances, or a retry
   * overtaking the first) both compare against the one row that won, and neither meets a
   * duplicate-key error. Through the Transactor so that on SQLite the statements never land inside
   * another caller's open transaction (one shared connection), whose rollback would take the claim
   * with it; READ COMMITTED so that MySQL's read sees the row the race's winner committed.
   */
  async claim(p: ClaimSignatureParams): Promise<boolean> {
    const signatureKey = sha256Hex(`${p.timestamp}\n${p.nonce}\n${p.signature.toLowerCase()}`);
    const bodySha256 = sha256Hex(p.body);
    return this.deps.transactor.run(
      async (m) => {
        await m
          .createQueryBuilder()
          .insert()
          .into(CallbackSignature)
          .values({ signatureKey, bodySha256, expiresAt: p.expiresAt })
          .orIgnore()
          .updateEntity(false)
          .execute();
        const row = await m.findOneBy(CallbackSignature, { signatureKey });
        return row !== null && row.bodySha256 === bodySha256;
      },
      { readCommitted: true },
    );
  }

  /** Housekeeping: claims whose timestamps can no longer pass the freshness check. */
  async prune(before: Date): Promise<number> {
    const result = await this.deps.dataSource.manager.delete(CallbackSignature, { expiresAt: LessThan(before) });
    return result.affected ?? 0;
  }
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
