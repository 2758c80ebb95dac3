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
}
