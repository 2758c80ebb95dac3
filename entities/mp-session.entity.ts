import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A mini-program user's session (issue 17 §2): opened by `POST /api/mp/login` (code2Session), sent
 * back as `Authorization: Bearer <token>`. Only the token's SHA-256 is stored, so a leaked table
 * leaks no usable token. `sessionKey` is WeChat's session_key, encrypted (AES-256-GCM under a
 * stored secret): it never leaves the server.
 */
@Entity('mp_sessions')
@Index('UQ_mp_sessions_token', ['tokenHash'], { unique: true })
@Index('IDX_mp_sessions_expires', ['expiresAt'])
export class MpSession {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 64 })
  tokenHash: string;

  @Column({ type: 'int' })
  contactId: number;

  @Column({ type: 'varchar', length: 64 })
  appId: string;

  @Column({ type: 'varchar', length: 128 })
  openid: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  unionid: string | null;

  /** `v1.<iv>.<tag>.<ciphertext>` (base64url): server/modules/miniprogram/session-key-cipher.ts. */
  @Column({ type: 'varchar', length: 255 })
  sessionKey: string;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  expiresAt: Date;
}
