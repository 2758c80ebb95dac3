import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A bearer token; only its SHA-256 is stored, so a leaked table leaks no usable token. */
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
}
