import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A session token (bearer header or `fw_session` cookie); only its SHA-256 is stored, so a leaked
 * table leaks no usable token.
 */
@Entity('operator_sessions')
export class OperatorSession {
  @PrimaryGeneratedColumn()
  id: number;

  @Index({ unique: true })
  @Column({ type: 'varchar', length: 64 })
  tokenHash: string;

  @Index()
  @Column({ type: 'int' })
  operatorId: number;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  expiresAt: Date;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  revokedAt: Date | null;

  /**
   * SHA-256 of the session's CSRF token (the `fw_csrf` cookie), which a cookie-authenticated
   * state-changing request must echo in X-CSRF-Token. Null for sessions opened before it existed.
   */
  @Column({ type: 'varchar', length: 64, nullable: true })
  csrfTokenHash: string | null;

  /**
   * How the operator proved who they are: `wecom` for the sidebar's WeCom OAuth sign-in, null for
   * the password (every session before the sidebar). A WeCom session never used the password, so
   * the sidebar's routes do not wait for a generated one to be changed (SIDEBAR_ACCESS).
   */
  @Column({ type: 'varchar', length: 16, nullable: true })
  openedVia: 'wecom' | null;
}
